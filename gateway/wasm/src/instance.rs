//! One checked-out instance: calls into the guest with limits, and the
//! conversions between generated and host-side types.

use std::sync::Arc;
use std::time::{Duration, Instant};

use futures::FutureExt;
use sync_wrapper::SyncWrapper;
use wasmtime::Store;
use wasmtime::component::Resource;

use crate::bindings::Filter;
use crate::bindings::weir::filter::types as wit;
use crate::epoch::{EPOCH_TICK, EpochClock};
use crate::error::CallError;
use crate::filter::{LoadedFilter, StartError};
use crate::state::HostState;
use crate::types::{
    Decision, FilterResponse, LogInfo, OnError, Phases, RequestBodyDecision, ResponseBodyDecision,
};
use crate::view::Exchange;

/// A live instance whose `init` has run. Kept boxed (in the pool and while
/// checked out) so that taking and returning it moves a pointer.
pub(crate) struct Warm {
    store: Store<HostState>,
    bindings: Filter,
    /// Requests served; the instance is recycled at `recycle_after`.
    pub(crate) uses: u32,
}

impl Warm {
    pub(crate) async fn start(filter: &LoadedFilter) -> Result<(Box<Warm>, Phases), StartError> {
        let spec = &filter.spec;
        let (mut store, bindings) = crate::instantiate::instantiate(filter).await?;
        let ends = start_call(&mut store, Instant::now(), spec.limits.call_deadline);
        let init = bindings.call_init(&mut store, &spec.config_json);
        let phases = bounded(&filter.clock, ends, init)
            .await
            .map_err(|err| StartError::Call(CallError::from_wasmtime(err)))?
            .map_err(StartError::Rejected)?;
        let warm = Box::new(Warm {
            store,
            bindings,
            uses: 0,
        });
        Ok((warm, phases_from_wit(phases)))
    }
}

/// Arms the deadline of a call starting `now`; returns when it ends.
pub(crate) fn start_call(
    store: &mut Store<HostState>,
    now: Instant,
    deadline: Duration,
) -> Instant {
    let ends = now + deadline;
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
/// The call keeps the epoch `clock` ticking until it ends or is dropped.
pub(crate) async fn bounded<R>(
    clock: &EpochClock,
    ends: Instant,
    call: impl Future<Output = wasmtime::Result<R>>,
) -> wasmtime::Result<R> {
    let _ticking = clock.enter();
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

/// When a call started and ended: one clock read at each end, shared by the
/// deadline, the gate and the caller's metrics.
#[derive(Debug, Clone, Copy)]
pub struct CallTiming {
    pub started: Instant,
    pub ended: Instant,
}

impl CallTiming {
    pub fn took(&self) -> Duration {
        self.ended.saturating_duration_since(self.started)
    }
}

/// An instance checked out for one request; goes back to the pool on drop
/// unless a call failed.
pub struct FilterInstance {
    filter: Arc<LoadedFilter>,
    /// A `Store` is `Send` but not `Sync` (WASI's context is not); Pingora's
    /// per-request context must be `Sync`. Only `&mut` access ever reaches the
    /// store, which `SyncWrapper` turns into `Sync` soundly.
    warm: Option<SyncWrapper<Box<Warm>>>,
    last_call: Option<CallTiming>,
}

impl FilterInstance {
    pub(crate) fn new(filter: Arc<LoadedFilter>, mut warm: Box<Warm>) -> Self {
        warm.uses += 1;
        FilterInstance {
            filter,
            warm: Some(SyncWrapper::new(warm)),
            last_call: None,
        }
    }

    pub fn filter(&self) -> &Arc<LoadedFilter> {
        &self.filter
    }

    /// When the last phase call started and ended (also a refused one).
    pub fn last_call(&self) -> Option<CallTiming> {
        self.last_call
    }

    pub async fn on_request_headers(
        &mut self,
        exchange: &mut Box<Exchange>,
    ) -> Result<Decision, CallError> {
        match self.call(exchange, Phase::RequestHeaders).await? {
            PhaseResult::Decision(d) => decision_from_wit(d),
            _ => unreachable!("on-request-headers returns a decision"),
        }
    }

    pub async fn on_request_body(
        &mut self,
        exchange: &mut Box<Exchange>,
        body: &[u8],
    ) -> Result<RequestBodyDecision, CallError> {
        let PhaseResult::RequestBody(decision) =
            self.call(exchange, Phase::RequestBody(body)).await?
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
        exchange: &mut Box<Exchange>,
    ) -> Result<Decision, CallError> {
        match self.call(exchange, Phase::ResponseHeaders).await? {
            PhaseResult::Decision(d) => decision_from_wit(d),
            _ => unreachable!("on-response-headers returns a decision"),
        }
    }

    pub async fn on_response_body(
        &mut self,
        exchange: &mut Box<Exchange>,
        body: &[u8],
    ) -> Result<ResponseBodyDecision, CallError> {
        let PhaseResult::ResponseBody(decision) =
            self.call(exchange, Phase::ResponseBody(body)).await?
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
        exchange: &mut Box<Exchange>,
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
        self.call(exchange, Phase::Log(&info)).await?;
        Ok(())
    }

    /// Moves the exchange into the store for one call, with a fresh
    /// deadline, and back out after it. The call passes the filter's gate
    /// first (concurrency limit, circuit breaker). A failed call discards the
    /// instance; for a fail-open filter, its half-made edits are dropped too.
    async fn call(
        &mut self,
        exchange: &mut Box<Exchange>,
        phase: Phase<'_>,
    ) -> Result<PhaseResult, CallError> {
        let started = Instant::now();
        self.last_call = Some(CallTiming {
            started,
            ended: started,
        });
        // Disjoint fields: the filter stays borrowed while the instance is taken.
        let filter = &self.filter;
        let permit = filter.gate.enter(started)?;
        // Taken out for the call: if the request's task is cancelled mid-call,
        // the instance is dropped with it instead of going back to the pool.
        let Some(mut wrapped) = self.warm.take() else {
            return Err(CallError::Instantiate(
                "instance was discarded after an earlier failure".into(),
            ));
        };
        let warm = wrapped.get_mut();
        let keep = (filter.spec.on_error == OnError::FailOpen).then(|| exchange.clone());
        std::mem::swap(&mut warm.store.data_mut().exchange, exchange);
        let ends = start_call(&mut warm.store, started, filter.spec.limits.call_deadline);
        // Boxed: wasmtime's call future is large, and every async frame
        // above it would otherwise copy it when it first awaits.
        let call = Box::pin(invoke(&warm.bindings, &mut warm.store, phase));
        let result = bounded(&filter.clock, ends, call)
            .await
            .map_err(CallError::from_wasmtime);
        std::mem::swap(&mut warm.store.data_mut().exchange, exchange);
        let result = result.and_then(|r| {
            check_result(&r)?;
            Ok(r)
        });
        let ended = Instant::now();
        permit.finish(result.is_err(), ended);
        self.last_call = Some(CallTiming { started, ended });
        match result {
            Ok(r) => {
                self.warm = Some(wrapped);
                Ok(r)
            }
            Err(err) => {
                if let Some(kept) = keep {
                    *exchange = kept;
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
