//! The validated `tracing` section.

use std::time::Duration;

/// Distributed tracing: trace context is always propagated; spans are
/// exported only with `otlp`.
#[derive(Debug, Clone, PartialEq)]
pub struct Tracing {
    pub service_name: String,
    pub otlp: Option<Otlp>,
}

impl Default for Tracing {
    fn default() -> Self {
        Tracing {
            service_name: "weir".into(),
            otlp: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Otlp {
    /// Full URL of the traces endpoint (`/v1/traces` added when the path was empty).
    pub endpoint: String,
    pub timeout: Duration,
    /// 0..=1, for traces weir starts.
    pub sample_ratio: f64,
    pub export_interval: Duration,
    pub max_queue_size: usize,
}
