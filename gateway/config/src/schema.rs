//! The config file as written: what serde reads and what the JSON Schema
//! (`docs/config.schema.json`) describes. Optional fields stay `Option` here;
//! `check.rs` applies the defaults and validates.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde_json::Value;

use crate::units::{ByteSize, HumanDuration};

mod access_log;
mod capabilities;
pub use access_log::*;
pub use capabilities::*;
mod tracing;
pub use tracing::*;

/// The JSON Schema of the file format.
pub fn file_schema() -> Value {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(ConfigFile)).expect("a schema is valid JSON");
    remove_null(&mut schema);
    schema
}

/// Optional fields are left out to take their default; the loader does not
/// read an explicit `null` as "unset", so the schema must not offer it.
fn remove_null(schema: &mut Value) {
    let null = serde_json::json!({ "type": "null" });
    match schema {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(alternatives)) = map.get_mut("anyOf") {
                alternatives.retain(|a| *a != null);
                if alternatives.len() == 1 {
                    let Some(Value::Object(only)) = alternatives.pop() else {
                        unreachable!("schemars writes schema objects")
                    };
                    map.remove("anyOf");
                    for (key, value) in only {
                        map.entry(key).or_insert(value);
                    }
                }
            }
            map.values_mut().for_each(remove_null);
        }
        Value::Array(items) => items.iter_mut().for_each(remove_null),
        _ => {}
    }
}

/// A weir config file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Read section by section (see parse.rs); this type is for the schema.
pub struct ConfigFile {
    pub server: Option<ServerFile>,
    /// Where weir accepts connections. At least one.
    #[schemars(length(min = 1))]
    pub listeners: Vec<ListenerFile>,
    /// Upstream pools by name.
    #[serde(default)]
    pub upstreams: BTreeMap<String, UpstreamFile>,
    /// Key-value stores by name, granted to filters in `grants.key_value`.
    #[serde(default)]
    pub key_value: BTreeMap<String, KvStoreFile>,
    /// Secrets by name, granted to filters in `grants.secrets`.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretFile>,
    /// Wasm filters by name.
    #[serde(default)]
    pub filters: BTreeMap<String, FilterFile>,
    /// Filters run on every route, before the route's own filters.
    #[serde(default)]
    pub global_filters: Vec<String>,
    /// Routes; the first match in evaluation order wins (priority, then specificity, then file order).
    #[serde(default)]
    pub routes: Vec<RouteFile>,
    pub admin: Option<AdminFile>,
    pub access_log: Option<AccessLogFile>,
    pub tracing: Option<TracingFile>,
}

/// Process-wide settings (a change needs a restart).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServerFile {
    /// Worker threads per listener. Default: the number of CPUs.
    #[schemars(range(min = 1))]
    pub threads: Option<usize>,
    /// How long in-flight requests get to finish after SIGTERM. Default 5s.
    pub grace_period: Option<HumanDuration>,
    /// Let idle worker threads take requests queued on busy ones (Pingora's work stealing). Default true. `false` gives each thread its own event loop and connections, which costs less CPU per request; a response-body filter call that waits on I/O then holds up its thread's other requests (up to its call deadline).
    pub work_stealing: Option<bool>,
    /// Idle keep-alive connections kept to upstreams. Default 128.
    pub upstream_keepalive_pool_size: Option<usize>,
    /// Directory for precompiled filters, relative to this file. Default: none (memory only).
    pub cache_dir: Option<String>,
    /// Filter instances that may exist at once, all filters together: those requests in flight hold and those idle in the filters' pools. Each reserves address space for its memory up front. When all are in use, a filter that needs a new one is not run and its on_error applies. Default 1000.
    #[schemars(range(min = 1))]
    pub max_filter_instances: Option<u32>,
    /// A listener certificate that expires within this is a warning of `weir check` and at load (expired: an error). Default 30d.
    pub certificate_expiry_warning: Option<HumanDuration>,
    /// Unix socket through which `weir run --upgrade` takes over the listening sockets of the running process; both must use the same. Default /tmp/weir-upgrade.sock.
    pub upgrade_socket: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListenerFile {
    /// Unique name, used in logs.
    pub name: String,
    /// `ip:port` to bind, e.g. `0.0.0.0:8080`.
    pub address: String,
    /// Accept HTTP/2. With TLS it is offered by ALPN (h2, then http/1.1); default true, `false` offers HTTP/1.1 only. Without TLS it means prior-knowledge h2c beside HTTP/1.1; default false.
    pub http2: Option<bool>,
    pub tls: Option<ListenerTlsFile>,
    pub limits: Option<LimitsFile>,
    /// Peers (CIDR or IP) whose X-Forwarded-* headers are kept. Default: none.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListenerTlsFile {
    /// Certificates chosen by SNI; the first is the default.
    #[schemars(length(min = 1))]
    pub certificates: Vec<CertificateFile>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateFile {
    /// PEM certificate chain, relative to this file.
    pub cert: String,
    /// PEM private key, relative to this file.
    pub key: String,
    /// Exact names or `*.example.com` wildcards served by this certificate.
    #[serde(default)]
    pub server_names: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// Total request header bytes; over it: 431. Default 64KiB.
    pub max_header_bytes: Option<ByteSize>,
    /// HTTP/1 request line (method, target and version) bytes; over it: 414. Default 8KiB.
    pub max_request_line: Option<ByteSize>,
    /// Request body bytes; over it: 413. Default: unlimited.
    pub max_body_bytes: Option<ByteSize>,
}

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
    /// `pooled` (default): reuse warm instances; `per_request`: a fresh one each request.
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
    PerRequest,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteFile {
    /// Unique name, used in logs. Default `routes[<index>]`.
    pub name: Option<String>,
    /// Higher is evaluated first. Default 0.
    pub priority: Option<i32>,
    /// What the route matches; absent matches every request.
    #[serde(rename = "match")]
    pub matcher: Option<MatchFile>,
    /// Proxy to this upstream (exactly one of `upstream` and `respond`).
    pub upstream: Option<String>,
    /// Answer directly (exactly one of `upstream` and `respond`).
    pub respond: Option<RespondFile>,
    /// Remove the matched path prefix before proxying (prefix matches only).
    pub strip_prefix: Option<bool>,
    /// Send this Host header upstream.
    pub host_rewrite: Option<String>,
    /// Filters run after the global ones, in this order.
    #[serde(default)]
    pub filters: Vec<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchFile {
    /// Any of these hosts (exact or `*.example.com`).
    #[serde(default)]
    pub hosts: Vec<String>,
    pub path: Option<PathFile>,
    /// Any of these methods.
    #[serde(default)]
    pub methods: Vec<String>,
    /// All of these headers.
    #[serde(default)]
    pub headers: Vec<ValueMatchFile>,
    /// All of these query parameters.
    #[serde(default)]
    pub query: Vec<ValueMatchFile>,
}

/// Exactly one of `prefix`, `exact` and `regex`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathFile {
    /// Whole path segments: `/api` matches `/api` and `/api/x`, not `/apix`.
    pub prefix: Option<String>,
    pub exact: Option<String>,
    /// Matched against the path (anchor it with ^ and $).
    pub regex: Option<String>,
}

/// A header or query parameter: exactly one of `present`, `exact` and `regex`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueMatchFile {
    pub name: String,
    pub present: Option<bool>,
    pub exact: Option<String>,
    pub regex: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RespondFile {
    /// Default 200.
    #[schemars(range(min = 100, max = 599))]
    pub status: Option<u16>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Default empty.
    #[serde(default)]
    pub body: String,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AdminFile {
    /// Default 127.0.0.1:9900. Keep it on loopback.
    pub address: Option<String>,
    /// Serve Prometheus metrics on `GET /metrics` and record them. Default true.
    pub metrics: Option<bool>,
}
