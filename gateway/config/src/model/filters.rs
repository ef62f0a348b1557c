//! The validated `filters` section (a filter's grants are in `grants.rs`).

use std::path::PathBuf;
use std::time::Duration;

use super::grants::Grants;

#[derive(Debug, Clone)]
pub struct Filter {
    pub name: String,
    pub module: PathBuf,
    /// Handed to the filter's `init` as a JSON string.
    pub config_json: String,
    pub limits: FilterLimits,
    pub on_error: OnError,
    pub isolation: Isolation,
    pub grants: Grants,
    pub circuit_breaker: CircuitBreaker,
}

#[derive(Debug, Clone, PartialEq)]
pub struct FilterLimits {
    /// Wall-clock budget for one call into the filter.
    pub call_deadline: Duration,
    /// Linear memory cap for one instance.
    pub memory_bytes: usize,
    /// Body bytes shown to the filter in body phases.
    pub max_body_bytes: usize,
    /// An instance is discarded after this many requests.
    pub recycle_after: u32,
    /// Warm instances kept idle.
    pub max_idle_instances: usize,
    /// Calls into the filter in flight at once.
    pub max_concurrent_calls: u32,
}

/// Stops calling a filter (or handler) that keeps failing: open after
/// `min_calls` calls in `window` with at least `failure_ratio` failed, then
/// one probe call after `cool_down`.
#[derive(Debug, Clone, PartialEq)]
pub struct CircuitBreaker {
    pub enabled: bool,
    /// In (0, 1].
    pub failure_ratio: f64,
    pub min_calls: u32,
    pub window: Duration,
    pub cool_down: Duration,
}

impl Default for CircuitBreaker {
    fn default() -> Self {
        CircuitBreaker {
            enabled: true,
            failure_ratio: 0.5,
            min_calls: 10,
            window: Duration::from_secs(10),
            cool_down: Duration::from_secs(5),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    /// The request fails with 503.
    FailClosed,
    /// The filter is skipped for that request.
    FailOpen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    /// Warm instances are reused across requests; a request holds one for
    /// all its phases.
    Pooled,
    /// Warm instances are reused across requests and calls: a request holds
    /// one only for the length of each call.
    Shared,
    /// A fresh instance for every request.
    PerRequest,
}
