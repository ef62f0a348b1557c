//! What weir tells about the requests it serves: Prometheus metrics, the
//! access log, W3C trace context and OpenTelemetry spans.

pub mod access_log;
pub mod metrics;
pub mod otel;
pub(crate) mod text;
pub mod trace_context;
