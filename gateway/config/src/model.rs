//! The checked, internal configuration: what the rest of weir consumes.
//!
//! Every value here has already been validated: references resolve, regexes
//! compile, durations and sizes are in range. The file schema (`schema.rs`) is a
//! different set of types; `check.rs` turns one into the other.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use ipnet::IpNet;
use regex::Regex;

// `Origin`'s methods, URL redaction for `RedisStore`'s Debug.
mod access_log;
mod capabilities;
pub use access_log::*;
mod tracing;
pub(crate) use capabilities::redact_url;
pub use tracing::*;

/// The whole checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Problems that do not refuse the config (e.g. a certificate that
    /// expires soon), with path and line like errors; in file order.
    pub warnings: Vec<crate::ConfigError>,
    pub server: ServerSettings,
    pub listeners: Vec<Listener>,
    /// Keyed by upstream name; `Route::action` refers to these by name.
    pub upstreams: BTreeMap<String, Upstream>,
    /// Keyed by filter name; chains refer to these by name.
    pub filters: BTreeMap<String, Filter>,
    /// Filter names run on every route, before the route's own chain.
    pub global_chain: Vec<String>,
    /// Routes in evaluation order (priority, specificity, file order; see
    /// docs/config.md): the first match wins.
    pub routes: Vec<Route>,
    pub admin: Option<Admin>,
    /// Keyed by store name; filters are granted stores by name.
    pub key_value: BTreeMap<String, KvStore>,
    /// Keyed by secret name; values already read.
    pub secrets: BTreeMap<String, Secret>,
    /// One line per request (process-wide: a change needs a restart).
    pub access_log: AccessLog,
    /// Trace context and OTLP export (process-wide: a change needs a restart).
    pub tracing: Tracing,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServerSettings {
    /// Worker threads per listener service.
    pub threads: usize,
    /// How long in-flight requests get to finish after SIGTERM.
    pub grace_period: Duration,
    /// Pingora's work stealing between a service's worker threads; off,
    /// each thread runs its own connections on its own event loop.
    pub work_stealing: bool,
    /// Connections kept alive to upstreams, shared by all pools (Pingora's
    /// connector pool is process-wide).
    pub upstream_keepalive_pool_size: usize,
    /// Directory for precompiled filter artifacts; `None` keeps them in memory only.
    pub cache_dir: Option<PathBuf>,
    /// Filter instances (the Wasm host's pool slots) that may exist at once.
    pub max_filter_instances: u32,
    /// A listener certificate expiring within this is a warning.
    pub certificate_expiry_warning: Duration,
    /// Where a new process (`weir run --upgrade`) takes the listening
    /// sockets over from the running one.
    pub upgrade_socket: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Listener {
    pub name: String,
    pub address: SocketAddr,
    pub tls: Option<ListenerTls>,
    /// Accept HTTP/2: offered by ALPN on TLS (the default there), prior-
    /// knowledge h2c on plain listeners (off by default).
    pub http2: bool,
    pub limits: RequestLimits,
    /// Peers whose `X-Forwarded-*` headers are kept and appended to; from any
    /// other peer they are replaced.
    pub trusted_proxies: Vec<IpNet>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListenerTls {
    /// The first certificate is the default when SNI matches none.
    pub certificates: Vec<Certificate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    /// Server names served by this certificate: exact (`api.example.com`) or
    /// wildcard (`*.example.com`); empty means "default only".
    pub server_names: Vec<String>,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequestLimits {
    /// Sum of header name and value bytes; over it the client gets 431.
    pub max_header_bytes: usize,
    /// Bytes of an HTTP/1 request line; over it the client gets 414.
    pub max_request_line: usize,
    /// Request body bytes; over it the client gets 413. `None`: unlimited.
    pub max_body_bytes: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Upstream {
    pub name: String,
    pub targets: Vec<Target>,
    pub balance: Balance,
    pub health_check: Option<HealthCheck>,
    pub passive_health: Option<PassiveHealth>,
    pub timeouts: Timeouts,
    pub retries: Retries,
    pub tls: Option<UpstreamTls>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// `host:port` as written; resolved when the pool is built.
    pub address: String,
    pub weight: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Balance {
    RoundRobin,
    /// Smooth weighted round robin over `Target::weight`.
    Weighted,
    LeastConnections,
    /// Two random healthy targets, the one with fewer in-flight requests wins.
    PowerOfTwoChoices,
    /// Rendezvous hashing on a request key; falls back to round robin when the
    /// key is absent.
    ConsistentHash(HashKey),
}

#[derive(Debug, Clone, PartialEq)]
pub enum HashKey {
    Header(String),
    Cookie(String),
    ClientIp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HealthCheck {
    pub path: String,
    pub interval: Duration,
    pub timeout: Duration,
    /// Consecutive failures that mark a target unhealthy.
    pub unhealthy_threshold: u32,
    /// Consecutive successes that mark it healthy again.
    pub healthy_threshold: u32,
    /// Statuses counted as healthy: `min..=max`.
    pub expected_status: (u16, u16),
}

#[derive(Debug, Clone, PartialEq)]
pub struct PassiveHealth {
    /// Consecutive proxy failures (connect errors, timeouts, 5xx from the
    /// target) that eject a target.
    pub max_failures: u32,
    pub ejection_time: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Timeouts {
    pub connect: Duration,
    pub read: Duration,
    pub write: Duration,
    /// Idle keep-alive connections to the upstream are closed after this.
    pub idle: Duration,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Retries {
    /// Extra attempts after the first.
    pub count: u32,
    /// Retry idempotent methods (GET, HEAD, OPTIONS, PUT, DELETE, TRACE) on
    /// errors after the connection was made; connect failures are always retried.
    pub idempotent_only_after_connect: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UpstreamTls {
    /// Server name sent in SNI and verified against; defaults to the target host.
    pub sni: Option<String>,
    pub verify: bool,
    /// Extra CA bundle (PEM) trusted for this upstream.
    pub ca_file: Option<PathBuf>,
}

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

/// What a filter may use beyond the request; everything else is denied.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Grants {
    /// Names of stores in `Config::key_value`. `Some(empty)`: listed with no
    /// name, which consents to a filter importing the capability while
    /// granting it nothing (`None`: such a filter is refused).
    pub key_value: Option<Vec<String>>,
    /// Names of secrets in `Config::secrets`; `Some(empty)` as above.
    pub secrets: Option<Vec<String>>,
    pub http: Option<HttpGrant>,
    pub files: Option<FilesGrant>,
}

/// Outbound HTTP.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpGrant {
    /// Requests go only to these origins; at least one.
    pub allow: Vec<Origin>,
    pub connect_timeout: Duration,
    /// Until the response's first byte.
    pub timeout: Duration,
    /// Response body cap.
    pub max_response_bytes: u64,
}

/// An origin a filter may call; parsed, matched and displayed in `model/capabilities.rs`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https`.
    pub scheme: String,
    /// Lower-case; `*.example.com` for a wildcard; an IPv6 address without brackets.
    pub host: String,
    /// As written, or 80/443 from the scheme.
    pub port: u16,
}

/// A read-only directory.
#[derive(Debug, Clone, PartialEq)]
pub struct FilesGrant {
    /// Resolved against the config file's directory; an existing directory.
    pub path: PathBuf,
    /// Where the filter sees it; absolute.
    pub mount: String,
}

/// Stops calling a filter that keeps failing: open after `min_calls` calls in
/// `window` with at least `failure_ratio` failed, then one probe call after
/// `cool_down`.
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
    /// Warm instances are reused across requests.
    Pooled,
    /// A fresh instance for every request.
    PerRequest,
}

#[derive(Debug, Clone)]
pub struct Route {
    /// `name` from the file, or `routes[i]`.
    pub name: String,
    /// Index in the file; the last tie-breaker of the evaluation order.
    pub index: usize,
    pub priority: i32,
    pub matcher: RouteMatch,
    pub action: RouteAction,
    /// Filter names, run after the global chain.
    pub filters: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RouteMatch {
    /// Any of these; empty matches every host.
    pub hosts: Vec<HostMatch>,
    pub path: Option<PathMatch>,
    /// Upper-case method names; empty matches every method.
    pub methods: Vec<String>,
    /// All of these must match.
    pub headers: Vec<HeaderMatch>,
    /// All of these must match.
    pub query: Vec<QueryMatch>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostMatch {
    /// Lower-case host without port.
    Exact(String),
    /// `*.example.com` stored as `.example.com`: matches any host with that suffix
    /// and at least one more label.
    WildcardSuffix(String),
}

#[derive(Debug, Clone)]
pub enum PathMatch {
    Exact(String),
    Prefix(String),
    Regex(Regex),
}

#[derive(Debug, Clone)]
pub struct HeaderMatch {
    /// Lower-case header name.
    pub name: String,
    pub value: ValueMatch,
}

#[derive(Debug, Clone)]
pub struct QueryMatch {
    pub name: String,
    pub value: ValueMatch,
}

#[derive(Debug, Clone)]
pub enum ValueMatch {
    Present,
    Exact(String),
    Regex(Regex),
}

#[derive(Debug, Clone, PartialEq)]
pub enum RouteAction {
    Proxy(ProxyAction),
    Respond(DirectResponse),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProxyAction {
    pub upstream: String,
    /// Remove the matched path prefix before forwarding (prefix matches only).
    pub strip_prefix: bool,
    /// Replace the `Host` header sent upstream.
    pub host_rewrite: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DirectResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct KvStore {
    pub name: String,
    pub backend: KvBackend,
}

#[derive(Debug, Clone, PartialEq)]
pub enum KvBackend {
    /// In this process only.
    Memory {
        max_entries: u64,
    },
    Redis(RedisStore),
}

/// `Debug` hides the URL's password (see `model/capabilities.rs`).
#[derive(Clone, PartialEq)]
pub struct RedisStore {
    /// `redis://` or `rediss://`, checked; may carry a password.
    pub url: String,
    pub pool_size: u32,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    /// Prepended to every key.
    pub key_prefix: String,
}

/// A named value read at check time. `Debug` shows its length only.
#[derive(Clone, PartialEq, Debug)]
pub struct Secret {
    pub name: String,
    pub source: SecretSource,
    pub value: SecretValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SecretSource {
    /// The environment variable's name.
    Env(String),
    /// The resolved path.
    File(PathBuf),
}

/// The bytes of a secret (a file's without one trailing newline).
/// Debug prints `SecretValue(<N bytes>)`, never the bytes.
#[derive(Clone, PartialEq)]
pub struct SecretValue(pub Vec<u8>);

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretValue(<{} bytes>)", self.0.len())
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Admin {
    /// Loopback by default.
    pub address: SocketAddr,
    /// Record Prometheus metrics and serve them on `GET /metrics`.
    pub metrics: bool,
}
