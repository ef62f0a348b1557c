//! The checked, internal configuration: what the rest of weir consumes.
//!
//! Every value here has already been validated: references resolve, regexes
//! compile, durations and sizes are in range. The file schema (`schema/`) is a
//! different set of types; `check/` turns one into the other. One submodule
//! per section, named as in `schema/` and `check/`.

use std::collections::BTreeMap;

mod access_log;
mod admin;
mod filters;
mod grants;
mod handlers;
mod key_value;
mod listeners;
mod routes;
mod secrets;
mod server;
mod tracing;
mod upstreams;

pub use access_log::*;
pub use admin::*;
pub use filters::*;
pub use grants::*;
pub use handlers::*;
pub use key_value::*;
pub use listeners::*;
pub use routes::*;
pub use secrets::*;
pub use server::*;
pub use tracing::*;
pub use upstreams::*;

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
    /// Keyed by handler name; `Route::action` refers to these by name.
    pub handlers: BTreeMap<String, Handler>,
    /// Routes in evaluation order (priority, specificity, file order; see
    /// docs/config.md): the first match wins.
    pub routes: Vec<Route>,
    pub admin: Option<Admin>,
    /// Keyed by store name; filters and handlers are granted stores by name.
    pub key_value: BTreeMap<String, KvStore>,
    /// Keyed by secret name; values already read.
    pub secrets: BTreeMap<String, Secret>,
    /// One line per request (process-wide: a change needs a restart).
    pub access_log: AccessLog,
    /// Trace context and OTLP export (process-wide: a change needs a restart).
    pub tracing: Tracing,
}
