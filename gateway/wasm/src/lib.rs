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
//! A call into a filter takes one of two paths. A filter granted nothing
//! that waits runs on the fast path: a plain call on the worker thread, no
//! fiber, until one of its calls runs long or waits (`host/ready_now.rs`,
//! `gate.rs`). The others, and those, run on the async path (wasmtime's async
//! API on a fiber): a guest that runs long yields to the runtime at each
//! epoch tick, a host call that waits on I/O (Redis, outbound HTTP, files)
//! suspends the request's task, and the call deadline, which counts the
//! call's own time, ends either. Each call passes the filter's gate
//! (concurrency limit, circuit breaker). What a filter may reach is the
//! [`Capabilities`] its config grants.
//!
//! Nothing here knows about Pingora: the proxy hands requests in as
//! [`RequestView`]s (in an [`Exchange`]) and applies the edits filters made.

// The crate is a one-way pipeline; each module imports only from the lines
// above its own:
//   vocabulary   types, phase, error, view, context_bag, bindings, epoch, gate
//   store        the limits and deadline every store shares (a leaf)
//   host         what a filter's store holds and serves: its imports
//   engine       the process-wide Engine, linker, compiled cache, I/O runtime
//   instantiate  one filter generation's recipe, and a fresh instance of it
//   exports      an instance's exports, bound for its call path
//   instance     a live instance and its phase calls
//   filter       a loaded filter, its pool, the instance a request holds
// A second kind of guest (an HTTP handler, a proxy-wasm module) gets a
// module beside `filter` and shares everything above it.
mod bindings;
mod context_bag;
mod engine;
mod epoch;
mod error;
mod exports;
mod filter;
mod gate;
mod handler;
mod host;
mod instance;
mod instantiate;
mod phase;
mod store;
mod types;
mod view;

pub use context_bag::ContextBag;
pub use engine::{HostOptions, WasmHost};
pub use epoch::PollingInPlace;
pub use error::{CallError, EngineError, LoadError, StartFailure};
pub use filter::{FilterInstance, FilterSpec, LoadedFilter};
pub use gate::{BreakerState, GateStats};
pub use handler::{
    BodySlot, Chunk, HandlerCall, HandlerSpec, LoadedHandler, RequestBody, RequestBodySender,
    request_body,
};
pub use host::capabilities::Capabilities;
pub use instance::CallTiming;
pub use phase::{Phase, PhaseCall, PhaseSet, Verdict};
pub use store::MemoryCapExceeded;
pub use types::{FilterLimits, FilterResponse, Isolation, LogInfo, OnError};
pub use view::{Exchange, HeaderEdit, RequestView, ResponseView, apply_edits};
