//! Rate limiting by GCRA (the generic cell rate algorithm), shared by both
//! backends so a filter gets the same answers from memory and from Redis.
//!
//! A quota of `limit` per `window` lets requests arrive one per
//! `interval = window / limit` on average, and up to `limit` at once after
//! a quiet spell. The only state per key is the theoretical arrival time
//! (TAT): when the key would be back to a full quota. A request of `cost`
//! moves the TAT `cost * interval` further; it is allowed while the TAT stays
//! within `window` of now. Unlike a fixed window there is no boundary at
//! which twice the quota can pass, and unlike a sliding log it stores one
//! number. All times are microseconds on the backend's clock (Redis: the
//! server's `TIME`), so every weir instance sharing a Redis agrees.

use std::time::Duration;

use crate::KvError;

/// `limit` requests per `window`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Quota {
    pub limit: u64,
    pub window: Duration,
}

/// The answer to one [`crate::Store::throttle`] call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Throttle {
    pub allowed: bool,
    /// Requests of cost 1 that would still be allowed right now.
    pub remaining: u64,
    /// When refused: how long until the same request would be allowed.
    pub retry_after: Duration,
    /// How long until the full quota is available again.
    pub reset_after: Duration,
}

/// A quota in the backend's units: microseconds per request and per window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Gcra {
    pub interval_us: u64,
    pub window_us: u64,
}

impl Gcra {
    pub fn new(quota: Quota, cost: u64) -> Result<Gcra, KvError> {
        if quota.limit == 0 {
            return Err(KvError::Invalid(
                "a quota's limit must be at least 1".into(),
            ));
        }
        if cost == 0 || cost > quota.limit {
            return Err(KvError::Invalid(format!(
                "cost must be between 1 and the limit ({}), got {cost}",
                quota.limit
            )));
        }
        let window_us = u64::try_from(quota.window.as_micros()).unwrap_or(u64::MAX);
        // Beyond ~10 years the arithmetic below could approach f64's exact
        // integer range in Redis's Lua; no rate limit needs that.
        const MAX_WINDOW_US: u64 = 10 * 365 * 24 * 3600 * 1_000_000;
        if window_us > MAX_WINDOW_US {
            return Err(KvError::Invalid(
                "a quota's window is at most 10 years".into(),
            ));
        }
        let interval_us = window_us / quota.limit;
        if interval_us == 0 {
            return Err(KvError::Invalid(format!(
                "{} per {:?} is more than one request per microsecond",
                quota.limit, quota.window
            )));
        }
        Ok(Gcra {
            interval_us,
            // A whole number of intervals, so `remaining` counts exactly.
            window_us: interval_us * quota.limit,
        })
    }

    /// Given how far the stored TAT is ahead of now (`used_us`, 0 when the
    /// key is unset or stale), decides a request of `cost`. Returns the
    /// answer and, when allowed, the new distance to store as the TAT.
    pub fn decide(&self, used_us: u64, cost: u64) -> (Throttle, Option<u64>) {
        let after = used_us.saturating_add(self.interval_us * cost);
        if after <= self.window_us {
            let answer = self.answer(true, after, 0);
            (answer, Some(after))
        } else {
            (self.answer(false, used_us, after - self.window_us), None)
        }
    }

    /// The answer once the TAT is `used_us` ahead of now.
    pub fn answer(&self, allowed: bool, used_us: u64, retry_us: u64) -> Throttle {
        Throttle {
            allowed,
            remaining: self.window_us.saturating_sub(used_us) / self.interval_us,
            retry_after: Duration::from_micros(retry_us),
            reset_after: Duration::from_micros(used_us),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gcra(limit: u64, window_ms: u64) -> Gcra {
        let window = Duration::from_millis(window_ms);
        Gcra::new(Quota { limit, window }, 1).unwrap()
    }

    #[test]
    fn a_full_quota_passes_at_once_then_one_per_interval() {
        let g = gcra(3, 3000);
        let mut used = 0;
        for remaining in [2, 1, 0] {
            let (answer, next) = g.decide(used, 1);
            assert!(answer.allowed);
            assert_eq!(answer.remaining, remaining);
            used = next.unwrap();
        }
        let (refused, next) = g.decide(used, 1);
        assert_eq!(next, None);
        assert!(!refused.allowed);
        assert_eq!(refused.retry_after, Duration::from_secs(1));
        assert_eq!(refused.reset_after, Duration::from_secs(3));
        // One interval later (the TAT moved one interval closer): one more.
        let (again, _) = g.decide(used - 1_000_000, 1);
        assert!(again.allowed);
        assert_eq!(again.remaining, 0);
    }

    #[test]
    fn cost_spends_several_units() {
        let g = Gcra::new(
            Quota {
                limit: 10,
                window: Duration::from_secs(10),
            },
            4,
        )
        .unwrap();
        let (first, used) = g.decide(0, 4);
        assert_eq!((first.allowed, first.remaining), (true, 6));
        let (second, used) = g.decide(used.unwrap(), 4);
        assert_eq!((second.allowed, second.remaining), (true, 2));
        let (third, _) = g.decide(used.unwrap(), 4);
        assert!(!third.allowed);
        assert_eq!(third.retry_after, Duration::from_secs(2));
    }

    #[test]
    fn nonsense_quotas_are_refused() {
        let quota = |limit, window_ms| Quota {
            limit,
            window: Duration::from_millis(window_ms),
        };
        assert!(Gcra::new(quota(0, 1000), 1).is_err());
        assert!(Gcra::new(quota(10, 1000), 0).is_err());
        assert!(Gcra::new(quota(10, 1000), 11).is_err());
        assert!(Gcra::new(quota(10_000, 1), 1).is_err());
    }
}
