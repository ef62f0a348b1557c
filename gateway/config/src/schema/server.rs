//! File types of the `server` section.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::units::HumanDuration;

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
