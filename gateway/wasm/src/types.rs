//! Host-side types of the contract: what the proxy passes in and gets back.
//! They mirror `wit/filter.wit` without leaking generated bindings.

use std::time::Duration;

/// The phases a filter asked for in `init`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Phases {
    pub request_headers: bool,
    pub request_body: bool,
    pub response_headers: bool,
    pub response_body: bool,
    pub log: bool,
}

impl Phases {
    pub const ALL: Phases = Phases {
        request_headers: true,
        request_body: true,
        response_headers: true,
        response_body: true,
        log: true,
    };

    pub fn union(self, other: Phases) -> Phases {
        Phases {
            request_headers: self.request_headers || other.request_headers,
            request_body: self.request_body || other.request_body,
            response_headers: self.response_headers || other.response_headers,
            response_body: self.response_body || other.response_body,
            log: self.log || other.log,
        }
    }
}

/// A full response produced by a filter instead of the upstream's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterResponse {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Continue,
    Respond(FilterResponse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestBodyDecision {
    Continue,
    Replace(Vec<u8>),
    Respond(FilterResponse),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResponseBodyDecision {
    Continue,
    Replace(Vec<u8>),
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

/// Per-filter limits, enforced by the host.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilterLimits {
    pub call_deadline: Duration,
    pub memory_bytes: usize,
    pub max_body_bytes: usize,
    pub recycle_after: u32,
    pub max_idle_instances: usize,
    /// Calls in flight at once; more are refused (`on_error` applies).
    pub max_concurrent_calls: u32,
}

/// What the proxy does when a filter call fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnError {
    FailClosed,
    FailOpen,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Isolation {
    Pooled,
    PerRequest,
}
