//! The validated `handlers` section: `wasi:http` components that answer routes.

use std::path::PathBuf;
use std::time::Duration;

use super::filters::CircuitBreaker;
use super::grants::Grants;

#[derive(Debug, Clone)]
pub struct Handler {
    pub name: String,
    pub module: PathBuf,
    /// Environment variables the component sees (`wasi:cli/environment`).
    pub env: Vec<(String, String)>,
    pub limits: HandlerLimits,
    pub grants: Grants,
    pub circuit_breaker: CircuitBreaker,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HandlerLimits {
    /// Time until the handler answers with a response head; then 504.
    pub deadline: Duration,
    /// The whole exchange, bodies included; then the response is cut.
    pub stream_timeout: Duration,
    /// Linear memory cap for one instance.
    pub memory_bytes: usize,
    /// Requests in flight at once; over it, 503 with `Retry-After`.
    pub max_concurrent_requests: u32,
}
