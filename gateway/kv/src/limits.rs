//! Limits and argument conversions shared by both backends, so a filter sees
//! the same answers whichever store it was given.

use std::time::Duration;

use crate::KvError;

/// Longest key, in bytes.
pub const MAX_KEY_BYTES: usize = 1024;
/// Largest value, in bytes.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;
/// TTLs are clamped to this: longer is "forever" in practice, and it keeps
/// `Instant + ttl` and Redis's `now + PX` from overflowing.
const MAX_TTL_MS: u64 = 100 * 365 * 24 * 3600 * 1000;

pub fn check_key(key: &str) -> Result<(), KvError> {
    if key.len() > MAX_KEY_BYTES {
        return Err(KvError::Invalid(format!(
            "key is {} bytes, at most {MAX_KEY_BYTES} allowed",
            key.len()
        )));
    }
    Ok(())
}

pub fn check_value(value: &[u8]) -> Result<(), KvError> {
    if value.len() > MAX_VALUE_BYTES {
        return Err(KvError::Invalid(format!(
            "value is {} bytes, at most {MAX_VALUE_BYTES} allowed",
            value.len()
        )));
    }
    Ok(())
}

/// A TTL in whole milliseconds, rounded up and at least 1: Redis counts in
/// milliseconds and rejects `PX 0`, and the memory store uses the same figure
/// so both expire alike.
pub fn ttl_millis(ttl: Duration) -> u64 {
    let ms = ttl.as_nanos().div_ceil(1_000_000);
    u64::try_from(ms).unwrap_or(u64::MAX).clamp(1, MAX_TTL_MS)
}

/// Parses a stored counter exactly as Redis's INCRBY does (`string2ll`): an
/// optional '-', no '+', no spaces, no leading zeros, no "-0", fits an i64.
pub fn parse_counter(bytes: &[u8]) -> Option<i64> {
    if bytes == b"0" {
        return Some(0);
    }
    let digits = bytes.strip_prefix(b"-").unwrap_or(bytes);
    let first = *digits.first()?;
    if !(b'1'..=b'9').contains(&first) || !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    std::str::from_utf8(bytes).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_parse_like_redis() {
        assert_eq!(parse_counter(b"0"), Some(0));
        assert_eq!(parse_counter(b"42"), Some(42));
        assert_eq!(parse_counter(b"-7"), Some(-7));
        assert_eq!(parse_counter(b"9223372036854775807"), Some(i64::MAX));
        assert_eq!(parse_counter(b"-9223372036854775808"), Some(i64::MIN));
        for bad in [
            &b""[..],
            b"-",
            b"-0",
            b"007",
            b"+1",
            b" 1",
            b"1 ",
            b"1.5",
            b"abc",
            b"9223372036854775808",
        ] {
            assert_eq!(
                parse_counter(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn ttls_round_up_to_a_millisecond_and_clamp() {
        assert_eq!(ttl_millis(Duration::ZERO), 1);
        assert_eq!(ttl_millis(Duration::from_micros(1)), 1);
        assert_eq!(ttl_millis(Duration::from_micros(1500)), 2);
        assert_eq!(ttl_millis(Duration::from_secs(3)), 3000);
        assert_eq!(ttl_millis(Duration::MAX), MAX_TTL_MS);
    }

    #[test]
    fn limits_are_inclusive() {
        assert!(check_key(&"k".repeat(MAX_KEY_BYTES)).is_ok());
        assert!(matches!(
            check_key(&"k".repeat(MAX_KEY_BYTES + 1)),
            Err(KvError::Invalid(_))
        ));
        assert!(check_value(&vec![0; MAX_VALUE_BYTES]).is_ok());
        assert!(matches!(
            check_value(&vec![0; MAX_VALUE_BYTES + 1]),
            Err(KvError::Invalid(_))
        ));
    }
}
