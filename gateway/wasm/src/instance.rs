//! One checked-out instance: calls into the guest with limits, and the
//! conversions between generated and host-side types.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use sync_wrapper::SyncWrapper;
use wasmtime::component::Resource;
use wasmtime::{Store, UpdateDeadline};

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
    pub(crate) async fn start(filter: &LoadedFilter) -> Result<(Warm, Phases), StartError> {
        let spec = &filter.spec;
        let state = HostState::new(
            filter.name.clone(),
            spec.limits.memory_bytes,
            filter.capabilities.clone(),
        )
        .map_err(StartError::Capability)?;
        let mut store = Store::new(&filter.engine, state);
        store.limiter(|state| &mut state.limits);
        // At every epoch tick a running guest either yields to the runtime
        // (other requests on this thread get their turn) or, past its
        // deadline, traps. Tokio's own yield puts the task at the back of the
        // queue; a plain self-wake would land in the worker's LIFO slot and
        // run the same guest again at once.
        store.epoch_deadline_callback(|ctx| {
            if Instant::now() >= ctx.data().deadline {
                Err(wasmtime::Trap::Interrupt.into())
            } else {
                Ok(UpdateDeadline::YieldCustom(
                    1,
                    Box::pin(tokio::task::yield_now()),
                ))
            }
        });
        let deadline = spec.limits.call_deadline;
        let ends = start_call(&mut store, deadline);
        let bindings = bounded(ends, filter.pre.instantiate_async(&mut store))
            .await
            .map_err(|err| StartError::Call(CallError::Instantiate(format!("{err:#}"))))?;
        let ends = start_call(&mut store, deadline);
        let phases = bounded(ends, bindings.call_init(&mut store, &spec.config_json))
            .await
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

/// Arms the deadline of the call about to start; returns when it ends.
fn start_call(store: &mut Store<HostState>, deadline: Duration) -> Instant {
    let ends = Instant::now() + deadline;
    store.data_mut().deadline = ends;
    store.set_epoch_deadline(1);
    ends
}

/// Runs a guest call with its deadline, also while it waits in a host call
/// (where no epoch check runs), and turns a panic in a host function it
/// reached into an error: the instance is then discarded like after a trap,
/// and the worker thread serving the request lives on.
///
/// Most calls complete at their first poll (they never wait on I/O), so the
/// timer that bounds a waiting call is only armed for one that did not.
async fn bounded<R>(
    ends: Instant,
    call: impl Future<Output = wasmtime::Result<R>>,
) -> wasmtime::Result<R> {
    let mut guarded = std::pin::pin!(std::panic::AssertUnwindSafe(call).catch_unwind());
    let outcome = match futures::poll!(guarded.as_mut()) {
        std::task::Poll::Ready(outcome) => outcome,
        // A tick of slack: a running guest is stopped by the epoch check
        // first, which tells a deadline from a trap the same way in both cases.
        std::task::Poll::Pending => {
            let at = tokio::time::Instant::from_std(ends + EPOCH_TICK);
            match tokio::time::timeout_at(at, guarded).await {
                Err(_elapsed) => return Err(wasmtime::Trap::Interrupt.into()),
                Ok(outcome) => outcome,
            }
        }
    };
    outcome.unwrap_or_else(|panic| {
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

/// One phase call, with what it takes beyond the request and response.
enum Phase<'a> {
    RequestHeaders,
    RequestBody(&'a [u8]),
    ResponseHeaders,
    ResponseBody(&'a [u8]),
    Log(&'a wit::LogInfo),
}

/// What a phase call returned.
enum PhaseResult {
    Decision(wit::Decision),
    RequestBody(wit::RequestBodyDecision),
    ResponseBody(wit::ResponseBodyDecision),
    Logged,
}

async fn invoke(
    f: &Filter,
    store: &mut Store<HostState>,
    phase: Phase<'_>,
) -> wasmtime::Result<PhaseResult> {
    let (req, resp) = (Resource::new_borrow(0), Resource::new_borrow(0));
    Ok(match phase {
        Phase::RequestHeaders => {
            PhaseResult::Decision(f.call_on_request_headers(store, req).await?)
        }
        Phase::RequestBody(body) => {
            PhaseResult::RequestBody(f.call_on_request_body(store, req, body).await?)
        }
        Phase::ResponseHeaders => {
            PhaseResult::Decision(f.call_on_response_headers(store, req, resp).await?)
        }
        Phase::ResponseBody(body) => {
            PhaseResult::ResponseBody(f.call_on_response_body(store, req, resp, body).await?)
        }
        Phase::Log(info) => {
            f.call_on_log(store, req, resp, info).await?;
            PhaseResult::Logged
        }
    })
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

    pub async fn on_request_headers(
        &mut self,
        req: &mut RequestView,
        ctx: &mut ContextBag,
    ) -> Result<Decision, CallError> {
        match self.call(req, None, ctx, Phase::RequestHeaders).await? {
            PhaseResult::Decision(d) => decision_from_wit(d),
            _ => unreachable!("on-request-headers returns a decision"),
        }
    }

    pub async fn on_request_body(
        &mut self,
        req: &mut RequestView,
        ctx: &mut ContextBag,
        body: &[u8],
    ) -> Result<RequestBodyDecision, CallError> {
        let PhaseResult::RequestBody(decision) =
            self.call(req, None, ctx, Phase::RequestBody(body)).await?
        else {
            unreachable!("on-request-body returns a request-body decision")
        };
        Ok(match decision {
            wit::RequestBodyDecision::Continue => RequestBodyDecision::Continue,
            wit::RequestBodyDecision::Replace(body) => RequestBodyDecision::Replace(body),
            wit::RequestBodyDecision::Respond(r) => {
                RequestBodyDecision::Respond(response_from_wit(r)?)
            }
        })
    }

    pub async fn on_response_headers(
        &mut self,
        req: &mut RequestView,
        resp: &mut ResponseView,
        ctx: &mut ContextBag,
    ) -> Result<Decision, CallError> {
        match self
            .call(req, Some(resp), ctx, Phase::ResponseHeaders)
            .await?
        {
            PhaseResult::Decision(d) => decision_from_wit(d),
            _ => unreachable!("on-response-headers returns a decision"),
        }
    }

    pub async fn on_response_body(
        &mut self,
        req: &mut RequestView,
        resp: &mut ResponseView,
        ctx: &mut ContextBag,
        body: &[u8],
    ) -> Result<ResponseBodyDecision, CallError> {
        let PhaseResult::ResponseBody(decision) = self
            .call(req, Some(resp), ctx, Phase::ResponseBody(body))
            .await?
        else {
            unreachable!("on-response-body returns a response-body decision")
        };
        Ok(match decision {
            wit::ResponseBodyDecision::Continue => ResponseBodyDecision::Continue,
            wit::ResponseBodyDecision::Replace(body) => ResponseBodyDecision::Replace(body),
        })
    }

    pub async fn on_log(
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
        self.call(req, Some(resp), ctx, Phase::Log(&info)).await?;
        Ok(())
    }

    /// Moves the request (and response) into the store for one call, with a
    /// fresh deadline, and back out after it. The call passes the filter's
    /// gate first (concurrency limit, circuit breaker). A failed call
    /// discards the instance; for a fail-open filter, its half-made edits
    /// are dropped too.
    async fn call(
        &mut self,
        req: &mut RequestView,
        mut resp: Option<&mut ResponseView>,
        ctx: &mut ContextBag,
        phase: Phase<'_>,
    ) -> Result<PhaseResult, CallError> {
        // Disjoint fields: the filter stays borrowed while the instance is taken.
        let filter = &self.filter;
        let permit = filter.gate.enter()?;
        // Taken out for the call: if the request's task is cancelled mid-call,
        // the instance is dropped with it instead of going back to the pool.
        let Some(mut wrapped) = self.warm.take() else {
            return Err(CallError::Instantiate(
                "instance was discarded after an earlier failure".into(),
            ));
        };
        let warm = wrapped.get_mut();
        let keep = (filter.spec.on_error == OnError::FailOpen)
            .then(|| (req.clone(), resp.as_deref().cloned(), ctx.clone()));
        let data = warm.store.data_mut();
        std::mem::swap(&mut data.request, req);
        std::mem::swap(&mut data.context, ctx);
        if let Some(resp) = resp.as_deref_mut() {
            std::mem::swap(&mut data.response, resp);
        }
        let ends = start_call(&mut warm.store, filter.spec.limits.call_deadline);
        let result = bounded(ends, invoke(&warm.bindings, &mut warm.store, phase))
            .await
            .map_err(CallError::from_wasmtime);
        let data = warm.store.data_mut();
        std::mem::swap(&mut data.request, req);
        std::mem::swap(&mut data.context, ctx);
        if let Some(resp) = resp.as_deref_mut() {
            std::mem::swap(&mut data.response, resp);
        }
        let result = result.and_then(|r| {
            check_result(&r)?;
            Ok(r)
        });
        permit.finish(result.is_err());
        match result {
            Ok(r) => {
                self.warm = Some(wrapped);
                Ok(r)
            }
            Err(err) => {
                if let Some((old_req, old_resp, old_ctx)) = keep {
                    *req = old_req;
                    *ctx = old_ctx;
                    if let (Some(resp), Some(old)) = (resp, old_resp) {
                        *resp = old;
                    }
                }
                Err(err)
            }
        }
    }
}

/// Refuses a result weir cannot use, so it counts as the filter's failure.
fn check_result(result: &PhaseResult) -> Result<(), CallError> {
    match result {
        PhaseResult::Decision(wit::Decision::Respond(r))
        | PhaseResult::RequestBody(wit::RequestBodyDecision::Respond(r)) => check_response(r),
        _ => Ok(()),
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
    check_response(&r)?;
    Ok(FilterResponse {
        status: r.status,
        headers: r.headers,
        body: r.body,
    })
}

fn check_response(r: &wit::Response) -> Result<(), CallError> {
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
    Ok(())
}
