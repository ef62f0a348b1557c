//! Key-value stores granted to this filter (`grants.key_value` in weir's
//! config). A call waits for the backend without holding up other requests
//! and ends within the store's command timeout: handle
//! [`KvError::Unavailable`] (Redis down, slow) as a normal outcome.
//!
//! ```ignore
//! let store = kv::Store::open("counters")?;          // once, in `Filter::new`
//! let hits = store.increment(&key, 1, Some(Duration::from_secs(60)))?;
//! ```

use std::time::Duration;

use crate::bindings::weir::filter::key_value as host;

pub use host::{Quota, Throttled};

/// Why a key-value call failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KvError {
    /// No store of that name is granted to this filter.
    NotGranted(String),
    /// The backend is down or did not answer within its timeout: an outcome
    /// to handle (weir reconnects by itself), not a bug.
    Unavailable(String),
    /// The call does not fit the data (a non-integer counter, a key over
    /// 1 KiB, a value over 1 MiB).
    Invalid(String),
}

impl From<host::Error> for KvError {
    fn from(error: host::Error) -> Self {
        match error {
            host::Error::NotGranted(m) => KvError::NotGranted(m),
            host::Error::Unavailable(m) => KvError::Unavailable(m),
            host::Error::Invalid(m) => KvError::Invalid(m),
        }
    }
}

impl std::fmt::Display for KvError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KvError::NotGranted(m) => write!(f, "not granted: {m}"),
            KvError::Unavailable(m) => write!(f, "unavailable: {m}"),
            KvError::Invalid(m) => write!(f, "invalid: {m}"),
        }
    }
}

impl std::error::Error for KvError {}

/// An open store. Open it once and keep it in the filter.
pub struct Store(host::Store);

fn ttl_ms(ttl: Option<Duration>) -> Option<u64> {
    ttl.map(|t| t.as_millis().clamp(1, u64::MAX as u128) as u64)
}

impl Store {
    /// Opens a store granted to this filter by name.
    pub fn open(name: &str) -> Result<Store, KvError> {
        host::Store::open(name).map(Store).map_err(KvError::from)
    }

    /// The value of `key`, if set and not expired.
    pub fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        Ok(self.0.get(key)?)
    }

    /// The value of `key` as text (lossy UTF-8).
    pub fn get_string(&self, key: &str) -> Result<Option<String>, KvError> {
        Ok(self
            .get(key)?
            .map(|v| String::from_utf8_lossy(&v).into_owned()))
    }

    /// Sets `key`, expiring after `ttl` (never with `None`).
    pub fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), KvError> {
        Ok(self.0.set(key, value, ttl_ms(ttl))?)
    }

    /// Removes `key`; returns whether it was set.
    pub fn delete(&self, key: &str) -> Result<bool, KvError> {
        Ok(self.0.delete(key)?)
    }

    /// Adds `delta` to the counter at `key` (missing counts as 0) and returns
    /// the new value. `ttl` applies when this call creates the key, so a
    /// counter's window starts with its first increment.
    pub fn increment(&self, key: &str, delta: i64, ttl: Option<Duration>) -> Result<i64, KvError> {
        Ok(self.0.increment(key, delta, ttl_ms(ttl))?)
    }

    /// Sets `value` only if the current value is `expected` (`None`: only if
    /// `key` is not set). Returns whether it was set.
    pub fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, KvError> {
        Ok(self.0.compare_and_swap(key, expected, value, ttl_ms(ttl))?)
    }

    /// Rate limiting: spends `cost` of `limit` requests per `window` on `key`
    /// (GCRA on the store's clock; see the WIT's `throttle`). A refused call
    /// changes nothing.
    pub fn throttle(
        &self,
        key: &str,
        limit: u64,
        window: Duration,
        cost: u64,
    ) -> Result<Throttled, KvError> {
        let quota = Quota {
            limit,
            window_ms: window.as_millis().clamp(1, u64::MAX as u128) as u64,
        };
        Ok(self.0.throttle(key, quota, cost)?)
    }
}
