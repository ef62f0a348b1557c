//! The response fields of a rate limit: `Retry-After` (RFC 9110) and the
//! IETF `RateLimit-Policy` and `RateLimit` fields
//! (draft-ietf-httpapi-ratelimit-headers-10), e.g.
//!
//! ```text
//! RateLimit-Policy: "per-second";q=10;w=1, "per-hour";q=1000;w=3600
//! RateLimit: "per-second";r=7;t=1, "per-hour";r=912;t=314
//! ```
//!
//! Policy names are Structured Field strings; the config allows only
//! characters that need no escaping in them.

use std::fmt::Write;
use std::time::Duration;

use weir_filter_sdk::kv::Throttled;

use crate::settings::Limit;

/// Whole seconds, rounded up: a client told "0" would come back too early.
pub fn seconds_up(ms: u64) -> u64 {
    ms.div_ceil(1000)
}

fn window_seconds(window: Duration) -> u64 {
    seconds_up(window.as_millis() as u64).max(1)
}

/// `RateLimit-Policy` for every limit of the filter (a constant, built once).
pub fn policy(limits: &[Limit]) -> String {
    let mut out = String::new();
    for limit in limits {
        if !out.is_empty() {
            out.push_str(", ");
        }
        let _ = write!(
            out,
            "\"{}\";q={};w={}",
            limit.name,
            limit.limit,
            window_seconds(limit.window)
        );
    }
    out
}

/// `RateLimit` for the limits this request was counted against.
pub fn current(limits: &[Limit], counted: &[(usize, Throttled)]) -> String {
    let mut out = String::new();
    for (index, answer) in counted {
        if !out.is_empty() {
            out.push_str(", ");
        }
        let _ = write!(
            out,
            "\"{}\";r={};t={}",
            limits[*index].name,
            answer.remaining,
            seconds_up(answer.reset_after_ms)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::{KeySource, WhenMissing};

    fn limit(name: &str, limit: u64, window_secs: u64) -> Limit {
        Limit {
            name: name.into(),
            limit,
            window: Duration::from_secs(window_secs),
            key: KeySource::ClientIp,
            when_missing: WhenMissing::Skip,
        }
    }

    #[test]
    fn fields_follow_the_drafts_syntax() {
        let limits = [limit("per-second", 10, 1), limit("per-hour", 1000, 3600)];
        assert_eq!(
            policy(&limits),
            "\"per-second\";q=10;w=1, \"per-hour\";q=1000;w=3600"
        );
        let answer = |remaining, reset_after_ms| Throttled {
            allowed: true,
            remaining,
            retry_after_ms: 0,
            reset_after_ms,
        };
        assert_eq!(
            current(&limits, &[(0, answer(7, 900)), (1, answer(912, 313_001))]),
            "\"per-second\";r=7;t=1, \"per-hour\";r=912;t=314"
        );
        assert_eq!(current(&limits, &[]), "");
    }
}
