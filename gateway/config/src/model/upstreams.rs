//! The validated `upstreams` section.

use std::path::PathBuf;
use std::time::Duration;

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
