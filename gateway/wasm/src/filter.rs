//! A filter loaded for one config generation: its linked component, its spec,
//! and the pool of warm instances.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use wasmtime::Engine;
use wasmtime::component::Component;
use weir_config::CircuitBreaker;

use crate::bindings::FilterPre;
use crate::capabilities::Capabilities;
use crate::epoch::EpochClock;
use crate::error::{CallError, LoadError};
use crate::gate::{CallGate, GateStats};
use crate::host::WasmHost;
use crate::instance::{FilterInstance, Warm};
use crate::types::{FilterLimits, Isolation, OnError, Phases};

/// Everything needed to load a filter; built by the proxy from the config.
#[derive(Debug, Clone)]
pub struct FilterSpec {
    pub name: String,
    pub module: PathBuf,
    /// Handed to `init`.
    pub config_json: String,
    pub limits: FilterLimits,
    pub on_error: OnError,
    pub isolation: Isolation,
    pub circuit_breaker: CircuitBreaker,
    pub capabilities: Capabilities,
}

pub struct LoadedFilter {
    pub(crate) spec: FilterSpec,
    pub(crate) name: Arc<str>,
    pub(crate) capabilities: Arc<Capabilities>,
    pub(crate) phases: Phases,
    pub(crate) engine: Engine,
    /// The host's epoch clock: a call keeps it ticking while in flight.
    pub(crate) clock: Arc<EpochClock>,
    /// Instance slots of the host's pool, shared by every filter.
    pub(crate) pool_slots: u32,
    /// weir's I/O runtime (`WasmHost::io_handle`).
    io: tokio::runtime::Handle,
    pub(crate) pre: FilterPre<crate::state::HostState>,
    /// Concurrency limit and circuit breaker, kept across generations.
    pub(crate) gate: Arc<CallGate>,
    /// sha256 of the module's bytes, hex.
    module_digest: String,
    // Boxed so that checking an instance out or in moves a pointer, not the
    // whole store handle.
    #[allow(clippy::vec_box)]
    idle: Mutex<Vec<Box<Warm>>>,
}

impl std::fmt::Debug for LoadedFilter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedFilter")
            .field("name", &self.spec.name)
            .field("phases", &self.phases)
            .finish_non_exhaustive()
    }
}

impl LoadedFilter {
    pub(crate) async fn new(
        host: &WasmHost,
        spec: FilterSpec,
        component: &Component,
        module_digest: String,
        previous: Option<&LoadedFilter>,
    ) -> Result<Arc<Self>, LoadError> {
        let link_error = |err: wasmtime::Error| LoadError::Link {
            path: spec.module.clone(),
            reason: format!("{err:#}"),
        };
        let instance_pre = host.linker.instantiate_pre(component).map_err(link_error)?;
        let pre = FilterPre::new(instance_pre).map_err(link_error)?;
        let max_concurrent = spec.limits.max_concurrent_calls;
        let gate = previous
            .filter(|p| {
                p.module_digest == module_digest
                    && p.spec.config_json == spec.config_json
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
        let mut filter = LoadedFilter {
            name: Arc::from(spec.name.as_str()),
            capabilities: Arc::new(spec.capabilities.clone()),
            spec,
            phases: Phases::default(),
            engine: host.engine.clone(),
            clock: host.clock.clone(),
            pool_slots: host.max_instances,
            io: host.io_handle(),
            pre,
            gate,
            module_digest,
            idle: Mutex::new(Vec::new()),
        };
        // The probe: `init` must accept the config before this generation is used.
        let (probe, phases) = Warm::start(&filter).await.map_err(|err| match err {
            StartError::Rejected(msg) => LoadError::InitRejected(msg),
            StartError::Call(err) => LoadError::InitFailed(err),
            StartError::Capability(err) => err,
        })?;
        filter.phases = phases;
        if filter.spec.isolation == Isolation::Pooled {
            filter.idle.get_mut().expect("fresh lock").push(probe);
        }
        Ok(Arc::new(filter))
    }

    /// weir's I/O runtime, which keeps running while a worker thread waits.
    pub fn io_handle(&self) -> &tokio::runtime::Handle {
        &self.io
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn spec(&self) -> &FilterSpec {
        &self.spec
    }

    pub fn module_digest(&self) -> &str {
        &self.module_digest
    }

    pub fn phases(&self) -> Phases {
        self.phases
    }

    pub fn on_error(&self) -> OnError {
        self.spec.on_error
    }

    pub fn max_body_bytes(&self) -> usize {
        self.spec.limits.max_body_bytes
    }

    /// `Err(CircuitOpen)` while the circuit breaker is open and cooling down:
    /// the filter would not run, so the caller can apply `on_error` without
    /// preparing a call.
    pub fn refuse_early(&self) -> Result<(), CallError> {
        self.gate.refuse_early()
    }

    /// Calls in flight, failures and the circuit breaker's state.
    pub fn gate_stats(&self) -> GateStats {
        self.gate.stats()
    }

    /// An instance for one request: a warm one from the pool, or a new one
    /// (instantiated and `init`ed) when the pool is empty or isolation asks for it.
    pub async fn checkout(self: &Arc<Self>) -> Result<FilterInstance, CallError> {
        self.gate.refuse_early()?;
        let warm = match self.spec.isolation {
            Isolation::Pooled => self.idle.lock().expect("pool lock").pop(),
            Isolation::PerRequest => None,
        };
        let warm = match warm {
            Some(warm) => warm,
            None => match Warm::start(self).await {
                Ok((warm, _)) => warm,
                Err(StartError::Call(err)) => return Err(err),
                Err(StartError::Capability(err)) => {
                    return Err(CallError::Instantiate(err.to_string()));
                }
                Err(StartError::Rejected(msg)) => {
                    return Err(CallError::Instantiate(format!(
                        "init rejected the config: {msg}"
                    )));
                }
            },
        };
        Ok(FilterInstance::new(self.clone(), warm))
    }

    /// Takes an instance back after a request, unless it is spent or the pool is full.
    pub(crate) fn give_back(&self, warm: Box<Warm>) {
        if self.spec.isolation == Isolation::PerRequest
            || warm.uses >= self.spec.limits.recycle_after
        {
            return;
        }
        let mut idle = self.idle.lock().expect("pool lock");
        if idle.len() < self.spec.limits.max_idle_instances {
            idle.push(warm);
        }
    }

    /// Instance slots of the host's pool in use (by every filter, requests
    /// in flight and idle pools), and in all.
    pub fn instance_slots(&self) -> (u64, u32) {
        let in_use = self
            .engine
            .pooling_allocator_metrics()
            .map_or(0, |m| m.component_instances());
        (in_use, self.pool_slots)
    }

    /// Warm instances currently idle in the pool.
    pub fn idle_instances(&self) -> usize {
        self.idle.lock().expect("pool lock").len()
    }
}

pub(crate) enum StartError {
    Rejected(String),
    Call(CallError),
    Capability(LoadError),
}
