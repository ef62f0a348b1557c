use std::path::PathBuf;
use std::sync::Arc;

use crate::store::MemoryCapExceeded;

/// Why a filter could not be loaded. Reported as a config error.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("cannot read module {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("module {path} is not a valid weir filter component: {reason}")]
    Compile { path: PathBuf, reason: String },
    #[error("module {path} does not fit the weir:filter contract: {reason}")]
    Link { path: PathBuf, reason: String },
    /// A handler's component does not export `wasi:http/incoming-handler`.
    #[error(
        "module {path} is not a wasi:http handler weir can run (it must export wasi:http/incoming-handler@0.2.x and import only WASI, wasi:http and weir's capability interfaces): {reason}"
    )]
    NotAHandler { path: PathBuf, reason: String },
    /// The filter's `init` returned an error for its config.
    #[error("init rejected the config: {0}")]
    InitRejected(String),
    /// `init` trapped or ran out of its limits.
    #[error("init failed: {0}")]
    InitFailed(CallError),
    #[error("cannot create the Wasm engine: {0}")]
    Engine(String),
    /// The component imports a capability its config does not grant.
    #[error(
        "{filter:?} imports {capability}, which its config does not grant (add {grant}{hint})",
        hint = if grant == "grants.http" { "; `http: { allow: [] }` consents without granting any origin" } else { "" }
    )]
    NotGranted {
        filter: String,
        capability: String,
        grant: String,
    },
    /// A granted capability could not be set up (e.g. the files directory).
    #[error("cannot set up {capability}: {reason}")]
    Capability { capability: String, reason: String },
}

/// Why one call into a filter failed. The instance that failed is discarded.
#[derive(Debug, Clone, thiserror::Error)]
pub enum CallError {
    #[error("exceeded its call deadline")]
    Deadline,
    #[error("exceeded its memory limit")]
    MemoryLimit,
    #[error("trapped: {0}")]
    Trap(EngineError),
    #[error("could not be instantiated: {0}")]
    Instantiate(StartFailure),
    /// The filter returned something weir cannot use (e.g. status 42).
    #[error("returned an invalid result: {0}")]
    InvalidResult(String),
    /// Not run: the filter's circuit breaker is open after repeated failures.
    #[error("not run: its circuit breaker is open")]
    CircuitOpen,
    /// Not run: as many calls as `max_concurrent_calls` are in flight.
    #[error("not run: {0} calls already in flight (max_concurrent_calls)")]
    Overloaded(u32),
    /// Not run: the host's pool, sized by `server.max_filter_instances`,
    /// is full (its instances, or the memories, tables or stacks they
    /// bring), held by requests in flight and the filters' idle pools.
    #[error(
        "not run: the filter instance pool is full (server.max_filter_instances is {slots}): {reason}"
    )]
    NoInstanceSlot { slots: u32, reason: EngineError },
}

/// An error from wasmtime, kept whole (shared, so a `CallError` can be
/// cloned) and shown with every cause, outermost first.
#[derive(Debug, Clone)]
pub struct EngineError(Arc<wasmtime::Error>);

impl EngineError {
    pub fn new(err: wasmtime::Error) -> Self {
        EngineError(Arc::new(err))
    }
}

impl std::fmt::Display for EngineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:#}", self.0)
    }
}

/// Why an instance for a call could not be made.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StartFailure {
    #[error("{0}")]
    Engine(EngineError),
    /// A granted capability could not be set up for the new instance.
    #[error("{0}")]
    Capability(Arc<LoadError>),
    #[error("init rejected the config: {0}")]
    Rejected(String),
    /// An earlier call on this instance failed and it was discarded.
    #[error("instance was discarded after an earlier failure")]
    Discarded,
}

impl CallError {
    /// Every `kind`, in `kind_index` order: metrics resolve one counter per
    /// kind up front.
    pub const KINDS: [&'static str; 8] = [
        "trap",
        "deadline",
        "memory",
        "invalid_result",
        "instantiate",
        "circuit_open",
        "overloaded",
        "no_instance_slot",
    ];

    /// A short stable name for logs, metrics and the admin endpoint.
    pub fn kind(&self) -> &'static str {
        Self::KINDS[self.kind_index()]
    }

    /// The position of this error's kind in `KINDS`.
    pub fn kind_index(&self) -> usize {
        match self {
            CallError::Trap(_) => 0,
            CallError::Deadline => 1,
            CallError::MemoryLimit => 2,
            CallError::InvalidResult(_) => 3,
            CallError::Instantiate(_) => 4,
            CallError::CircuitOpen => 5,
            CallError::Overloaded(_) => 6,
            CallError::NoInstanceSlot { .. } => 7,
        }
    }

    /// Whether the filter itself failed (what the circuit breaker counts),
    /// as opposed to weir declining to run it.
    pub fn is_filter_failure(&self) -> bool {
        !matches!(
            self,
            CallError::CircuitOpen | CallError::Overloaded(_) | CallError::NoInstanceSlot { .. }
        )
    }

    /// Sorts a wasmtime error from a call into what went wrong, by its type,
    /// so logs and metrics can tell a runaway loop from a crash.
    pub(crate) fn from_wasmtime(err: wasmtime::Error) -> Self {
        if err.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt) {
            return CallError::Deadline;
        }
        if err
            .chain()
            .any(|cause| cause.downcast_ref::<MemoryCapExceeded>().is_some())
        {
            return CallError::MemoryLimit;
        }
        CallError::Trap(EngineError::new(err))
    }
}

/// Why making a warm instance (instantiation and `init`) failed.
pub(crate) enum StartError {
    Rejected(String),
    Call(CallError),
    Capability(LoadError),
}

impl From<StartError> for CallError {
    /// A failure to start an instance for a request: the call fails.
    fn from(err: StartError) -> Self {
        match err {
            StartError::Call(err) => err,
            StartError::Capability(err) => {
                CallError::Instantiate(StartFailure::Capability(Arc::new(err)))
            }
            StartError::Rejected(msg) => CallError::Instantiate(StartFailure::Rejected(msg)),
        }
    }
}

impl From<StartError> for LoadError {
    /// A failure to start the probe instance: the filter does not load.
    fn from(err: StartError) -> Self {
        match err {
            StartError::Rejected(msg) => LoadError::InitRejected(msg),
            StartError::Call(err) => LoadError::InitFailed(err),
            StartError::Capability(err) => err,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refused_memory_growth_is_a_memory_limit_by_its_type() {
        let refused = wasmtime::Error::from(MemoryCapExceeded {
            desired: 2 << 20,
            cap: 1 << 20,
        })
        .context("in the guest");
        assert!(matches!(
            CallError::from_wasmtime(refused),
            CallError::MemoryLimit
        ));
        let trap = CallError::from_wasmtime(wasmtime::format_err!("unreachable executed"));
        assert_eq!(trap.kind(), "trap");
        assert_eq!(trap.to_string(), "trapped: unreachable executed");
    }

    #[test]
    fn kinds_are_distinct() {
        let mut kinds = CallError::KINDS.to_vec();
        kinds.sort_unstable();
        kinds.dedup();
        assert_eq!(kinds.len(), CallError::KINDS.len());
        assert_eq!(CallError::Deadline.kind(), "deadline");
        assert_eq!(CallError::Overloaded(3).kind(), "overloaded");
    }
}
