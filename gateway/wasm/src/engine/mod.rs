//! The process-wide Wasm host: one `Engine` with the pooling allocator and
//! epoch interruption, its epoch clock, the linker of the filter world, the
//! compiled-component cache and weir's I/O runtime. Every kind of guest
//! shares these; what a kind adds (its linker, its loading) lives in its own
//! module, such as `filter.rs` for `weir:filter` components.

pub(crate) mod cache;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig};

use crate::bindings::Filter;
use crate::epoch::{EpochClock, Ticker};
use crate::error::LoadError;
use crate::host::HostState;
use crate::host::capabilities::{Capabilities, Importer, check_imports};
use cache::ComponentCache;

#[derive(Debug, Clone)]
pub struct HostOptions {
    /// Where precompiled artifacts are kept across restarts; `None`: memory only.
    pub cache_dir: Option<PathBuf>,
    /// Instances that may exist at once across all filters (pooling allocator
    /// slots): checked out by requests in flight, or idle in a filter's pool.
    pub max_instances: u32,
    /// The largest memory cap any filter may have.
    pub max_memory_bytes: usize,
}

impl Default for HostOptions {
    fn default() -> Self {
        HostOptions {
            cache_dir: None,
            max_instances: 1000,
            max_memory_bytes: 4 << 30,
        }
    }
}

pub struct WasmHost {
    pub(crate) engine: Engine,
    /// For filters granted what waits: calls on a fiber.
    pub(crate) linker: Linker<HostState>,
    /// For the others: calls on the worker thread (the fast path).
    pub(crate) fast_linker: Linker<HostState>,
    /// For `wasi:http` handlers (`handler/`).
    pub(crate) handler_linker: Linker<HostState>,
    pub(crate) cache: ComponentCache,
    io: IoRuntime,
    /// `HostOptions::max_instances`.
    pub(crate) max_instances: u32,
    /// Calls in flight, which keep the ticker ticking.
    pub(crate) clock: Arc<EpochClock>,
    /// Started with the first filter: a gateway without filters has no
    /// epoch thread. Stopped when the host is dropped.
    ticker: OnceLock<Ticker>,
}

impl WasmHost {
    pub fn new(options: HostOptions) -> Result<Self, LoadError> {
        let engine = Engine::new(&engine_config(&options)).map_err(engine_error)?;
        let mut linker = Linker::new(&engine);
        crate::host::add_wasi_to_linker(&mut linker).map_err(engine_error)?;
        Filter::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s).map_err(engine_error)?;
        let mut fast_linker = Linker::new(&engine);
        crate::host::add_wasi_to_linker_fast(&mut fast_linker).map_err(engine_error)?;
        crate::bindings::fast::Filter::add_to_linker::<_, HasSelf<_>>(&mut fast_linker, |s| s)
            .map_err(engine_error)?;
        let handler_linker = crate::handler::linker(&engine).map_err(engine_error)?;
        let cache = ComponentCache::new(&engine, options.cache_dir)?;
        Ok(WasmHost {
            engine,
            linker,
            fast_linker,
            handler_linker,
            cache,
            io: IoRuntime::start()?,
            max_instances: options.max_instances,
            clock: Arc::new(EpochClock::default()),
            ticker: OnceLock::new(),
        })
    }

    /// The first steps of loading any guest: its module read and compiled
    /// (or found in the cache), its imports checked against its grants, and
    /// the ticker started (deadlines count its ticks, from the first call
    /// at load on). Returns the component and the hex sha256 of its bytes.
    pub(crate) fn compile_guest(
        &self,
        module: &std::path::Path,
        name: &str,
        importer: Importer,
        capabilities: &Capabilities,
    ) -> Result<(Component, String), LoadError> {
        self.start_ticker();
        let bytes = std::fs::read(module).map_err(|source| LoadError::Read {
            path: module.to_owned(),
            source,
        })?;
        let (component, digest) = self.cache.get_or_compile(&self.engine, module, &bytes)?;
        check_imports(&self.engine, &component, name, importer, capabilities)?;
        Ok((component, cache::hex(&digest)))
    }

    /// Starts the epoch ticker, once: deadlines count its ticks. Started
    /// with the first guest loaded, so a gateway without any has no epoch
    /// thread.
    pub(crate) fn start_ticker(&self) {
        self.ticker
            .get_or_init(|| Ticker::start(self.engine.clone(), self.clock.clone()));
    }

    /// The runtime that owns capability connections (Redis): they outlive
    /// any request's runtime and every config generation.
    pub fn io_handle(&self) -> tokio::runtime::Handle {
        self.io.handle()
    }

    /// Runs a future to completion from outside any runtime (start-up,
    /// `weir check`), with the I/O runtime's timers and sockets available.
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.io.block_on(future)
    }

    /// Number of components compiled in this process (cache misses), for tests
    /// and metrics.
    pub fn compiled_count(&self) -> u64 {
        self.cache.compiled_count()
    }
}

fn engine_config(options: &HostOptions) -> Config {
    let mut config = Config::new();
    config.wasm_component_model(true);
    // Calls are made with the async API (see bindings.rs); each call in
    // flight runs on a fiber stack from the pool (2 MiB by default).
    // Deadlines: the ticker thread bumps the epoch, a store traps once past its deadline.
    config.epoch_interruption(true);
    // Copy-on-write memory images make instantiation cheap.
    config.memory_init_cow(true);
    // `perf` names the filters' compiled functions from /tmp/perf-<pid>.map.
    if std::env::var_os("WEIR_PERF_MAP").is_some_and(|v| v == "1") {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    let mut pooling = PoolingAllocationConfig::default();
    let instances = options.max_instances;
    pooling.total_component_instances(instances);
    // Components from JS/Python/Go toolchains carry several core instances,
    // memories and tables (the WASI adapter has its own).
    pooling.total_core_instances(instances * 8);
    pooling.total_memories(instances * 2);
    pooling.total_tables(instances * 4);
    pooling.max_memory_size(options.max_memory_bytes);
    pooling.max_memories_per_component(4);
    pooling.max_tables_per_component(8);
    pooling.max_core_instances_per_component(32);
    pooling.max_component_instance_size(1 << 20);
    pooling.max_core_instance_size(1 << 20);
    pooling.total_stacks(instances);
    config.allocation_strategy(InstanceAllocationStrategy::Pooling(pooling));
    config
}

fn engine_error(err: wasmtime::Error) -> LoadError {
    LoadError::Engine(format!("{err:#}"))
}

/// A small runtime of weir's own for capability I/O. Dropped without
/// waiting, so a host dropped inside another runtime does not panic.
struct IoRuntime(Option<tokio::runtime::Runtime>);

impl IoRuntime {
    fn start() -> Result<Self, LoadError> {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("weir-io")
            .enable_all()
            .build()
            .map(|rt| IoRuntime(Some(rt)))
            .map_err(|err| LoadError::Engine(format!("cannot start the I/O runtime: {err}")))
    }

    fn runtime(&self) -> &tokio::runtime::Runtime {
        self.0
            .as_ref()
            .expect("the I/O runtime lives as long as the host")
    }

    fn handle(&self) -> tokio::runtime::Handle {
        self.runtime().handle().clone()
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime().block_on(future)
    }
}

impl Drop for IoRuntime {
    fn drop(&mut self) {
        if let Some(rt) = self.0.take() {
            rt.shutdown_background();
        }
    }
}
