//! `weir:filter/key-value`: the stores granted to a filter. The calls are
//! async host functions: a call that waits on Redis suspends the request's
//! task, and every call ends within the store's command timeout.

use std::time::Duration;

use wasmtime::component::Resource;

use super::HostState;
use crate::bindings::KvHandle;
use crate::bindings::weir::filter::key_value::{self, Error, Quota, Throttled};

/// Store handles one instance may hold at once.
const MAX_OPEN_STORES: u32 = 64;

fn ttl(ms: Option<u64>) -> Option<Duration> {
    ms.filter(|ms| *ms > 0).map(Duration::from_millis)
}

fn error(err: weir_kv::KvError) -> Error {
    match err {
        weir_kv::KvError::Unavailable(reason) => Error::Unavailable(reason),
        weir_kv::KvError::Invalid(reason) => Error::Invalid(reason),
    }
}

impl HostState {
    fn kv_store(&self, handle: &Resource<KvHandle>) -> Result<weir_kv::Store, Error> {
        self.table
            .get(handle)
            .map(|h| h.store.clone())
            .map_err(|err| Error::Invalid(format!("bad store handle: {err}")))
    }
}

impl key_value::Host for HostState {}

impl key_value::HostStore for HostState {
    async fn open(&mut self, name: String) -> Result<Resource<KvHandle>, Error> {
        let Some(store) = self
            .capabilities
            .key_value
            .as_ref()
            .and_then(|m| m.get(&name))
            .cloned()
        else {
            return Err(Error::NotGranted(format!(
                "key-value store {name:?} is not granted to filter {:?} (grants.key_value)",
                &*self.filter_name
            )));
        };
        if self.open_stores >= MAX_OPEN_STORES {
            return Err(Error::Invalid(format!(
                "more than {MAX_OPEN_STORES} store handles open; keep and reuse them"
            )));
        }
        let handle = self
            .table
            .push(KvHandle { store })
            .map_err(|err| Error::Invalid(err.to_string()))?;
        self.open_stores += 1;
        Ok(handle)
    }

    async fn get(&mut self, h: Resource<KvHandle>, key: String) -> Result<Option<Vec<u8>>, Error> {
        self.kv_store(&h)?.get(&key).await.map_err(error)
    }

    async fn set(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Result<(), Error> {
        let store = self.kv_store(&h)?;
        store.set(&key, &value, ttl(ttl_ms)).await.map_err(error)
    }

    async fn delete(&mut self, h: Resource<KvHandle>, key: String) -> Result<bool, Error> {
        self.kv_store(&h)?.delete(&key).await.map_err(error)
    }

    async fn increment(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
        delta: i64,
        ttl_ms: Option<u64>,
    ) -> Result<i64, Error> {
        let store = self.kv_store(&h)?;
        store
            .increment(&key, delta, ttl(ttl_ms))
            .await
            .map_err(error)
    }

    async fn compare_and_swap(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Result<bool, Error> {
        let store = self.kv_store(&h)?;
        store
            .compare_and_swap(&key, expected.as_deref(), &value, ttl(ttl_ms))
            .await
            .map_err(error)
    }

    async fn throttle(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
        quota: Quota,
        cost: u64,
    ) -> Result<Throttled, Error> {
        let store = self.kv_store(&h)?;
        let quota = weir_kv::Quota {
            limit: quota.limit,
            window: Duration::from_millis(quota.window_ms),
        };
        let answer = store.throttle(&key, quota, cost).await.map_err(error)?;
        let ms = |d: Duration| u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        Ok(Throttled {
            allowed: answer.allowed,
            remaining: answer.remaining,
            // Rounded up: "retry after 0 ms" would invite a retry that fails.
            retry_after_ms: ms(answer.retry_after + Duration::from_nanos(999_999)),
            reset_after_ms: ms(answer.reset_after),
        })
    }

    async fn drop(&mut self, h: Resource<KvHandle>) -> wasmtime::Result<()> {
        self.table.delete(h)?;
        self.open_stores = self.open_stores.saturating_sub(1);
        Ok(())
    }
}
