//! File types of the `tracing` section: W3C trace context is always on; this
//! section names the service and turns on OTLP span export.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::units::HumanDuration;

/// Distributed tracing (see docs/observability.md). A change needs a restart.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TracingFile {
    /// `service.name` of the exported spans. Default `weir`.
    pub service_name: Option<String>,
    /// Export spans over OTLP/HTTP (protobuf). Default: no export.
    pub otlp: Option<OtlpFile>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OtlpFile {
    /// `http://host:port[/path]` of the collector; with no path, `/v1/traces` is used.
    pub endpoint: String,
    /// Budget of one export request. Default 10s.
    pub timeout: Option<HumanDuration>,
    /// Share of new traces (no `traceparent` from the client) that are recorded, 0 to 1. A continued trace follows the client's sampled flag. Default 1.
    #[schemars(range(min = 0.0, max = 1.0))]
    pub sample_ratio: Option<f64>,
    /// How often queued spans are sent. Default 5s.
    pub export_interval: Option<HumanDuration>,
    /// Spans held for export; when full, new spans are dropped. Default 2048.
    #[schemars(range(min = 1))]
    pub max_queue_size: Option<usize>,
}
