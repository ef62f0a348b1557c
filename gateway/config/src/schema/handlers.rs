//! File types of the `handlers` section: Wasm components that answer a
//! route's requests themselves (`wasi:http`). Their `grants` and
//! `circuit_breaker` are the filters' types.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

use super::filters::CircuitBreakerFile;
use super::grants::GrantsFile;
use crate::units::{ByteSize, HumanDuration};

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandlerFile {
    /// The component (`.wasm`, a `wasi:http` proxy), relative to this file.
    pub module: String,
    /// Environment variables the component sees (`wasi:cli/environment`).
    /// Default none.
    pub env: Option<BTreeMap<String, String>>,
    pub limits: Option<HandlerLimitsFile>,
    /// Capabilities granted to the handler, as for filters. Default: none.
    pub grants: Option<GrantsFile>,
    /// Default: enabled with the defaults of each field.
    pub circuit_breaker: Option<CircuitBreakerFile>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandlerLimitsFile {
    /// Until the handler answers with a response head; past it the client
    /// gets 504. Default 30s.
    pub deadline: Option<HumanDuration>,
    /// The whole exchange, bodies included; at least `deadline`. Default 300s.
    pub stream_timeout: Option<HumanDuration>,
    /// Linear memory cap per instance. Default 64MiB.
    pub memory: Option<ByteSize>,
    /// Requests in flight at once; one over it gets 503 with Retry-After.
    /// Default 100.
    #[schemars(range(min = 1))]
    pub max_concurrent_requests: Option<u32>,
}
