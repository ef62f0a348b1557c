//! The `bindgen!`s of the `weir:filter` world, the only ones in weir.
//! Everything generated stays in this crate; the rest of weir sees the types
//! in `types.rs`, `phase.rs` and `view.rs`. The types behind the contract's resources are defined here, so
//! the bindings depend on nothing else in the crate.
//!
//! The world is bound twice. Below, with async exports for the async path:
//! a guest that runs long yields at epoch ticks and a host call that waits on
//! I/O suspends the request's task instead of a worker thread; only the
//! imports that wait (key-value) are async host functions. In `fast`, with
//! plain exports and imports for the fast path (`exports.rs`).

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "weir:filter/filter",
    imports: {
        "weir:filter/key-value": async,
    },
    exports: { default: async },
    with: {
        "weir:filter/http.request": RequestHandle,
        "weir:filter/http.response": ResponseHandle,
        "weir:filter/key-value.store": KvHandle,
    },
});

/// The same world with its exports called on the worker thread (the fast
/// path); its interfaces are the ones generated above, key-value aside.
pub(crate) mod fast {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "weir:filter/filter",
        with: {
            "weir:filter/types": super::weir::filter::types,
            "weir:filter/http": super::weir::filter::http,
            "weir:filter/context": super::weir::filter::context,
            "weir:filter/log": super::weir::filter::log,
            // Generated again, with plain functions (`host/kv_now.rs`).
            "weir:filter/key-value.store": super::KvHandle,
            "weir:filter/secrets": super::weir::filter::secrets,
            "weir:filter/crypto": super::weir::filter::crypto,
        },
    });
}

/// Type behind `weir:filter/http.request` handles.
pub struct RequestHandle;
/// Type behind `weir:filter/http.response` handles.
pub struct ResponseHandle;

/// Type behind `weir:filter/key-value.store` handles.
pub struct KvHandle {
    pub(crate) store: weir_kv::Store,
}
