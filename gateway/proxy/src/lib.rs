//! weir's proxy: the snapshot of a config generation, routing, upstream pools,
//! filter chains, and the Pingora `ProxyHttp` that runs them per request.

pub mod access_log;
pub mod admin;
mod admin_views;
pub mod chain;
mod client_gone;
pub mod drain;
mod filter_views;
mod forwarded;
mod http_strict;
mod inline;
pub mod metrics;
pub mod otel;
mod proxy;
pub mod reload;
mod respond;
mod router;
pub mod service;
pub mod shutdown;
pub mod snapshot;
mod text;
pub mod tls;
pub mod trace_context;
pub mod upstream;

pub use proxy::WeirProxy;
pub use snapshot::{Snapshot, SnapshotStore};
