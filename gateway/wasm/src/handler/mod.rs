//! `wasi:http` handlers: components that answer a route themselves, built
//! for the `wasi:http/proxy` world (WASI 0.2) as `wasmtime serve` and Spin
//! run them. They share the filters' engine, compiled cache, instance pool,
//! store limits, epoch clock and call gate; what is their own is the
//! linker (WASI and `wasi:http`, plus weir's key-value, secrets and log
//! interfaces, each refused at load unless granted) and the exchange of one
//! request (`call.rs`), which streams both bodies through channels.
//!
//! Each request gets a fresh instance: instantiation from a pre-linked
//! component and a copy-on-write memory image is the cold start a handler
//! pays, and no state leaks from one request to the next.

mod body;
mod call;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Engine, Store};
use wasmtime_wasi_http::p2::bindings::{Proxy, ProxyPre};
use weir_config::{CircuitBreaker, HandlerLimits};

use crate::engine::WasmHost;
use crate::epoch::{EpochClock, HANDLER_SLICE};
use crate::error::{CallError, LoadError, StartError};
use crate::gate::{CallGate, GateStats};
use crate::host::HostState;
use crate::host::capabilities::{self, Capabilities};
use crate::instantiate::with_retries;
use crate::store::{arm_deadline, new_store};

pub use body::{BodySlot, RequestBody, RequestBodySender, request_body};
pub use call::{Chunk, HandlerCall};

/// Everything needed to load a handler; built by the proxy from the config.
#[derive(Debug, Clone)]
pub struct HandlerSpec {
    pub name: String,
    pub module: PathBuf,
    /// Environment variables the component sees.
    pub env: Vec<(String, String)>,
    pub limits: HandlerLimits,
    pub circuit_breaker: CircuitBreaker,
    pub capabilities: Capabilities,
}

/// The linker of the `wasi:http/proxy` world: WASI and `wasi:http` (its
/// outgoing requests checked against `grants.http`, `host/outbound.rs`),
/// and weir's own capability interfaces, which a handler may import like a
/// filter (refused at load unless granted).
pub(crate) fn linker(engine: &Engine) -> wasmtime::Result<Linker<HostState>> {
    use crate::bindings::weir::filter as weir;
    let mut linker = Linker::new(engine);
    crate::host::add_wasi_to_linker(&mut linker)?;
    weir::types::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    weir::log::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    weir::key_value::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    weir::secrets::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    weir::crypto::add_to_linker::<_, HasSelf<_>>(&mut linker, |s| s)?;
    Ok(linker)
}

impl WasmHost {
    /// Compiles (or finds in the cache) the handler's component, checks
    /// that it exports `wasi:http/incoming-handler` and that its config
    /// grants every capability it imports, links it, and makes one instance
    /// to prove it starts. Nothing is half-loaded.
    /// `previous`: the same handler in the running generation, whose gate
    /// (circuit breaker) carries on when module and settings are unchanged.
    pub async fn load_handler(
        &self,
        spec: HandlerSpec,
        previous: Option<&LoadedHandler>,
    ) -> Result<Arc<LoadedHandler>, LoadError> {
        let (component, module_digest) = self.compile_guest(
            &spec.module,
            &spec.name,
            capabilities::Importer::Handler,
            &spec.capabilities,
        )?;
        let pre = link(self, &spec, &component)?;
        let max_concurrent = spec.limits.max_concurrent_requests;
        let gate = previous
            .filter(|p| {
                p.module_digest == module_digest
                    && p.spec.env == spec.env
                    && p.gate.same_settings(&spec.circuit_breaker, max_concurrent)
            })
            .map(|p| p.gate.clone())
            .unwrap_or_else(|| {
                Arc::new(CallGate::new(
                    Arc::from(spec.name.as_str()),
                    spec.circuit_breaker.clone(),
                    max_concurrent,
                ))
            });
        let handler = LoadedHandler {
            name: Arc::from(spec.name.as_str()),
            capabilities: Arc::new(spec.capabilities.clone()),
            spec,
            pre,
            engine: self.engine.clone(),
            io: self.io_handle(),
            clock: self.clock.clone(),
            pool_slots: self.max_instances,
            gate,
            module_digest,
        };
        // The probe: an instance must start (its memory image is built here,
        // off the request path).
        handler.instantiate().await.map_err(LoadError::from)?;
        Ok(Arc::new(handler))
    }
}

fn link(
    host: &WasmHost,
    spec: &HandlerSpec,
    component: &Component,
) -> Result<ProxyPre<HostState>, LoadError> {
    let not_a_handler = |err: wasmtime::Error| LoadError::NotAHandler {
        path: spec.module.clone(),
        reason: format!("{err:#}"),
    };
    let pre = host
        .handler_linker
        .instantiate_pre(component)
        .map_err(not_a_handler)?;
    ProxyPre::new(pre).map_err(not_a_handler)
}

/// One handler of one config generation.
pub struct LoadedHandler {
    name: Arc<str>,
    spec: HandlerSpec,
    capabilities: Arc<Capabilities>,
    pre: ProxyPre<HostState>,
    engine: Engine,
    /// weir's I/O runtime: where a store's blocking waits would go.
    io: tokio::runtime::Handle,
    clock: Arc<EpochClock>,
    /// Instance slots of the host's pool, shared with the filters.
    pool_slots: u32,
    /// Concurrency limit and circuit breaker, kept across generations.
    gate: Arc<CallGate>,
    module_digest: String,
}

impl std::fmt::Debug for LoadedHandler {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedHandler")
            .field("name", &self.spec.name)
            .finish_non_exhaustive()
    }
}

impl LoadedHandler {
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn spec(&self) -> &HandlerSpec {
        &self.spec
    }

    pub fn module_digest(&self) -> &str {
        &self.module_digest
    }

    /// Requests in flight, failures and the circuit breaker's state.
    pub fn gate_stats(&self) -> GateStats {
        self.gate.stats()
    }

    /// Instance slots of the host's pool in use (filters and handlers), and in all.
    pub fn instance_slots(&self) -> (u64, u32) {
        let in_use = self
            .engine
            .pooling_allocator_metrics()
            .map_or(0, |m| m.component_instances());
        (in_use, self.pool_slots)
    }

    /// Starts serving one request: passes the gate (503 material when
    /// refused), makes a fresh instance and calls its `handle`. The
    /// response comes from the returned call.
    pub async fn call(
        self: &Arc<Self>,
        request: http::Request<RequestBody>,
        https: bool,
    ) -> Result<HandlerCall, CallError> {
        let started = Instant::now();
        let permit = CallGate::enter_with(self.gate.clone(), started)?;
        let (store, proxy) = match self.instantiate().await {
            Ok(instance) => instance,
            Err(err) => {
                let err = CallError::from(err);
                permit.finish(err.is_filter_failure(), Instant::now());
                return Err(err);
            }
        };
        Ok(HandlerCall::start(
            self.clone(),
            permit,
            store,
            proxy,
            request,
            https,
            started,
        ))
    }

    /// A fresh instance in a fresh store, its deadline armed for a whole
    /// exchange.
    async fn instantiate(&self) -> Result<(Store<HostState>, Proxy), StartError> {
        with_retries(&self.name, self.pool_slots, || async {
            let state = HostState::new(
                self.name.clone(),
                self.spec.limits.memory_bytes,
                self.capabilities.clone(),
                false,
                self.io.clone(),
                &self.spec.env,
            )
            .map_err(StartError::Capability)?
            .yielding_after(HANDLER_SLICE);
            let mut store = new_store(&self.engine, state);
            arm_deadline(&mut store, Instant::now(), self.spec.limits.stream_timeout);
            let _ticking = self.clock.enter();
            let instantiated = self.pre.instantiate_async(&mut store).await;
            Ok(instantiated.map(|proxy| (store, proxy)))
        })
        .await
    }
}
