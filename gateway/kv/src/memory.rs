//! The in-process backend: a bounded moka cache. Writes go through
//! `and_compute_with`, which serialises calls on one key, so increment and
//! compare-and-swap are atomic against all other writes. Rate-limit state
//! is the exception on the hot path: a `throttle` on a key that already
//! holds it is a cache read and an atomic update of the state in place
//! (`gcra_slot.rs`), no cache write.

mod gcra_slot;

use std::borrow::Cow;
use std::sync::Arc;
use std::time::{Duration, Instant};

use moka::Expiry;
use moka::ops::compute::{CompResult, Op};
use moka::sync::Cache;

use crate::KvError;
use crate::gcra::{Gcra, Throttle};
use crate::limits::{parse_counter, ttl_millis};
use gcra_slot::{GcraSlot, Step};

/// What a key holds.
#[derive(Clone)]
enum Slot {
    /// Bytes from set, increment or compare-and-swap; replaced whole.
    Bytes(Stored),
    /// Rate-limit state from throttle, updated in place.
    Gcra(Arc<GcraSlot>),
}

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

/// Tells moka when each entry expires: bytes at their own deadline;
/// rate-limit state a horizon after its last read, which is never sooner
/// than its state runs out (see `gcra_slot.rs`).
struct Deadline;

impl Deadline {
    fn after(slot: &Slot, at: Instant) -> Option<Duration> {
        match slot {
            Slot::Bytes(stored) => stored.expires_at.map(|d| d.saturating_duration_since(at)),
            Slot::Gcra(state) => Some(state.horizon()),
        }
    }
}

impl Expiry<String, Slot> for Deadline {
    fn expire_after_create(&self, _: &String, slot: &Slot, at: Instant) -> Option<Duration> {
        Deadline::after(slot, at)
    }

    fn expire_after_read(
        &self,
        _: &String,
        slot: &Slot,
        _: Instant,
        left: Option<Duration>,
        _: Instant,
    ) -> Option<Duration> {
        match slot {
            Slot::Bytes(_) => left,
            Slot::Gcra(state) => Some(state.horizon()),
        }
    }

    fn expire_after_update(
        &self,
        _: &String,
        slot: &Slot,
        at: Instant,
        _: Option<Duration>,
    ) -> Option<Duration> {
        Deadline::after(slot, at)
    }
}

pub struct MemoryStore {
    cache: Cache<String, Slot>,
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

    fn micros(&self, now: Instant) -> u64 {
        now.duration_since(self.started).as_micros() as u64
    }

    /// The value a slot holds at `now`, as `get` returns it, if live. `None`
    /// from `frozen` too: the slot is being replaced (see `claim`).
    fn value<'a>(&self, slot: &'a Slot, now: Instant) -> Option<Cow<'a, [u8]>> {
        match slot {
            Slot::Bytes(stored) => stored.live(now).then_some(Cow::Borrowed(&stored.value)),
            Slot::Gcra(state) => state
                .tat_after(self.micros(now))
                .map(|tat| Cow::Owned(tat.to_string().into_bytes())),
        }
    }

    /// Takes the slot at a key for a write made under moka's lock on that
    /// key: a rate-limit state is frozen first, so a throttle racing on it
    /// waits for this write rather than updating a state about to be
    /// replaced. `release` undoes the freeze when the write changes nothing.
    fn claim(&self, old: Option<moka::Entry<String, Slot>>, now: Instant) -> Claimed {
        let Some(slot) = old.map(moka::Entry::into_value) else {
            return Claimed::default();
        };
        let mut frozen = None;
        let current = match &slot {
            Slot::Bytes(stored) => stored.live(now).then(|| stored.value.to_vec()),
            Slot::Gcra(state) => state.freeze().and_then(|tat| {
                frozen = Some((state.clone(), tat));
                (tat > self.micros(now)).then(|| tat.to_string().into_bytes())
            }),
        };
        Claimed {
            current,
            frozen,
            expires_at: match &slot {
                Slot::Bytes(stored) => stored.expires_at,
                Slot::Gcra(_) => None,
            },
        }
    }

    pub fn get(&self, key: &str) -> Option<Vec<u8>> {
        let now = Instant::now();
        let slot = self.cache.get(key)?;
        match self.value(&slot, now) {
            Some(value) => Some(value.into_owned()),
            // Frozen: a write is replacing it; read after that write.
            None if matches!(&slot, Slot::Gcra(s) if s.is_frozen()) => {
                let mut value = None;
                self.cache.entry_by_ref(key).and_compute_with(|old| {
                    let claimed = self.claim(old, Instant::now());
                    value = claimed.current.clone();
                    claimed.release();
                    Op::Nop
                });
                value
            }
            None => None,
        }
    }

    pub fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) {
        let entry = Slot::Bytes(Stored::new(value, ttl, Instant::now()));
        self.cache.entry_by_ref(key).and_compute_with(|old| {
            drop(self.claim(old, Instant::now()));
            Op::Put(entry)
        });
    }

    pub fn delete(&self, key: &str) -> bool {
        let mut existed = false;
        self.cache.entry_by_ref(key).and_compute_with(|old| {
            existed = self.claim(old, Instant::now()).current.is_some();
            // Removing an expired leftover too is harmless.
            Op::Remove
        });
        existed
    }

    pub fn increment(&self, key: &str, delta: i64, ttl: Option<Duration>) -> Result<i64, KvError> {
        let mut count = 0;
        self.cache.entry_by_ref(key).and_try_compute_with(|old| {
            let now = Instant::now();
            let claimed = self.claim(old, now);
            let (old_count, expires_at) = match &claimed.current {
                Some(value) => {
                    let Some(n) = parse_counter(value) else {
                        claimed.release();
                        return Err(KvError::Invalid(
                            "value is not an integer or out of range".into(),
                        ));
                    };
                    // An existing key keeps its expiry (or lack of one); a
                    // rate-limit state's ends with its TAT.
                    let expires_at = match &claimed.frozen {
                        Some((_, tat)) => Some(now + Duration::from_micros(tat - self.micros(now))),
                        None => claimed.expires_at,
                    };
                    (n, expires_at)
                }
                None => (0, deadline(ttl, now)),
            };
            let Some(new) = old_count.checked_add(delta) else {
                claimed.release();
                return Err(KvError::Invalid(
                    "increment or decrement would overflow".into(),
                ));
            };
            count = new;
            // ASCII decimal, as Redis stores it.
            Ok(Op::Put(Slot::Bytes(Stored {
                value: count.to_string().into_bytes().into(),
                expires_at,
            })))
        })?;
        Ok(count)
    }

    /// One GCRA step. A key that already holds rate-limit state is updated
    /// in place after one cache read; otherwise (a new key, another kind of
    /// value, or a state being replaced) the step is a cache write. The key
    /// holds the theoretical arrival time as microseconds since the store
    /// started; `get` shows it as decimal text, and bytes that are not one
    /// count as no state.
    pub fn throttle(&self, key: &str, gcra: Gcra, cost: u64) -> Throttle {
        if let Some(Slot::Gcra(state)) = self.cache.get(key) {
            match state.step(gcra, cost, self.micros(Instant::now())) {
                Step::Done(answer) => return answer,
                Step::Rearm(answer) => {
                    self.rearm(key, &state);
                    return answer;
                }
                Step::Frozen => {}
            }
        }
        let mut answer = None;
        let mut rearm = None;
        self.cache.entry_by_ref(key).and_compute_with(|old| {
            let now = Instant::now();
            let now_us = self.micros(now);
            if let Some(Slot::Gcra(state)) = old.as_ref().map(moka::Entry::value) {
                // Made by another throttle since the read above.
                match state.step(gcra, cost, now_us) {
                    Step::Done(done) => {
                        answer = Some(done);
                        return Op::Nop;
                    }
                    Step::Rearm(done) => {
                        answer = Some(done);
                        rearm = Some(state.clone());
                        return Op::Nop;
                    }
                    // Left frozen by a write that never finished: replaced.
                    Step::Frozen => {}
                }
            }
            let claimed = self.claim(old, now);
            let tat = claimed
                .current
                .as_deref()
                .and_then(|v| std::str::from_utf8(v).ok()?.parse::<u64>().ok())
                .unwrap_or(0);
            let (decided, stored) = gcra.decide(tat.saturating_sub(now_us), cost);
            answer = Some(decided);
            match stored {
                Some(after) => Op::Put(Slot::Gcra(Arc::new(GcraSlot::new(
                    now_us + after,
                    gcra.window_us,
                )))),
                None => {
                    claimed.release();
                    Op::Nop
                }
            }
        });
        if let Some(state) = rearm {
            self.rearm(key, &state);
        }
        answer.expect("and_compute_with runs its closure")
    }

    /// A rate-limit state throttled with a longer window than before may run
    /// out later than its entry would: one write moves the entry's expiry,
    /// unless the key holds something else by now.
    fn rearm(&self, key: &str, state: &Arc<GcraSlot>) {
        self.cache.entry_by_ref(key).and_compute_with(|old| {
            match old.map(moka::Entry::into_value) {
                Some(Slot::Gcra(current)) if Arc::ptr_eq(&current, state) => {
                    Op::Put(Slot::Gcra(current))
                }
                _ => Op::Nop,
            }
        });
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
            let claimed = self.claim(old, now);
            if claimed.current.as_deref() == expected {
                Op::Put(Slot::Bytes(Stored::new(value, ttl, now)))
            } else {
                claimed.release();
                Op::Nop
            }
        });
        matches!(
            result,
            CompResult::Inserted(_) | CompResult::ReplacedWith(_)
        )
    }
}

/// A slot taken for a write (`MemoryStore::claim`): its value then, if live.
#[derive(Default)]
struct Claimed {
    current: Option<Vec<u8>>,
    /// A rate-limit state frozen by the claim, and the TAT it had.
    frozen: Option<(Arc<GcraSlot>, u64)>,
    /// The bytes' own expiry, for a write that keeps it.
    expires_at: Option<Instant>,
}

impl Claimed {
    /// The write leaves the slot as it was: a frozen state thaws.
    fn release(&self) {
        if let Some((state, tat)) = &self.frozen {
            state.thaw(*tat);
        }
    }
}

#[cfg(test)]
mod tests;
