//! The validated `admin` section.

use std::net::SocketAddr;

#[derive(Debug, Clone, PartialEq)]
pub struct Admin {
    /// Loopback by default.
    pub address: SocketAddr,
    /// Record Prometheus metrics and serve them on `GET /metrics`.
    pub metrics: bool,
}
