//! File types of the `upstreams` section.

use std::borrow::Cow;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;

use crate::units::HumanDuration;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamFile {
    /// At least one target.
    #[schemars(length(min = 1))]
    pub targets: Vec<TargetFile>,
    /// Default round_robin.
    pub balance: Option<BalanceFile>,
    /// The request key for `consistent_hash`.
    pub hash_on: Option<HashOnFile>,
    pub health_check: Option<HealthCheckFile>,
    pub passive_health: Option<PassiveHealthFile>,
    pub timeouts: Option<TimeoutsFile>,
    pub retries: Option<RetriesFile>,
    /// Connect to the targets with TLS.
    pub tls: Option<UpstreamTlsFile>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TargetFile {
    /// `host:port`.
    pub address: String,
    /// Share for `weighted` balancing. Default 1.
    #[schemars(range(min = 1))]
    pub weight: Option<u32>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum BalanceFile {
    RoundRobin,
    Weighted,
    LeastConnections,
    PowerOfTwoChoices,
    ConsistentHash,
}

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HashOnFile {
    /// Hash the value of this request header.
    Header(String),
    /// Hash the value of this cookie.
    Cookie(String),
    /// Hash the client's IP address.
    ClientIp,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HealthCheckFile {
    /// Path requested with GET; must start with `/`.
    pub path: String,
    /// Default 10s.
    pub interval: Option<HumanDuration>,
    /// Default 2s.
    pub timeout: Option<HumanDuration>,
    /// Consecutive failures that mark a target down. Default 3.
    #[schemars(range(min = 1))]
    pub unhealthy_threshold: Option<u32>,
    /// Consecutive successes that mark it up again. Default 2.
    #[schemars(range(min = 1))]
    pub healthy_threshold: Option<u32>,
    /// Healthy statuses: `200-399` (default) or a single status.
    pub expected_status: Option<StatusRange>,
}

/// `200-399` or `204`.
#[derive(Debug, Clone, Deserialize)]
#[serde(transparent)]
pub struct StatusRange(pub String);

impl JsonSchema for StatusRange {
    fn schema_name() -> Cow<'static, str> {
        "StatusRange".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A status (204) or an inclusive range (200-399).",
            "anyOf": [
                { "type": "integer", "minimum": 100, "maximum": 599 },
                { "type": "string", "pattern": "^[1-5][0-9][0-9](-[1-5][0-9][0-9])?$" }
            ]
        })
    }
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PassiveHealthFile {
    /// Consecutive failed requests that eject a target. Default 5.
    #[schemars(range(min = 1))]
    pub max_failures: Option<u32>,
    /// How long an ejected target is left out. Default 30s.
    pub ejection_time: Option<HumanDuration>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeoutsFile {
    /// Default 2s.
    pub connect: Option<HumanDuration>,
    /// Between bytes read from the upstream. Default 30s.
    pub read: Option<HumanDuration>,
    /// Between bytes written to the upstream. Default 30s.
    pub write: Option<HumanDuration>,
    /// Idle keep-alive connections are closed after this. Default 60s.
    pub idle: Option<HumanDuration>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RetriesFile {
    /// Extra attempts on another target. Default 1.
    pub count: Option<u32>,
    /// Retry only idempotent methods once a request may have reached the
    /// target (connect failures are always retried). Default true.
    pub idempotent_only: Option<bool>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpstreamTlsFile {
    /// SNI and verified name. Default: the target's host.
    pub sni: Option<String>,
    /// Verify the certificate. Default true.
    pub verify: Option<bool>,
    /// Extra CA bundle (PEM), relative to this file.
    pub ca_file: Option<String>,
}
