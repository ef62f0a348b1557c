//! Key-value stores for weir's filters: an in-process one ([`Store::memory`])
//! and Redis ([`Store::redis`]). Nothing here knows of Wasm or Pingora;
//! weir-wasm's host module wraps a [`Store`] for filters.
//!
//! Both backends answer alike: the same limits (key at most 1 KiB, value at
//! most 1 MiB), TTLs in whole milliseconds, counters stored as ASCII decimal.

mod error;
mod gcra;
mod limits;
mod memory;
mod remote;
mod remote_ops;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

pub use error::KvError;
pub use gcra::{Quota, Throttle};
pub use limits::{MAX_KEY_BYTES, MAX_VALUE_BYTES};
pub use remote::RedisConfig;

use limits::{check_key, check_value};
use memory::MemoryStore;
use remote::RedisStore;

/// A store, cheap to clone (Arc inside), Send + Sync.
#[derive(Clone)]
pub struct Store {
    backend: Arc<Backend>,
}

enum Backend {
    Memory(MemoryStore),
    Redis(RedisStore),
}

impl Store {
    /// In-process store, bounded to `max_entries`, with per-entry TTL eviction.
    /// Two memory stores never share entries.
    pub fn memory(max_entries: u64) -> Store {
        Store::from(Backend::Memory(MemoryStore::new(max_entries)))
    }

    /// Redis store. Does not fail or block when Redis is down: it connects
    /// lazily and reconnects by itself. `runtime` owns the connections'
    /// background tasks, so they outlive any request's runtime; calls may
    /// come from any tokio runtime. Returns Err only for an unparsable URL.
    pub fn redis(config: RedisConfig, runtime: tokio::runtime::Handle) -> Result<Store, KvError> {
        Ok(Store::from(Backend::Redis(RedisStore::new(
            config, runtime,
        )?)))
    }

    fn from(backend: Backend) -> Store {
        Store {
            backend: Arc::new(backend),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<Vec<u8>>, KvError> {
        check_key(key)?;
        match &*self.backend {
            Backend::Memory(m) => Ok(m.get(key)),
            Backend::Redis(r) => r.get(key).await,
        }
    }

    /// ttl None: no expiry.
    pub async fn set(&self, key: &str, value: &[u8], ttl: Option<Duration>) -> Result<(), KvError> {
        check_key(key)?;
        check_value(value)?;
        match &*self.backend {
            Backend::Memory(m) => {
                m.set(key, value, ttl);
                Ok(())
            }
            Backend::Redis(r) => r.set(key, value, ttl).await,
        }
    }

    /// Whether the key existed.
    pub async fn delete(&self, key: &str) -> Result<bool, KvError> {
        check_key(key)?;
        match &*self.backend {
            Backend::Memory(m) => Ok(m.delete(key)),
            Backend::Redis(r) => r.delete(key).await,
        }
    }

    /// Adds `delta` to the integer at `key` (a missing key counts as 0) and
    /// returns the new value. `ttl` applies only when this call creates the key
    /// (a fixed-window counter: the window starts with the first increment); an
    /// existing key keeps its expiry. Stored as ASCII decimal, as Redis INCRBY
    /// does, so `get` returns e.g. b"3". Non-integer value or overflow:
    /// [`KvError::Invalid`].
    pub async fn increment(
        &self,
        key: &str,
        delta: i64,
        ttl: Option<Duration>,
    ) -> Result<i64, KvError> {
        check_key(key)?;
        match &*self.backend {
            Backend::Memory(m) => m.increment(key, delta, ttl),
            Backend::Redis(r) => r.increment(key, delta, ttl).await,
        }
    }

    /// Sets `value` only if the current value equals `expected` (None: only if
    /// the key is absent). Returns whether it was set. Atomic.
    pub async fn compare_and_swap(
        &self,
        key: &str,
        expected: Option<&[u8]>,
        value: &[u8],
        ttl: Option<Duration>,
    ) -> Result<bool, KvError> {
        check_key(key)?;
        check_value(value)?;
        if let Some(expected) = expected {
            check_value(expected)?;
        }
        match &*self.backend {
            Backend::Memory(m) => Ok(m.compare_and_swap(key, expected, value, ttl)),
            Backend::Redis(r) => r.compare_and_swap(key, expected, value, ttl).await,
        }
    }

    /// Rate limiting: one step of GCRA (see [`Quota`]) on `key`, atomic, on
    /// the backend's clock (Redis: the server's, so instances agree). A
    /// refused request leaves the state as it was. `cost` is between 1 and
    /// the quota's limit.
    pub async fn throttle(&self, key: &str, quota: Quota, cost: u64) -> Result<Throttle, KvError> {
        check_key(key)?;
        let gcra = gcra::Gcra::new(quota, cost)?;
        match &*self.backend {
            Backend::Memory(m) => Ok(m.throttle(key, gcra, cost)),
            Backend::Redis(r) => r.throttle(key, gcra, cost).await,
        }
    }

    /// Whether calls complete without waiting (the memory store): its async
    /// calls are ready at their first poll.
    pub fn never_waits(&self) -> bool {
        matches!(&*self.backend, Backend::Memory(_))
    }

    /// "memory" or "redis" (for logs / admin).
    pub fn kind(&self) -> &'static str {
        match &*self.backend {
            Backend::Memory(_) => "memory",
            Backend::Redis(_) => "redis",
        }
    }
}

impl fmt::Debug for Store {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = f.debug_struct("Store");
        s.field("kind", &self.kind());
        if let Backend::Redis(r) = &*self.backend {
            s.field("key_prefix", &r.key_prefix);
        }
        s.finish()
    }
}
