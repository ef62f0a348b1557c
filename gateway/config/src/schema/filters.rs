//! File types of the `filters` section (a filter's `grants` are in
//! `grants.rs`) and of `global_filters`, a list of names.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;

use super::grants::GrantsFile;
use crate::units::{ByteSize, HumanDuration};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterFile {
    /// The component (`.wasm`), relative to this file.
    pub module: String,
    /// Any value; handed to the filter's `init` as JSON.
    #[allow(dead_code)]
    // Declared for the schema and unknown-field checks; read from the node tree.
    pub config: Option<AnyValue>,
    pub limits: Option<FilterLimitsFile>,
    /// `fail_closed` (default): 503 when the filter fails; `fail_open`: skip it.
    pub on_error: Option<OnErrorFile>,
    /// `pooled` (default): a warm instance serves all of a request's phases;
    /// `shared`: one call at a time, so a few hot instances serve every
    /// request (for filters that keep nothing of a request in their own
    /// memory between phases); `per_request`: a fresh one each request.
    pub isolation: Option<IsolationFile>,
    /// Capabilities granted to the filter. Default: none.
    pub grants: Option<GrantsFile>,
    /// Default: enabled with the defaults of each field.
    pub circuit_breaker: Option<CircuitBreakerFile>,
}

/// Any YAML value (read from the node tree, see parse.rs).
#[derive(Debug)]
pub struct AnyValue;

impl<'de> Deserialize<'de> for AnyValue {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        serde::de::IgnoredAny::deserialize(d).map(|_| AnyValue)
    }
}

impl JsonSchema for AnyValue {
    fn schema_name() -> Cow<'static, str> {
        "AnyValue".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!(true)
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilterLimitsFile {
    /// Wall-clock budget per call. Default 100ms.
    pub call_deadline: Option<HumanDuration>,
    /// Linear memory cap per instance. Default 64MiB.
    pub memory: Option<ByteSize>,
    /// Body bytes shown in body phases. Default 1MiB.
    pub max_body_bytes: Option<ByteSize>,
    /// Requests served by one instance before it is replaced. Default 10000.
    #[schemars(range(min = 1))]
    pub recycle_after: Option<u32>,
    /// Warm instances kept idle. Default 64.
    pub max_idle_instances: Option<usize>,
    /// Calls into the filter in flight at once. Default 100.
    #[schemars(range(min = 1))]
    pub max_concurrent_calls: Option<u32>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum OnErrorFile {
    FailClosed,
    FailOpen,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IsolationFile {
    Pooled,
    Shared,
    PerRequest,
}

/// Stops calling a failing filter or handler for a while.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreakerFile {
    /// Default true.
    pub enabled: Option<bool>,
    /// Share of failed calls in the window that opens the breaker (0 < r <= 1). Default 0.5.
    #[schemars(range(max = 1), extend("exclusiveMinimum" = 0))]
    pub failure_ratio: Option<f64>,
    /// Calls in the window before the breaker can open. Default 10.
    #[schemars(range(min = 1))]
    pub min_calls: Option<u32>,
    /// The sliding window calls are counted in. Default 10s.
    pub window: Option<HumanDuration>,
    /// How long the breaker stays open before one probe call. Default 5s.
    pub cool_down: Option<HumanDuration>,
}
