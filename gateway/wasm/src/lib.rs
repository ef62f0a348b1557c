//! weir's WebAssembly host.
//!
//! The only crate that runs `bindgen!` for the `weir:filter` contract (`wit/`).
//! It owns three lifetimes (wasmtime's own advice):
//! - [`WasmHost`]: one per process — the `Engine`, its epoch ticker, the linker
//!   and the compiled-component cache;
//! - [`LoadedFilter`]: one per filter per config generation — the `InstancePre`
//!   and a bounded pool of warm instances whose `init` already ran;
//! - [`FilterInstance`]: one per filter per request — a `Store` checked out of
//!   the pool for all phases of that request, returned when dropped.
//!
//! Nothing here knows about Pingora: the proxy hands requests in as
//! [`RequestView`]s and applies the edits filters made.

mod bindings;
mod cache;
mod error;
mod filter;
mod host;
mod instance;
mod state;
mod types;
mod view;
mod wasi;

pub use error::{CallError, LoadError};
pub use filter::{FilterSpec, LoadedFilter};
pub use host::{HostOptions, WasmHost};
pub use instance::FilterInstance;
pub use types::{
    ContextBag, Decision, FilterLimits, FilterResponse, Isolation, LogInfo, OnError, Phases,
    RequestBodyDecision, ResponseBodyDecision,
};
pub use view::{HeaderEdit, RequestView, ResponseView};
