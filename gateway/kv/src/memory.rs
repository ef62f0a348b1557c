//! The in-process backend: a bounded moka cache whose entries carry their own
//! deadline. Every write goes through `and_compute_with`, which serialises
//! calls on one key, so increment and compare-and-swap are atomic against all
//! other writes, not only against each other.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::ops::compute::{CompResult, Op};
use moka::sync::Cache;

use crate::KvError;
use crate::gcra::{Gcra, Throttle};
use crate::limits::{parse_counter, ttl_millis};

#[derive(Clone)]
struct Stored {
    // Arc: moka clones values on every read.
    value: Arc<[u8]>,
    expires_at: Option<Instant>,
}

/// When an entry written at `now` with `ttl` expires.
fn deadline(ttl: Option<Duration>, now: Instant) -> Option<Instant> {
    ttl.map(|ttl| now + Duration::from_millis(ttl_millis(ttl)))
}

impl Stored {
    fn new(value: &[u8], ttl: Option<Duration>, now: Instant) -> Stored {
        Stored {
            value: value.into(),
            expires_at: deadline(ttl, now),
        }
    }

    /// moka drops expired entries lazily; checking here makes expiry exact.
    fn live(&self, now: Instant) -> bool {
        self.expires_at.is_none_or(|deadline| deadline > now)
    }
}

/// Tells moka each entry's own deadline, on insert and on replace.
struct Deadline;

impl Expiry<String, Stored> for Deadline {
    fn expire_after_create(&self, _: &String, entry: &Stored, at: Instant) -> Option<Duration> {
        entry.expires_at.map(|d| d.saturating_duration_since(at))
    }

    fn expire_after_update(
        &self,
        _: &String,
        entry: &Stored,
        at: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        entry.expires_at.map(|d| d.saturating_duration_since(at))
    }
}

pub struct MemoryStore {
    cache: Cache<String, Stored>,
    /// Rate-limit state is microseconds on this monotonic clock.
    started: Instant,
}

impl MemoryStore {
    pub fn new(max_entries: u64) -> MemoryStore {
        let cache = Cache::builder()
            .max_capacity(max_entries)
            .expire_after(Deadline)
            .build();
        MemoryStore {
            cache,
            started: Instant::now(),
        }
    }

    /// The live value at `key`, if any.
    fn current(entry: Option<moka::Entry<String, Stored>>, now: Instant) -> Option<Stored> {
        entry.map(moka::Entry::into_value).filter(|e| e.live(now))
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let now = Instant::now();
        let entry = self.cache.get(key).filter(|e| e.live(now))?;
        Some(entry.value.to_vec())
    }

    pub fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) {
        let entry = Stored::new(value, ttl, Instant::now());
        self.cache
            .entry_by_ref(key)
            .and_compute_with(|_| Op::Put(entry));
    }

    pub fn delete(&self, key: &str) -> bool {
        let mut existed = false;
        self.cache.entry_by_ref(key).and_compute_with(|old| {
            existed = Self::current(old, Instant::now()).is_some();
            // Removing an expired leftover too is harmless.
            Op::Remove
        });
        existed
    }

    pub fn increment(&self, key: &str, delta: i64, ttl: Option<Duration>) -> Result<i64, KvError> {
        let mut count = 0;
        self.cache.entry_by_ref(key).and_try_compute_with(|old| {
            let now = Instant::now();
            let (old_count, expires_at) = match Self::current(old, now) {
                Some(old) => {
                    let n = parse_counter(&old.value).ok_or_else(|| {
                        KvError::Invalid("value is not an integer or out of range".into())
                    })?;
                    // An existing key keeps its expiry (or lack of one).
                    (n, old.expires_at)
                }
                None => (0, deadline(ttl, now)),
            };
            count = old_count
                .checked_add(delta)
                .ok_or_else(|| KvError::Invalid("increment or decrement would overflow".into()))?;
            // ASCII decimal, as Redis stores it.
            Ok::<_, KvError>(Op::Put(Stored {
                value: count.to_string().into_bytes().into(),
                expires_at,
            }))
        })?;
        Ok(count)
    }

    /// One GCRA step; the key holds the theoretical arrival time as decimal
    /// microseconds since the store started (a value that is not one counts
    /// as no state).
    pub fn throttle(&self, key: &str, gcra: Gcra, cost: u64) -> Throttle {
        let mut answer = None;
        self.cache.entry_by_ref(key).and_compute_with(|old| {
            let now = Instant::now();
            let now_us = now.duration_since(self.started).as_micros() as u64;
            let tat = Self::current(old, now)
                .and_then(|e| std::str::from_utf8(&e.value).ok()?.parse::<u64>().ok())
                .unwrap_or(0);
            let (decided, store) = gcra.decide(tat.saturating_sub(now_us), cost);
            answer = Some(decided);
            match store {
                Some(after) => Op::Put(Stored {
                    value: (now_us + after).to_string().into_bytes().into(),
                    expires_at: Some(now + Duration::from_micros(after)),
                }),
                None => Op::Nop,
            }
        });
        answer.expect("and_compute_with runs its closure")
    }

    pub fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> bool {
        let result = self.cache.entry_by_ref(key).and_compute_with(|old| {
            let now = Instant::now();
            let current = Self::current(old, now);
            if current.as_ref().map(|e| &*e.value) == expected {
                Op::Put(Stored::new(value, ttl, now))
            } else {
                Op::Nop
            }
        });
        matches!(
            result,
            CompResult::Inserted(_) | CompResult::ReplacedWith(_)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deadline(store: &MemoryStore, key: &str) -> Option<Instant> {
        store.cache.get(key).expect("entry present").expires_at
    }

    #[test]
    fn holds_at_most_max_entries() {
        let store = MemoryStore::new(100);
        for i in 0..500 {
            store.set(&format!("k{i}"), b"v", None);
        }
        // moka evicts in its housekeeping, which it otherwise runs lazily.
        store.cache.run_pending_tasks();
        let readable = (0..500)
            .filter(|i| store.get(&format!("k{i}")).is_some())
            .count();
        assert!(readable <= 100, "{readable} entries readable");
        assert!(readable > 0, "the cache kept nothing");
    }

    #[test]
    fn increment_keeps_an_existing_keys_lack_of_expiry() {
        let store = MemoryStore::new(10);
        store.set("n", b"5", None);
        assert_eq!(store.increment("n", 1, Some(Duration::from_secs(1))), Ok(6));
        assert_eq!(deadline(&store, "n"), None);
    }

    #[test]
    fn increment_keeps_an_existing_deadline_and_sets_one_on_create() {
        let store = MemoryStore::new(10);
        let before = Instant::now();
        assert_eq!(
            store.increment("c", 2, Some(Duration::from_secs(10))),
            Ok(2)
        );
        let first = deadline(&store, "c").expect("a deadline on create");
        assert!(first >= before + Duration::from_secs(10));
        assert_eq!(
            store.increment("c", 3, Some(Duration::from_secs(999))),
            Ok(5)
        );
        assert_eq!(deadline(&store, "c"), Some(first));
    }

    #[test]
    fn an_expired_entry_counts_as_absent() {
        let store = MemoryStore::new(10);
        // Planted already expired, so no waiting is needed.
        let past = Instant::now()
            .checked_sub(Duration::from_millis(5))
            .expect("clock past 5ms");
        let stale = Stored {
            value: b"41".as_slice().into(),
            expires_at: Some(past),
        };
        store.cache.insert("x".into(), stale);
        assert_eq!(store.get("x"), None);
        assert!(!store.delete("x"));
        store.cache.insert(
            "x".into(),
            Stored {
                value: b"41".as_slice().into(),
                expires_at: Some(past),
            },
        );
        assert_eq!(store.increment("x", 1, None), Ok(1));
        assert_eq!(deadline(&store, "x"), None);
    }
}
