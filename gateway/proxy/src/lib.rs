//! weir's proxy: the snapshot of a config generation, routing, upstream pools,
//! filter chains, and the Pingora `ProxyHttp` that runs them per request.

pub mod admin;
mod chain;
pub mod drain;
mod forwarded;
mod inline;
mod proxy;
pub mod reload;
mod respond;
mod router;
pub mod service;
pub mod snapshot;
pub mod tls;
pub mod upstream;

pub use proxy::WeirProxy;
pub use snapshot::{Snapshot, SnapshotStore};
