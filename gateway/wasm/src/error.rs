use std::path::PathBuf;

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
        "filter {filter:?} imports {capability}, which its config does not grant (add {grant}{hint})",
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
    Trap(String),
    #[error("could not be instantiated: {0}")]
    Instantiate(String),
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
    NoInstanceSlot { slots: u32, reason: String },
}

impl CallError {
    /// A short stable name for logs, metrics and the admin endpoint.
    pub fn kind(&self) -> &'static str {
        match self {
            CallError::Deadline => "deadline",
            CallError::MemoryLimit => "memory",
            CallError::Trap(_) => "trap",
            CallError::Instantiate(_) => "instantiate",
            CallError::InvalidResult(_) => "invalid_result",
            CallError::CircuitOpen => "circuit_open",
            CallError::Overloaded(_) => "overloaded",
            CallError::NoInstanceSlot { .. } => "no_instance_slot",
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
}

impl CallError {
    /// Sorts a wasmtime error from a call into what went wrong, so logs and
    /// metrics can tell a runaway loop from a crash.
    pub(crate) fn from_wasmtime(err: wasmtime::Error) -> Self {
        if err.downcast_ref::<wasmtime::Trap>() == Some(&wasmtime::Trap::Interrupt) {
            return CallError::Deadline;
        }
        // StoreLimits with `trap_on_grow_failure` reports a refused
        // memory.grow as an error mentioning the limit.
        let text = format!("{err:#}");
        if text.contains("forcing trap when growing memory") || text.contains("memory minimum size")
        {
            return CallError::MemoryLimit;
        }
        CallError::Trap(text)
    }
}
