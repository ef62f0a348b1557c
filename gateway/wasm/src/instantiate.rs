//! A fresh store for a filter instance, and the instantiation in it, tried
//! again when the system refuses it for a passing reason.

use std::time::Instant;

use wasmtime::{PoolConcurrencyLimitError, Store, UpdateDeadline};

use crate::bindings::Filter;
use crate::error::CallError;
use crate::filter::{LoadedFilter, StartError};
use crate::instance::{bounded, start_call};
use crate::state::HostState;

/// How many times an instantiation refused for a passing reason is tried.
const INSTANTIATE_ATTEMPTS: u32 = 3;

/// Instantiates the filter in a fresh store. The first instantiation of a
/// module builds its copy-on-write memory image, and Linux may refuse for a
/// moment to seal that image (`EBUSY` while its pages are briefly pinned):
/// that is tried again in a fresh store rather than failing a load.
pub(crate) async fn instantiate(
    filter: &LoadedFilter,
) -> Result<(Store<HostState>, Filter), StartError> {
    let mut attempt = 1;
    loop {
        let mut store = new_store(filter)?;
        let ends = start_call(&mut store, Instant::now(), filter.spec.limits.call_deadline);
        let instantiating = filter.pre.instantiate_async(&mut store);
        match bounded(&filter.clock, ends, instantiating).await {
            Ok(bindings) => return Ok((store, bindings)),
            Err(err) if attempt < INSTANTIATE_ATTEMPTS && is_passing(&err) => {
                tracing::warn!(filter = %filter.name, attempt, "instantiation refused for a passing reason, trying again: {}", chain_text(&err));
                attempt += 1;
            }
            Err(err) if pool_exhausted(&err) => {
                return Err(StartError::Call(CallError::NoInstanceSlot {
                    slots: filter.pool_slots,
                    reason: chain_text(&err),
                }));
            }
            Err(err) => {
                return Err(StartError::Call(CallError::Instantiate(chain_text(&err))));
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

/// Every cause of the error, outermost first: the system's own reason too.
fn chain_text(err: &wasmtime::Error) -> String {
    let causes: Vec<String> = err.chain().map(|cause| cause.to_string()).collect();
    causes.join(": ")
}

fn new_store(filter: &LoadedFilter) -> Result<Store<HostState>, StartError> {
    let state = HostState::new(
        filter.name.clone(),
        filter.spec.limits.memory_bytes,
        filter.capabilities.clone(),
    )
    .map_err(StartError::Capability)?;
    let mut store = Store::new(&filter.engine, state);
    store.limiter(|state| &mut state.limits);
    // At every epoch tick a running guest either yields to the runtime
    // (other requests on this thread get their turn; see `tick_yield`) or,
    // past its deadline, traps.
    store.epoch_deadline_callback(|ctx| {
        if Instant::now() >= ctx.data().deadline {
            Err(wasmtime::Trap::Interrupt.into())
        } else {
            Ok(UpdateDeadline::YieldCustom(1, crate::epoch::tick_yield()))
        }
    });
    Ok(store)
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
            chain_text(&err),
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
