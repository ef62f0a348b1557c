//! What the criterion benchmarks share: filters built from `filters/`,
//! loaded with generous limits, and an async loop to time.
// Each benchmark binary uses a part of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::Bencher;
use tokio::runtime::Runtime;
use weir_wasm::{
    Capabilities, FilterLimits, FilterSpec, Isolation, LoadedFilter, OnError, WasmHost,
};

fn module(file: &str) -> PathBuf {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../filters/target/wasm32-wasip2/release")
        .join(file);
    assert!(
        path.exists(),
        "{} is missing: run scripts/build-filters.sh first",
        path.display()
    );
    path
}

/// Loads the component `file` with `config` (JSON), fail-closed, 1 s deadline.
pub fn load(
    host: &WasmHost,
    file: &str,
    config: &str,
    isolation: Isolation,
    capabilities: Capabilities,
) -> Arc<LoadedFilter> {
    let spec = spec(file, module(file), config, isolation, capabilities);
    host.block_on(host.load_filter(spec, None))
        .expect("filter loads")
}

/// A fail-closed filter with a 1 s deadline and a pool of 16.
pub fn spec(
    name: &str,
    module: PathBuf,
    config: &str,
    isolation: Isolation,
    capabilities: Capabilities,
) -> FilterSpec {
    FilterSpec {
        name: name.to_owned(),
        module,
        config_json: config.to_owned(),
        limits: FilterLimits {
            call_deadline: Duration::from_secs(1),
            memory_bytes: 64 << 20,
            max_body_bytes: 1 << 20,
            recycle_after: u32::MAX,
            max_idle_instances: 16,
            max_concurrent_calls: 100,
        },
        on_error: OnError::FailClosed,
        isolation,
        circuit_breaker: weir_config::CircuitBreaker::default(),
        capabilities,
    }
}

pub fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
}

/// Times `iters` sequential awaits of `call` inside one task.
pub fn iter_async<F: AsyncFnMut()>(b: &mut Bencher, rt: &Runtime, mut call: F) {
    b.iter_custom(|iters| {
        rt.block_on(async {
            let started = Instant::now();
            for _ in 0..iters {
                call().await;
            }
            started.elapsed()
        })
    })
}
