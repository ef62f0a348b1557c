//! WASI for filters, linked with wasmtime-wasi's async bindings: a guest
//! that waits (a pollable, a file read, an outbound HTTP response) suspends
//! its request's task, never a worker thread, and the call deadline still
//! ends the wait. What a filter can reach through WASI is decided per store
//! (see `host/mod.rs`): nothing but clocks and randomness unless granted.

use wasmtime::component::Linker;

use super::HostState;

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    // Outbound HTTP: linked for every filter, refused at load unless granted
    // (capabilities.rs), and each request checked against the grant (outbound.rs).
    wasmtime_wasi_http::p2::add_only_http_to_linker_async(linker)
}
