//! WASI for filters, in two linkings. What a filter can reach through WASI
//! is decided per store (see `host/mod.rs`): nothing but clocks and
//! randomness unless granted.
//!
//! - Async ([`add_to_linker`]), for filters granted what waits (key-value,
//!   outbound HTTP, files): a guest that waits suspends its request's task,
//!   never a worker thread, and the call deadline still ends the wait.
//! - Fast ([`add_to_linker_fast`]), for the others, called on the worker
//!   thread without a fiber: every function is a plain call, and `wasi:io`
//!   is weir's own (`ready_now.rs`), as nothing such a filter reaches waits.

use wasmtime::component::Linker;

use super::HostState;

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    // Outbound HTTP: linked for every filter, refused at load unless granted
    // (capabilities.rs), and each request checked against the grant (outbound.rs).
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)
}

pub(crate) fn add_to_linker_fast(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    super::ready_now::add_to_linker(linker)?;
    // Imported by filters that may fetch under some configs; without a grant
    // each request is refused at once (outbound.rs), which needs no waiting.
    wasmtime_wasi_http::p2::add_only_http_to_linker_sync(linker)
}
