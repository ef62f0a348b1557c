//! File types of the `admin` section.

use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminFile {
    /// Default 127.0.0.1:9900. Keep it on loopback.
    pub address: Option<String>,
    /// Serve Prometheus metrics on `GET /metrics` and record them. Default true.
    pub metrics: Option<bool>,
}
