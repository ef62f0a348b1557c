//! Recently verified credentials, so a client sending the same
//! `Authorization` on every request pays for one hash verification per TTL
//! (per instance) instead of one per request.
//!
//! Entries are keyed by SHA-256(per-instance random salt ‖ user ‖ 0 ‖
//! password): the instance's memory holds no password and no unsalted hash
//! of one. Only successes are cached, so a wrong password always costs a
//! full verification. The cache lives in the instance: a config reload
//! (changed or removed users) starts with empty caches.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

pub struct VerifiedCache {
    salt: [u8; 16],
    ttl: Duration,
    capacity: usize,
    /// key -> (user index, expiry)
    entries: HashMap<[u8; 32], (usize, Instant)>,
}

impl VerifiedCache {
    pub fn new(ttl: Duration, capacity: usize) -> Result<VerifiedCache, String> {
        let mut salt = [0u8; 16];
        getrandom::fill(&mut salt).map_err(|e| format!("no randomness for the cache salt: {e}"))?;
        Ok(VerifiedCache {
            salt,
            ttl,
            capacity,
            entries: HashMap::new(),
        })
    }

    pub fn key(&self, user: &str, password: &[u8]) -> [u8; 32] {
        let mut hasher = Sha256::new();
        hasher.update(self.salt);
        hasher.update(user.as_bytes());
        hasher.update([0]);
        hasher.update(password);
        hasher.finalize().into()
    }

    /// The user index of a live entry.
    pub fn get(&mut self, key: &[u8; 32], now: Instant) -> Option<usize> {
        match self.entries.get(key) {
            Some(&(user, expires)) if now < expires => Some(user),
            Some(_) => {
                self.entries.remove(key);
                None
            }
            None => None,
        }
    }

    pub fn insert(&mut self, key: [u8; 32], user: usize, now: Instant) {
        if self.capacity == 0 || self.ttl.is_zero() {
            return;
        }
        if self.entries.len() >= self.capacity {
            self.entries.retain(|_, (_, expires)| now < *expires);
        }
        if self.entries.len() >= self.capacity {
            // Still full of live entries: drop one; its owner verifies again.
            if let Some(victim) = self.entries.keys().next().copied() {
                self.entries.remove(&victim);
            }
        }
        self.entries.insert(key, (user, now + self.ttl));
    }
}
