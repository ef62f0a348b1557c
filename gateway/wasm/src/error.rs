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
