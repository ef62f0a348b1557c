//! A filter instance's exports, found once when the instance starts, then
//! called per phase either on the worker thread (the fast path) or on a
//! fiber (the async path).

use wasmtime::Store;
use wasmtime::component::{Instance, Resource};

use crate::bindings::weir::filter::types as wit;
use crate::bindings::{Filter, fast};
use crate::host::HostState;
use crate::phase::PhaseCall;

/// What an export returned, before weir checks it.
pub(crate) enum Returned {
    Decision(wit::Decision),
    RequestBody(wit::RequestBodyDecision),
    ResponseBody(wit::ResponseBodyDecision),
    Logged,
}

/// The exports of one instance, bound for the path its store is linked for.
pub(crate) enum Exports {
    Now(fast::Filter),
    Async(Filter),
}

impl Exports {
    pub(crate) fn new(
        store: &mut Store<HostState>,
        instance: &Instance,
        fast: bool,
    ) -> wasmtime::Result<Self> {
        Ok(if fast {
            Exports::Now(fast::Filter::new(store, instance)?)
        } else {
            Exports::Async(Filter::new(store, instance)?)
        })
    }
}

/// Calls the export of `$call`'s phase on the bindings `$f`; `$await` is
/// `await` for the async bindings.
macro_rules! call_phase {
    ($f:expr, $store:expr, $call:expr $(, $await:ident)?) => {{
        let (req, resp) = (Resource::new_borrow(0), Resource::new_borrow(0));
        Ok(match $call {
            PhaseCall::RequestHeaders => {
                Returned::Decision($f.call_on_request_headers(&mut *$store, req)$(.$await)??)
            }
            PhaseCall::RequestBody(body) => {
                Returned::RequestBody($f.call_on_request_body(&mut *$store, req, body)$(.$await)??)
            }
            PhaseCall::ResponseHeaders => {
                Returned::Decision($f.call_on_response_headers(&mut *$store, req, resp)$(.$await)??)
            }
            PhaseCall::ResponseBody(body) => Returned::ResponseBody(
                $f.call_on_response_body(&mut *$store, req, resp, body)$(.$await)??,
            ),
            PhaseCall::Log(info) => {
                let info = log_info(info);
                $f.call_on_log(&mut *$store, req, resp, &info)$(.$await)??;
                Returned::Logged
            }
        })
    }};
}

impl Exports {
    /// One phase call: on this thread for a store linked for the fast path,
    /// on a fiber otherwise (a future that completes at once for the former).
    pub(crate) fn call_now(
        f: &fast::Filter,
        store: &mut Store<HostState>,
        call: PhaseCall<'_>,
    ) -> wasmtime::Result<Returned> {
        call_phase!(f, store, call)
    }

    pub(crate) async fn call_async(
        f: &Filter,
        store: &mut Store<HostState>,
        call: PhaseCall<'_>,
    ) -> wasmtime::Result<Returned> {
        call_phase!(f, store, call, await)
    }
}

fn log_info(info: &crate::types::LogInfo) -> wit::LogInfo {
    wit::LogInfo {
        status: info.status,
        duration_us: info.duration.as_micros() as u64,
        request_body_bytes: info.request_body_bytes,
        response_body_bytes: info.response_body_bytes,
        upstream_target: info.upstream_target.clone(),
        route: info.route.clone(),
        error: info.error.clone(),
    }
}
