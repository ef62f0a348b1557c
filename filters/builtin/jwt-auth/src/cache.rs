//! Tokens this instance verified recently. A client sends the same token on
//! every request; verifying it once per instance and then only re-checking
//! its expiry saves the signature check and two JSON parses per request.
//!
//! Only tokens that passed every check are kept, keyed by the whole token
//! (any change to it, signature included, is a different key). An entry
//! lives until the token's `exp` (plus the leeway) or `ttl`, whichever is
//! first. When a provider's keys may have changed (a JWKS fetch), the cache
//! starts over, so a token of a retired key is checked again at once; `ttl`
//! bounds how long cached tokens skip the checks that would notice a refresh
//! being due.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map, Value};

pub struct VerifiedTokens {
    entries: HashMap<String, Entry>,
    max_entries: usize,
    ttl_secs: u64,
    leeway_secs: u64,
    /// The providers' key generation the entries were verified under.
    key_generation: u64,
}

struct Entry {
    claims: Map<String, Value>,
    /// Unix seconds after which the entry is not used.
    valid_until: u64,
}

impl VerifiedTokens {
    pub fn new(max_entries: usize, ttl: Duration, leeway: Duration) -> Self {
        VerifiedTokens {
            entries: HashMap::new(),
            max_entries,
            ttl_secs: ttl.as_secs(),
            leeway_secs: leeway.as_secs(),
            key_generation: 0,
        }
    }

    /// The claims of `token` if it was verified and is still within its
    /// `exp` and the cache's `ttl` at `now` (Unix seconds).
    pub fn get(&self, token: &str, now: u64) -> Option<&Map<String, Value>> {
        self.entries
            .get(token)
            .filter(|entry| now <= entry.valid_until)
            .map(|entry| &entry.claims)
    }

    /// Forgets every token when the keys they were verified with may have
    /// changed.
    pub fn keys_are(&mut self, generation: u64) {
        if generation != self.key_generation {
            self.entries.clear();
            self.key_generation = generation;
        }
    }

    /// Remembers a token that passed every check at `now`.
    pub fn insert(&mut self, token: &str, claims: &Map<String, Value>, now: u64) {
        if self.max_entries == 0 {
            return;
        }
        let mut valid_until = now.saturating_add(self.ttl_secs);
        // jsonwebtoken refuses a token once `exp < now - leeway`.
        if let Some(exp) = claims.get("exp").and_then(Value::as_f64) {
            valid_until = valid_until.min((exp.max(0.0) as u64).saturating_add(self.leeway_secs));
        }
        if self.entries.len() >= self.max_entries {
            self.entries.retain(|_, entry| now <= entry.valid_until);
        }
        if self.entries.len() >= self.max_entries {
            // Still full of live tokens: start over rather than track ages;
            // each token costs one full verification to come back.
            self.entries.clear();
        }
        self.entries.insert(
            token.to_owned(),
            Entry {
                claims: claims.clone(),
                valid_until,
            },
        );
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn claims(exp: Option<u64>) -> Map<String, Value> {
        let mut claims = Map::new();
        claims.insert("sub".into(), json!("u1"));
        if let Some(exp) = exp {
            claims.insert("exp".into(), json!(exp));
        }
        claims
    }

    #[test]
    fn an_entry_ends_at_exp_plus_leeway_or_ttl() {
        let mut cache = VerifiedTokens::new(8, Duration::from_secs(60), Duration::from_secs(5));
        cache.insert("a", &claims(Some(1_000)), 990);
        assert!(cache.get("a", 1_005).is_some());
        assert!(cache.get("a", 1_006).is_none(), "past exp + leeway");
        cache.insert("b", &claims(Some(10_000)), 1_000);
        assert!(cache.get("b", 1_060).is_some());
        assert!(cache.get("b", 1_061).is_none(), "past the ttl");
        cache.insert("c", &claims(None), 1_000);
        assert!(cache.get("c", 1_060).is_some());
        assert!(cache.get("other", 1_000).is_none());
    }

    #[test]
    fn new_keys_empty_it() {
        let mut cache = VerifiedTokens::new(8, Duration::from_secs(60), Duration::ZERO);
        cache.insert("a", &claims(None), 1);
        cache.keys_are(0);
        assert!(cache.get("a", 1).is_some());
        cache.keys_are(1);
        assert!(cache.get("a", 1).is_none());
    }

    #[test]
    fn it_never_holds_more_than_max_entries() {
        let mut cache = VerifiedTokens::new(3, Duration::from_secs(60), Duration::ZERO);
        for (i, token) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            cache.insert(token, &claims(None), 100 + i as u64);
            assert!(cache.entries.len() <= 3);
        }
        assert!(cache.get("e", 110).is_some());
        let mut off = VerifiedTokens::new(0, Duration::from_secs(60), Duration::ZERO);
        off.insert("a", &claims(None), 1);
        assert!(off.get("a", 1).is_none());
    }
}
