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
//! Every call into a filter is async (wasmtime's async API on a fiber): a
//! guest that runs long yields to the runtime at each epoch tick, a host call
//! that waits on I/O (key-value, outbound HTTP, files) suspends the request's
//! task, and the call deadline ends either. Each call passes the filter's
//! gate (concurrency limit, circuit breaker: `gate.rs`). What a filter may
//! reach is the [`Capabilities`] its config grants.
//!
//! Nothing here knows about Pingora: the proxy hands requests in as
//! [`RequestView`]s (in an [`Exchange`]) and applies the edits filters made.

mod bindings;
mod cache;
mod capabilities;
mod context_bag;
mod crypto;
mod epoch;
mod error;
mod filter;
mod gate;
mod host;
mod instance;
mod instantiate;
mod kv;
mod outbound;
mod secrets;
mod state;
mod types;
mod view;
mod wasi;

pub use capabilities::Capabilities;
pub use context_bag::ContextBag;
pub use epoch::PollingInPlace;
pub use error::{CallError, LoadError};
pub use filter::{FilterSpec, LoadedFilter};
pub use gate::{BreakerState, GateStats};
pub use host::{HostOptions, WasmHost};
pub use instance::{CallTiming, FilterInstance};
pub use types::{
    Decision, FilterLimits, FilterResponse, Isolation, LogInfo, OnError, Phases,
    RequestBodyDecision, ResponseBodyDecision,
};
pub use view::{Exchange, HeaderEdit, RequestView, ResponseView, apply_edits};
