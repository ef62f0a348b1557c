//! weir's proxy: the snapshot of a config generation, routing, upstream
//! pools, filter chains, and the Pingora `ProxyHttp` that runs them per
//! request.
//!
//! The folders follow what changes together, and the rule between them is
//! one a reader can check from the imports:
//! - `request` is the request path (Pingora's phases); it may use `chain`,
//!   `route`, `upstream` and `observe`;
//! - `chain` runs a route's filters; it may use `observe`;
//! - `snapshot` is one config generation's data, which everything may read;
//! - `lifecycle` is the process's serving state (draining, requests in
//!   flight), read on the request path;
//! - `control` (reload, admin, TLS handshakes, health checks, shutdown) is
//!   used by the binary alone, and nothing here imports it.

pub mod chain;
pub mod control;
pub mod lifecycle;
pub mod observe;
mod request;
mod route;
pub mod snapshot;
pub mod upstream;

pub use request::WeirProxy;
pub use snapshot::{Snapshot, SnapshotStore};
