//! What a filter's key-value call costs in the memory store, without the
//! Wasm call around it: `throttle` (the rate-limit filter's one call per
//! request), `increment`, `get` and `set`, on a warm key, awaited on a
//! current-thread runtime as a filter's host call is.
//!
//! ```sh
//! cargo test --workspace --bench memory_store -- --bench
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use weir_kv::{Quota, Store};

fn memory_store(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .expect("runtime");
    let store = Store::memory(100_000);
    // A quota the benchmark never spends.
    let quota = Quota {
        limit: 1_000_000_000,
        window: Duration::from_secs(3600),
    };
    let mut group = c.benchmark_group("memory_store");
    group.bench_function("throttle", |b| {
        b.iter(|| {
            rt.block_on(store.throttle(black_box("rl:per-user:user-1"), quota, 1))
                .expect("throttle")
        })
    });
    group.bench_function("increment", |b| {
        b.iter(|| {
            rt.block_on(store.increment(black_box("hits:user-1"), 1, None))
                .expect("increment")
        })
    });
    rt.block_on(store.set("greeting", b"hello", None))
        .expect("set");
    group.bench_function("get", |b| {
        b.iter(|| rt.block_on(store.get(black_box("greeting"))).expect("get"))
    });
    group.bench_function("set", |b| {
        b.iter(|| {
            rt.block_on(store.set(black_box("greeting"), b"hello", None))
                .expect("set")
        })
    });
    group.finish();
}

criterion_group!(benches, memory_store);
criterion_main!(benches);
