//! The configured API keys, kept only as SHA-256 hashes, and the lookup of
//! a presented key that takes the same time whichever key (if any) matches.
//!
//! Why hash first: the bytes compared are SHA-256 outputs, which an attacker
//! cannot steer byte by byte, so even a leaky comparison would not let them
//! grow a key one correct prefix at a time; and plain keys need not be kept
//! (or written in the config) at all.
//!
//! Why scan every entry instead of a map from hash to consumer: a map lookup
//! (hashing into buckets, then an early-exit comparison) takes a time that
//! depends on the stored hashes. A client can grind keys offline whose
//! SHA-256 starts with chosen bytes and measure, learning a stored hash
//! prefix by prefix; with the whole hash a weak key falls to an offline
//! search. The scan below compares the presented hash with every stored one
//! in constant time (`subtle`) and never stops early, so its time depends
//! only on the number of keys. It costs one 32-byte comparison per key:
//! about 75 µs per 1000 keys inside Wasm (20 000 keys add 1.5 ms).

use sha2::{Digest, Sha256};
use subtle::{Choice, ConditionallySelectable, ConstantTimeEq};

/// The SHA-256 of a key.
pub type KeyHash = [u8; 32];

/// The prefix that marks a key given as its hash: `sha256:<64 hex digits>`.
pub const HASH_PREFIX: &str = "sha256:";

pub fn hash_key(key: &[u8]) -> KeyHash {
    Sha256::digest(key).into()
}

/// A key as written in the config or a secret: `sha256:<hex>` is the key's
/// hash, anything else the key itself.
pub fn parse_key(text: &str) -> Result<KeyHash, String> {
    match text.strip_prefix(HASH_PREFIX) {
        Some(hex_digits) => {
            let mut hash = [0u8; 32];
            hex::decode_to_slice(hex_digits, &mut hash).map_err(|_| {
                format!("{HASH_PREFIX} must be followed by 64 hex digits (the SHA-256 of the key)")
            })?;
            Ok(hash)
        }
        None if text.is_empty() => Err("a key must not be empty".into()),
        None => Ok(hash_key(text.as_bytes())),
    }
}

/// Key hashes and the consumer each belongs to.
#[derive(Default)]
pub struct Keyring {
    consumers: Vec<String>,
    /// (hash, index into `consumers`)
    entries: Vec<(KeyHash, u32)>,
}

impl Keyring {
    /// Adds a consumer; returns its index for [`Keyring::add_key`].
    pub fn add_consumer(&mut self, name: &str) -> Result<u32, String> {
        if self.consumers.iter().any(|c| c == name) {
            return Err(format!("consumer {name:?} is listed twice"));
        }
        self.consumers.push(name.to_owned());
        Ok((self.consumers.len() - 1) as u32)
    }

    pub fn add_key(&mut self, consumer: u32, hash: KeyHash) -> Result<(), String> {
        // Config time, not request time: an ordinary comparison is fine here.
        if let Some((_, owner)) = self.entries.iter().find(|(h, _)| *h == hash) {
            return Err(format!(
                "the same key is given twice (consumers {:?} and {:?})",
                self.consumers[*owner as usize], self.consumers[consumer as usize]
            ));
        }
        self.entries.push((hash, consumer));
        Ok(())
    }

    /// The consumer owning `presented`, if any. Every stored hash is compared,
    /// in constant time, with no early exit (see the module comment).
    pub fn find(&self, presented: &[u8]) -> Option<&str> {
        let hash = hash_key(presented);
        let mut found = Choice::from(0);
        let mut owner = 0u32;
        for (stored, consumer) in &self.entries {
            let hit = stored.ct_eq(&hash);
            owner.conditional_assign(consumer, hit);
            found |= hit;
        }
        // Branching on the outcome is fine: the response reveals it anyway.
        bool::from(found).then(|| self.consumers[owner as usize].as_str())
    }
}

#[cfg(test)]
mod tests;
