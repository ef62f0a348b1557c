//! Rate-limit state kept in place in the memory store: the theoretical
//! arrival time (TAT) in an atomic, so that a throttle on a known key is a
//! cache read and a compare-and-swap rather than a cache write.
//!
//! Expiry: the cache entry lives `horizon` (the longest window throttled
//! with) after each read, and the TAT is never more than one window ahead of
//! the throttle that set it, so the entry outlives its state. A window longer
//! than the horizon re-arms the entry's expiry once.
//!
//! Writes that replace the key (set, delete, increment, compare-and-swap)
//! freeze the state first, under the cache's lock on the key: a throttle that
//! finds it frozen goes the slow way and waits for that write.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use crate::gcra::{Gcra, Throttle};

/// A TAT no clock reaches: the state is being replaced.
const FROZEN: u64 = u64::MAX;

pub(super) struct GcraSlot {
    /// Microseconds on the store's clock.
    tat_us: AtomicU64,
    horizon_us: AtomicU64,
}

/// What a step in place did.
pub(super) enum Step {
    Done(Throttle),
    /// Done; the window was longer than any before, so the entry's expiry
    /// must be moved.
    Rearm(Throttle),
    /// Nothing: a write is replacing the state.
    Frozen,
}

impl GcraSlot {
    pub(super) fn new(tat_us: u64, window_us: u64) -> GcraSlot {
        GcraSlot {
            tat_us: AtomicU64::new(tat_us),
            horizon_us: AtomicU64::new(window_us),
        }
    }

    pub(super) fn horizon(&self) -> Duration {
        Duration::from_micros(self.horizon_us.load(Ordering::Acquire))
    }

    /// One GCRA step at `now_us`, in place.
    pub(super) fn step(&self, gcra: Gcra, cost: u64, now_us: u64) -> Step {
        let mut tat = self.tat_us.load(Ordering::Acquire);
        let answer = loop {
            if tat == FROZEN {
                return Step::Frozen;
            }
            let (answer, stored) = gcra.decide(tat.saturating_sub(now_us), cost);
            let Some(after) = stored else {
                // Refused: nothing changes.
                break answer;
            };
            match self.tat_us.compare_exchange_weak(
                tat,
                now_us + after,
                Ordering::AcqRel,
                Ordering::Acquire,
            ) {
                Ok(_) => break answer,
                Err(current) => tat = current,
            }
        };
        if self.horizon_us.fetch_max(gcra.window_us, Ordering::AcqRel) < gcra.window_us {
            Step::Rearm(answer)
        } else {
            Step::Done(answer)
        }
    }

    /// The TAT if it is still ahead of `now_us` and no write is replacing it.
    pub(super) fn tat_after(&self, now_us: u64) -> Option<u64> {
        let tat = self.tat_us.load(Ordering::Acquire);
        (tat != FROZEN && tat > now_us).then_some(tat)
    }

    pub(super) fn is_frozen(&self) -> bool {
        self.tat_us.load(Ordering::Acquire) == FROZEN
    }

    /// Stops throttles from updating the state; returns the TAT it had, or
    /// None when it was frozen already (by a write that never finished).
    pub(super) fn freeze(&self) -> Option<u64> {
        let tat = self.tat_us.swap(FROZEN, Ordering::AcqRel);
        (tat != FROZEN).then_some(tat)
    }

    /// Undoes `freeze` when the write left the key as it was.
    pub(super) fn thaw(&self, tat_us: u64) {
        self.tat_us.store(tat_us, Ordering::Release);
    }
}
