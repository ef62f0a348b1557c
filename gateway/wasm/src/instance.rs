//! One checked-out instance: calls into the guest with limits, and the
//! conversions between generated and host-side types.

use std::sync::Arc;

use sync_wrapper::SyncWrapper;
use wasmtime::Store;
use wasmtime::component::Resource;

use crate::bindings::Filter;
use crate::bindings::weir::filter::types as wit;
use crate::error::CallError;
use crate::filter::{LoadedFilter, StartError};
use crate::host::EPOCH_TICK;
use crate::state::HostState;
use crate::types::{
    ContextBag, Decision, FilterResponse, LogInfo, OnError, Phases, RequestBodyDecision,
    ResponseBodyDecision,
};
use crate::view::{RequestView, ResponseView};

/// A live instance whose `init` has run.
pub(crate) struct Warm {
    store: Store<HostState>,
    bindings: Filter,
    /// Requests served; the instance is recycled at `recycle_after`.
    pub(crate) uses: u32,
}

impl Warm {
    pub(crate) fn start(filter: &LoadedFilter) -> Result<(Warm, Phases), StartError> {
        let spec = &filter.spec;
        let mut store = Store::new(
            &filter.engine,
            HostState::new(&spec.name, spec.limits.memory_bytes),
        );
        store.limiter(|state| &mut state.limits);
        store.epoch_deadline_trap();
        store.set_epoch_deadline(deadline_ticks(filter));
        let bindings = filter
            .pre
            .instantiate(&mut store)
            .map_err(|err| StartError::Call(CallError::Instantiate(format!("{err:#}"))))?;
        store.set_epoch_deadline(deadline_ticks(filter));
        let phases = guarded(|| bindings.call_init(&mut store, &spec.config_json))
            .map_err(|err| StartError::Call(CallError::from_wasmtime(err)))?
            .map_err(StartError::Rejected)?;
        let warm = Warm {
            store,
            bindings,
            uses: 0,
        };
        Ok((warm, phases_from_wit(phases)))
    }
}

/// Runs a guest call, turning a panic in a host function it reached into an
/// error: the instance is then discarded like after a trap, and the worker
/// thread serving the request lives on.
fn guarded<R>(call: impl FnOnce() -> wasmtime::Result<R>) -> wasmtime::Result<R> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).unwrap_or_else(|panic| {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Err(wasmtime::format_err!(
            "host panicked during the call: {message}"
        ))
    })
}

fn deadline_ticks(filter: &LoadedFilter) -> u64 {
    let tick = EPOCH_TICK.as_micros().max(1);
    (filter.spec.limits.call_deadline.as_micros().div_ceil(tick) as u64).max(1)
}

/// An instance checked out for one request; goes back to the pool on drop
/// unless a call failed.
pub struct FilterInstance {
    filter: Arc<LoadedFilter>,
    /// A `Store` is `Send` but not `Sync` (WASI's context is not); Pingora's
    /// per-request context must be `Sync`. Only `&mut` access ever reaches the
    /// store, which `SyncWrapper` turns into `Sync` soundly.
    warm: Option<SyncWrapper<Warm>>,
}

impl FilterInstance {
    pub(crate) fn new(filter: Arc<LoadedFilter>, mut warm: Warm) -> Self {
        warm.uses += 1;
        FilterInstance {
            filter,
            warm: Some(SyncWrapper::new(warm)),
        }
    }

    pub fn filter(&self) -> &Arc<LoadedFilter> {
        &self.filter
    }

    pub fn on_request_headers(
        &mut self,
        req: &mut RequestView,
        ctx: &mut ContextBag,
    ) -> Result<Decision, CallError> {
        let decision = self.call(req, None, ctx, |f, store| {
            f.call_on_request_headers(store, Resource::new_borrow(0))
        })?;
        decision_from_wit(decision)
    }

    pub fn on_request_body(
        &mut self,
        req: &mut RequestView,
        ctx: &mut ContextBag,
        body: &[u8],
    ) -> Result<RequestBodyDecision, CallError> {
        let decision = self.call(req, None, ctx, |f, store| {
            f.call_on_request_body(store, Resource::new_borrow(0), body)
        })?;
        Ok(match decision {
            wit::RequestBodyDecision::Continue => RequestBodyDecision::Continue,
            wit::RequestBodyDecision::Replace(body) => RequestBodyDecision::Replace(body),
            wit::RequestBodyDecision::Respond(r) => {
                RequestBodyDecision::Respond(response_from_wit(r)?)
            }
        })
    }

    pub fn on_response_headers(
        &mut self,
        req: &mut RequestView,
        resp: &mut ResponseView,
        ctx: &mut ContextBag,
    ) -> Result<Decision, CallError> {
        let decision = self.call(req, Some(resp), ctx, |f, store| {
            f.call_on_response_headers(store, Resource::new_borrow(0), Resource::new_borrow(0))
        })?;
        decision_from_wit(decision)
    }

    pub fn on_response_body(
        &mut self,
        req: &mut RequestView,
        resp: &mut ResponseView,
        ctx: &mut ContextBag,
        body: &[u8],
    ) -> Result<ResponseBodyDecision, CallError> {
        let decision = self.call(req, Some(resp), ctx, |f, store| {
            f.call_on_response_body(
                store,
                Resource::new_borrow(0),
                Resource::new_borrow(0),
                body,
            )
        })?;
        Ok(match decision {
            wit::ResponseBodyDecision::Continue => ResponseBodyDecision::Continue,
            wit::ResponseBodyDecision::Replace(body) => ResponseBodyDecision::Replace(body),
        })
    }

    pub fn on_log(
        &mut self,
        req: &mut RequestView,
        resp: &mut ResponseView,
        ctx: &mut ContextBag,
        info: &LogInfo,
    ) -> Result<(), CallError> {
        let info = wit::LogInfo {
            status: info.status,
            duration_us: info.duration.as_micros() as u64,
            request_body_bytes: info.request_body_bytes,
            response_body_bytes: info.response_body_bytes,
            upstream_target: info.upstream_target.clone(),
            route: info.route.clone(),
            error: info.error.clone(),
        };
        self.call(req, Some(resp), ctx, |f, store| {
            f.call_on_log(
                store,
                Resource::new_borrow(0),
                Resource::new_borrow(0),
                &info,
            )
        })
    }

    /// Moves the request (and response) into the store for one call, with a
    /// fresh deadline, and back out after it. A failed call discards the
    /// instance; for a fail-open filter, its half-made edits are dropped too.
    fn call<R>(
        &mut self,
        req: &mut RequestView,
        mut resp: Option<&mut ResponseView>,
        ctx: &mut ContextBag,
        call: impl FnOnce(&Filter, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, CallError> {
        let Some(warm) = self.warm.as_mut().map(SyncWrapper::get_mut) else {
            return Err(CallError::Instantiate(
                "instance was discarded after an earlier failure".into(),
            ));
        };
        let keep = (self.filter.spec.on_error == OnError::FailOpen)
            .then(|| (req.clone(), resp.as_deref().cloned(), ctx.clone()));
        let data = warm.store.data_mut();
        std::mem::swap(&mut data.request, req);
        std::mem::swap(&mut data.context, ctx);
        if let Some(resp) = resp.as_deref_mut() {
            std::mem::swap(&mut data.response, resp);
        }
        warm.store.set_epoch_deadline(deadline_ticks(&self.filter));
        let result = guarded(|| call(&warm.bindings, &mut warm.store));
        let data = warm.store.data_mut();
        std::mem::swap(&mut data.request, req);
        std::mem::swap(&mut data.context, ctx);
        if let Some(resp) = resp.as_deref_mut() {
            std::mem::swap(&mut data.response, resp);
        }
        result.map_err(|err| {
            self.warm = None;
            if let Some((old_req, old_resp, old_ctx)) = keep {
                *req = old_req;
                *ctx = old_ctx;
                if let (Some(resp), Some(old)) = (resp, old_resp) {
                    *resp = old;
                }
            }
            CallError::from_wasmtime(err)
        })
    }
}

impl Drop for FilterInstance {
    fn drop(&mut self) {
        if let Some(warm) = self.warm.take() {
            self.filter.give_back(warm.into_inner());
        }
    }
}

fn phases_from_wit(p: wit::Phases) -> Phases {
    Phases {
        request_headers: p.contains(wit::Phases::REQUEST_HEADERS),
        request_body: p.contains(wit::Phases::REQUEST_BODY),
        response_headers: p.contains(wit::Phases::RESPONSE_HEADERS),
        response_body: p.contains(wit::Phases::RESPONSE_BODY),
        log: p.contains(wit::Phases::LOG),
    }
}

fn decision_from_wit(d: wit::Decision) -> Result<Decision, CallError> {
    Ok(match d {
        wit::Decision::Continue => Decision::Continue,
        wit::Decision::Respond(r) => Decision::Respond(response_from_wit(r)?),
    })
}

fn response_from_wit(r: wit::Response) -> Result<FilterResponse, CallError> {
    if !(100..=599).contains(&r.status) {
        return Err(CallError::InvalidResult(format!(
            "response status {} is not in 100..=599",
            r.status
        )));
    }
    for (name, value) in &r.headers {
        if http::HeaderName::from_bytes(name.as_bytes()).is_err()
            || http::HeaderValue::from_bytes(value).is_err()
        {
            return Err(CallError::InvalidResult(format!(
                "invalid response header {name:?}"
            )));
        }
    }
    Ok(FilterResponse {
        status: r.status,
        headers: r.headers,
        body: r.body,
    })
}
