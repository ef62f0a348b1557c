//! Host-side types of the contract: what the proxy passes in and gets back.
//! They mirror `wit/filter.wit` without leaking generated bindings.

use std::time::Duration;

/// A full response produced by a filter instead of the upstream's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterResponse {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

/// What happened to a request, handed to `on-log`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogInfo {
    pub status: u16,
    pub duration: Duration,
    pub request_body_bytes: u64,
    pub response_body_bytes: u64,
    pub upstream_target: Option<String>,
    pub route: Option<String>,
    pub error: Option<String>,
}

// A filter's limits, `on_error` and isolation are the config's own types:
// weir-wasm reads them as weir-config checked them.
pub use weir_config::{FilterLimits, Isolation, OnError};
