//! The one `bindgen!` of the `weir:filter` world. Everything generated stays in
//! this crate; the rest of weir sees the types in `types.rs` and `view.rs`.

wasmtime::component::bindgen!({
    path: "../../wit",
    world: "weir:filter/filter",
    with: {
        "weir:filter/http.request": crate::state::RequestHandle,
        "weir:filter/http.response": crate::state::ResponseHandle,
    },
});
