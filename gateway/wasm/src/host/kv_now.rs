//! `weir:filter/key-value` for filters on the fast path, whose calls cannot
//! suspend: only in-process (memory) stores are granted to such a filter
//! (`filter.rs`), and their calls complete at once. Each call runs the
//! async implementation (`kv.rs`) to its first poll; one that would wait
//! after all answers `unavailable` rather than block the worker thread.

use futures::FutureExt;
use wasmtime::component::Resource;

use super::HostState;
use crate::bindings::KvHandle;
use crate::bindings::fast::weir::filter::key_value as now;
use crate::bindings::weir::filter::key_value as waits;

fn settle<R>(op: impl Future<Output = Result<R, waits::Error>>) -> Result<R, now::Error> {
    match op.now_or_never() {
        Some(done) => done.map_err(error),
        None => Err(now::Error::Unavailable(
            "the store would wait, which a filter on the fast path cannot".to_owned(),
        )),
    }
}

fn error(err: waits::Error) -> now::Error {
    match err {
        waits::Error::NotGranted(reason) => now::Error::NotGranted(reason),
        waits::Error::Unavailable(reason) => now::Error::Unavailable(reason),
        waits::Error::Invalid(reason) => now::Error::Invalid(reason),
    }
}

impl now::Host for HostState {}

impl now::HostStore for HostState {
    fn open(&mut self, name: String) -> Result<Resource<KvHandle>, now::Error> {
        settle(waits::HostStore::open(self, name))
    }

    fn get(&mut self, h: Resource<KvHandle>, key: String) -> Result<Option<Vec<u8>>, now::Error> {
        settle(waits::HostStore::get(self, h, key))
    }

    fn set(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Result<(), now::Error> {
        settle(waits::HostStore::set(self, h, key, value, ttl_ms))
    }

    fn delete(&mut self, h: Resource<KvHandle>, key: String) -> Result<bool, now::Error> {
        settle(waits::HostStore::delete(self, h, key))
    }

    fn increment(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
        delta: i64,
        ttl_ms: Option<u64>,
    ) -> Result<i64, now::Error> {
        settle(waits::HostStore::increment(self, h, key, delta, ttl_ms))
    }

    fn compare_and_swap(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
        ttl_ms: Option<u64>,
    ) -> Result<bool, now::Error> {
        settle(waits::HostStore::compare_and_swap(
            self, h, key, expected, value, ttl_ms,
        ))
    }

    fn throttle(
        &mut self,
        h: Resource<KvHandle>,
        key: String,
        quota: now::Quota,
        cost: u64,
    ) -> Result<now::Throttled, now::Error> {
        let quota = waits::Quota {
            limit: quota.limit,
            window_ms: quota.window_ms,
        };
        settle(waits::HostStore::throttle(self, h, key, quota, cost)).map(|t| now::Throttled {
            allowed: t.allowed,
            remaining: t.remaining,
            retry_after_ms: t.retry_after_ms,
            reset_after_ms: t.reset_after_ms,
        })
    }

    fn drop(&mut self, h: Resource<KvHandle>) -> wasmtime::Result<()> {
        waits::HostStore::drop(self, h)
            .now_or_never()
            .unwrap_or_else(|| Err(wasmtime::format_err!("dropping a store handle waited")))
    }
}
