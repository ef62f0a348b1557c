//! The one `bindgen!` of the `weir:filter` world. Everything generated stays in
//! this crate; the rest of weir sees the types in `types.rs` and `view.rs`.
//!
//! Exports are called with wasmtime's async API, so a guest that runs long
//! yields at epoch ticks and a host call that waits on I/O suspends the
//! request's task instead of a worker thread. Only the imports that wait
//! (key-value) are async host functions; the rest stay plain calls.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "weir:filter/filter",
    imports: {
        "weir:filter/key-value": async,
    },
    exports: { default: async },
    with: {
        "weir:filter/http.request": crate::state::RequestHandle,
        "weir:filter/http.response": crate::state::ResponseHandle,
        "weir:filter/key-value.store": crate::kv::KvHandle,
    },
});
