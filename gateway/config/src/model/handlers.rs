//! The validated `handlers` section: Wasm components (`wasi:http`) that
//! answer a route's requests. Their grants and circuit breaker are the
//! filters' types.

use std::path::PathBuf;
use std::time::Duration;

use super::filters::CircuitBreaker;
use super::grants::Grants;

#[derive(Debug, Clone, PartialEq)]
pub struct Handler {
    pub name: String,
    pub module: PathBuf,
    /// What the component sees through `wasi:cli/environment`, in name order.
    /// Names are non-empty without `=` or NUL; values have no NUL.
    pub env: Vec<(String, String)>,
    pub limits: HandlerLimits,
    pub grants: Grants,
    pub circuit_breaker: CircuitBreaker,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HandlerLimits {
    /// Until the handler answers with a response head; past it the client
    /// gets 504.
    pub deadline: Duration,
    /// The whole exchange, bodies included; at least `deadline`.
    pub stream_timeout: Duration,
    /// Linear memory cap for one instance.
    pub memory_bytes: usize,
    /// Requests in flight at once; one over it gets 503 with Retry-After.
    pub max_concurrent_requests: u32,
}

impl Default for HandlerLimits {
    fn default() -> Self {
        HandlerLimits {
            deadline: Duration::from_secs(30),
            stream_timeout: Duration::from_secs(300),
            memory_bytes: 64 << 20,
            max_concurrent_requests: 100,
        }
    }
}
