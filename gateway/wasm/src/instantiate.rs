//! What it takes to make an instance of one filter generation (its
//! [`Recipe`]), and the instantiation in a fresh store, tried again when
//! the system refuses it for a passing reason.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{Instance, InstancePre};
use wasmtime::{Engine, PoolConcurrencyLimitError, Store};

use crate::epoch::EpochClock;
use crate::error::{CallError, EngineError, StartError, StartFailure};
use crate::gate::CallGate;
use crate::host::HostState;
use crate::host::capabilities::Capabilities;
use crate::store::{StoreData, arm_deadline, bounded, bounded_now, new_store};
use crate::types::{FilterLimits, OnError};

/// How many times an instantiation refused for a passing reason is tried.
const INSTANTIATE_ATTEMPTS: u32 = 3;

/// Everything one filter generation's instances share: how to make one and
/// how to call it.
pub(crate) struct Recipe {
    pub(crate) name: Arc<str>,
    pub(crate) engine: Engine,
    /// Linked for the async path.
    pub(crate) pre: InstancePre<HostState>,
    /// Linked for the fast path, when nothing the filter is granted waits
    /// (`filter.rs`); the fast path holds while the gate keeps it open.
    pub(crate) fast_pre: Option<InstancePre<HostState>>,
    /// weir's I/O runtime: where a fast-path guest that waits blocks.
    pub(crate) io: tokio::runtime::Handle,
    pub(crate) capabilities: Arc<Capabilities>,
    pub(crate) limits: FilterLimits,
    pub(crate) on_error: OnError,
    /// Handed to `init`.
    pub(crate) config_json: String,
    /// The host's epoch clock: a call keeps it ticking while in flight.
    pub(crate) clock: Arc<EpochClock>,
    /// Instance slots of the host's pool, shared by every filter.
    pub(crate) pool_slots: u32,
    /// Concurrency limit and circuit breaker, kept across generations.
    pub(crate) gate: Arc<CallGate>,
}

impl Recipe {
    /// The pre-linked component new instances come from: the fast path's
    /// while it is open for this filter.
    pub(crate) fn fast_path(&self) -> Option<&InstancePre<HostState>> {
        self.fast_pre
            .as_ref()
            .filter(|_| self.gate.fast_path_open())
    }
}

/// Instantiates the filter in a fresh store, linked for the fast path when
/// it is open.
pub(crate) async fn instantiate(
    recipe: &Recipe,
) -> Result<(Store<HostState>, Instance), StartError> {
    let fast_pre = recipe.fast_path();
    with_retries(&recipe.name, recipe.pool_slots, || async {
        let state = HostState::new(
            recipe.name.clone(),
            recipe.limits.memory_bytes,
            recipe.capabilities.clone(),
            fast_pre.is_some(),
            recipe.io.clone(),
            &[],
        )
        .map_err(StartError::Capability)?;
        let mut store = new_store(&recipe.engine, state);
        let ends = arm_deadline(&mut store, Instant::now(), recipe.limits.call_deadline);
        let instantiated = match fast_pre {
            Some(pre) => bounded_now(&recipe.clock, || pre.instantiate(&mut store)),
            None => {
                let yielded = store.data().yielded().clone();
                let instantiating = recipe.pre.instantiate_async(&mut store);
                bounded(&recipe.clock, ends, &yielded, instantiating).await
            }
        };
        Ok(instantiated.map(|instance| (store, instance)))
    })
    .await
}

/// Runs `attempt` (a fresh store and an instantiation in it) until it
/// succeeds or fails for good. The first instantiation of a module builds
/// its copy-on-write memory image in a sealed `memfd`, and Linux may refuse
/// for a moment to seal it (`EBUSY` while its pages are briefly pinned):
/// that is tried again in a fresh store rather than failing a load. A full
/// instance pool is `NoInstanceSlot`; anything else fails the instantiation.
pub(crate) async fn with_retries<T, F, Fut>(
    name: &str,
    pool_slots: u32,
    mut attempt: F,
) -> Result<T, StartError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<wasmtime::Result<T>, StartError>>,
{
    let mut tries = 1;
    loop {
        match attempt().await? {
            Ok(instance) => return Ok(instance),
            Err(err) if tries < INSTANTIATE_ATTEMPTS && is_passing(&err) => {
                tracing::warn!(
                    guest = name,
                    attempt = tries,
                    "instantiation refused for a passing reason, trying again: {err:#}"
                );
                tries += 1;
            }
            Err(err) if pool_exhausted(&err) => {
                return Err(StartError::Call(CallError::NoInstanceSlot {
                    slots: pool_slots,
                    reason: EngineError::new(err),
                }));
            }
            Err(err) => {
                return Err(StartError::Call(CallError::Instantiate(
                    StartFailure::Engine(EngineError::new(err)),
                )));
            }
        }
    }
}

/// An error the system may not repeat: a resource busy for a moment.
fn is_passing(err: &wasmtime::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::ResourceBusy)
    })
}

/// The host's pool has no free slot (instance, memory, table or stack).
fn pool_exhausted(err: &wasmtime::Error) -> bool {
    err.chain()
        .any(|cause| cause.downcast_ref::<PoolConcurrencyLimitError>().is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_busy_resource_anywhere_in_the_chain_is_passing() {
        let busy = std::io::Error::from(std::io::ErrorKind::ResourceBusy);
        let err = wasmtime::Error::from(busy).context("cannot add seals to the memfd");
        assert!(is_passing(&err));
        assert_eq!(
            EngineError::new(err).to_string(),
            format!(
                "cannot add seals to the memfd: {}",
                std::io::Error::from(std::io::ErrorKind::ResourceBusy)
            )
        );
    }

    #[test]
    fn other_failures_are_not_tried_again() {
        let denied = std::io::Error::from(std::io::ErrorKind::PermissionDenied);
        assert!(!is_passing(&wasmtime::Error::from(denied).context("mmap")));
        assert!(!is_passing(&wasmtime::format_err!("unknown import")));
    }
}
