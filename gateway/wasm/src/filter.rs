//! `weir:filter` components: a filter loaded for one config generation (its
//! linked component, its spec, the pool of warm instances) and the instance
//! a request checks out of that pool.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use wasmtime::component::Component;
use weir_config::CircuitBreaker;

use crate::bindings::FilterPre;
use crate::engine::WasmHost;
use crate::error::{CallError, LoadError};
use crate::gate::{CallGate, GateStats};
use crate::host::capabilities::{self, Capabilities};
use crate::instance::{CallTiming, Instance, Warm};
use crate::instantiate::Recipe;
use crate::phase::{PhaseCall, PhaseSet, Verdict};
use crate::types::{FilterLimits, Isolation, OnError};
use crate::view::Exchange;

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

impl WasmHost {
    /// Compiles (or finds in the cache) the filter's component, checks that
    /// its config grants every capability it imports, links it, runs `init`
    /// with its config in a probe instance and keeps that instance warm.
    /// Fails if anything in that chain fails; nothing is half-loaded.
    /// `previous`: the same filter in the running generation, whose circuit
    /// breaker carries on when module, config and settings are unchanged.
    pub async fn load_filter(
        &self,
        spec: FilterSpec,
        previous: Option<&LoadedFilter>,
    ) -> Result<Arc<LoadedFilter>, LoadError> {
        let (component, digest) = self.compile_guest(
            &spec.module,
            &spec.name,
            capabilities::Importer::Filter,
            &spec.capabilities,
        )?;
        LoadedFilter::new(self, spec, &component, digest, previous).await
    }
}

pub struct LoadedFilter {
    spec: FilterSpec,
    recipe: Recipe,
    phases: PhaseSet,
    /// weir's I/O runtime (`WasmHost::io_handle`).
    io: tokio::runtime::Handle,
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
    async fn new(
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
        // Checks that the component exports the filter world.
        FilterPre::new(instance_pre.clone()).map_err(link_error)?;
        let fast_pre = if never_waits(&spec.capabilities) {
            match host.fast_linker.instantiate_pre(component) {
                Ok(pre) => Some(pre),
                Err(err) => {
                    tracing::debug!(filter = %spec.name, "the fast path does not link; calls take the async path: {err:#}");
                    None
                }
            }
        } else {
            None
        };
        let max_concurrent = spec.limits.max_concurrent_calls;
        let gate = previous
            .filter(|p| {
                p.module_digest == module_digest
                    && p.spec.config_json == spec.config_json
                    && p.recipe
                        .gate
                        .same_settings(&spec.circuit_breaker, max_concurrent)
            })
            .map(|p| p.recipe.gate.clone())
            .unwrap_or_else(|| {
                Arc::new(CallGate::new(
                    Arc::from(spec.name.as_str()),
                    spec.circuit_breaker.clone(),
                    max_concurrent,
                ))
            });
        let recipe = Recipe {
            name: Arc::from(spec.name.as_str()),
            engine: host.engine.clone(),
            pre: instance_pre,
            fast_pre,
            io: host.io_handle(),
            capabilities: Arc::new(spec.capabilities.clone()),
            limits: spec.limits.clone(),
            on_error: spec.on_error,
            config_json: spec.config_json.clone(),
            clock: host.clock.clone(),
            pool_slots: host.max_instances,
            gate,
        };
        // The probe: `init` must accept the config before this generation is used.
        let (probe, phases) = Warm::start(&recipe).await?;
        let mut idle = Vec::new();
        if spec.isolation != Isolation::PerRequest {
            idle.push(probe);
        }
        Ok(Arc::new(LoadedFilter {
            spec,
            recipe,
            phases,
            io: host.io_handle(),
            module_digest,
            idle: Mutex::new(idle),
        }))
    }

    /// weir's I/O runtime, which keeps running while a worker thread waits.
    pub fn io_handle(&self) -> &tokio::runtime::Handle {
        &self.io
    }

    #[inline]
    pub fn name(&self) -> &str {
        &self.spec.name
    }

    pub fn spec(&self) -> &FilterSpec {
        &self.spec
    }

    pub fn module_digest(&self) -> &str {
        &self.module_digest
    }

    #[inline]
    pub fn phases(&self) -> PhaseSet {
        self.phases
    }

    #[inline]
    pub fn on_error(&self) -> OnError {
        self.spec.on_error
    }

    #[inline]
    pub fn max_body_bytes(&self) -> usize {
        self.spec.limits.max_body_bytes
    }

    /// `Err(CircuitOpen)` while the circuit breaker is open and cooling down:
    /// the filter would not run, so the caller can apply `on_error` without
    /// preparing a call.
    pub fn refuse_early(&self) -> Result<(), CallError> {
        self.recipe.gate.refuse_early()
    }

    /// Calls in flight, failures and the circuit breaker's state.
    pub fn gate_stats(&self) -> GateStats {
        self.recipe.gate.stats()
    }

    /// Whether a request keeps its instance between its calls to the filter
    /// (else it gives it back after each: `isolation: shared`).
    #[inline]
    pub fn held_between_calls(&self) -> bool {
        self.spec.isolation != Isolation::Shared
    }

    /// Whether calls take the fast path: on the worker thread, no fiber.
    pub fn on_fast_path(&self) -> bool {
        self.recipe.fast_path().is_some()
    }

    /// An instance for one request: a warm one from the pool, or a new one
    /// (instantiated and `init`ed) when the pool is empty or isolation asks for it.
    pub async fn checkout(self: &Arc<Self>) -> Result<FilterInstance, CallError> {
        self.recipe.gate.refuse_early()?;
        let warm = match self.spec.isolation {
            Isolation::Pooled | Isolation::Shared => self.pooled(),
            Isolation::PerRequest => None,
        };
        let warm = match warm {
            Some(warm) => warm,
            // Boxed: instantiation's future is large, and every request's
            // future would otherwise reserve room for it, and Pingora moves
            // that future onto the heap for each request.
            None => Box::pin(Warm::start(&self.recipe)).await?.0,
        };
        Ok(FilterInstance {
            filter: self.clone(),
            instance: Instance::new(warm),
        })
    }

    /// A warm instance from the pool, linked for the path calls take now:
    /// those linked for the fast path are dropped once the filter left it.
    fn pooled(&self) -> Option<Box<Warm>> {
        let fast = self.on_fast_path();
        let mut idle = self.idle.lock().expect("pool lock");
        while let Some(warm) = idle.pop() {
            if warm.fast() == fast {
                return Some(warm);
            }
        }
        None
    }

    /// Takes an instance back after a request, unless it is spent, linked
    /// for a path calls no longer take, or the pool is full.
    fn give_back(&self, warm: Box<Warm>) {
        if self.spec.isolation == Isolation::PerRequest
            || warm.uses >= self.spec.limits.recycle_after
            || warm.fast() != self.on_fast_path()
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
            .recipe
            .engine
            .pooling_allocator_metrics()
            .map_or(0, |m| m.component_instances());
        (in_use, self.recipe.pool_slots)
    }

    /// Warm instances currently idle in the pool.
    pub fn idle_instances(&self) -> usize {
        self.idle.lock().expect("pool lock").len()
    }
}

/// Whether nothing a filter is granted makes it wait: no Redis store, no
/// outbound HTTP origin, no files (in-process stores answer at once). Such a
/// filter runs on the fast path.
fn never_waits(capabilities: &Capabilities) -> bool {
    capabilities
        .key_value
        .as_ref()
        .is_none_or(|stores| stores.values().all(weir_kv::Store::never_waits))
        && capabilities.files.is_none()
        && capabilities
            .http
            .as_ref()
            .is_none_or(|grant| grant.allow.is_empty())
}

/// An instance checked out for one request; goes back to the pool on drop
/// unless a call failed.
pub struct FilterInstance {
    filter: Arc<LoadedFilter>,
    instance: Instance,
}

impl FilterInstance {
    pub fn filter(&self) -> &Arc<LoadedFilter> {
        &self.filter
    }

    /// When the last phase call started and ended (also a refused one).
    #[inline]
    pub fn last_call(&self) -> Option<CallTiming> {
        self.instance.last_call()
    }

    /// One phase call: the filter's verdict, or why the call failed.
    pub async fn call(
        &mut self,
        exchange: &mut Box<Exchange>,
        call: PhaseCall<'_>,
    ) -> Result<Verdict, CallError> {
        self.instance
            .call(&self.filter.recipe, exchange, call)
            .await
    }
}

impl Drop for FilterInstance {
    fn drop(&mut self) {
        if let Some(warm) = self.instance.take_warm() {
            self.filter.give_back(warm);
        }
    }
}
