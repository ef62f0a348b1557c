//! The validated `server` section.

use std::path::PathBuf;
use std::time::Duration;

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
