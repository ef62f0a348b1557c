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

/// The whole checked configuration.
#[derive(Debug, Clone)]
pub struct Config {
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
}

#[derive(Debug, Clone)]
pub struct ServerSettings {
    /// Worker threads per listener service.
    pub threads: usize,
    /// How long in-flight requests get to finish after SIGTERM.
    pub grace_period: Duration,
    /// Connections kept alive to upstreams, shared by all pools (Pingora's
    /// connector pool is process-wide).
    pub upstream_keepalive_pool_size: usize,
    /// Directory for precompiled filter artifacts; `None` keeps them in memory only.
    pub cache_dir: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Listener {
    pub name: String,
    pub address: SocketAddr,
    pub tls: Option<ListenerTls>,
    /// Accept HTTP/2 (ALPN on TLS, prior-knowledge h2c on plain listeners).
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
pub struct Admin {
    /// Loopback by default.
    pub address: SocketAddr,
}
