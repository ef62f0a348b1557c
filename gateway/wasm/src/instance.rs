//! One live instance of a filter: `init` run once, then phase calls with
//! the request moved in and out, each within its deadline and through the
//! filter's gate.

use std::time::{Duration, Instant};

use sync_wrapper::SyncWrapper;
use wasmtime::Store;
use wasmtime::component::Resource;

use crate::bindings::Filter;
use crate::bindings::weir::filter::types as wit;
use crate::error::{CallError, StartError, StartFailure};
use crate::host::HostState;
use crate::instantiate::{Recipe, instantiate};
use crate::phase::{Phase, PhaseCall, PhaseSet, Verdict};
use crate::store::{arm_deadline, bounded};
use crate::types::{FilterResponse, OnError};
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
    /// A new instance with `init` run on the filter's config; the phases
    /// `init` asked for.
    pub(crate) async fn start(recipe: &Recipe) -> Result<(Box<Warm>, PhaseSet), StartError> {
        let (mut store, bindings) = instantiate(recipe).await?;
        let ends = arm_deadline(&mut store, Instant::now(), recipe.limits.call_deadline);
        let init = bindings.call_init(&mut store, &recipe.config_json);
        let phases = bounded(&recipe.clock, ends, init)
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

/// An instance held for one request. A failed call discards it.
pub(crate) struct Instance {
    /// A `Store` is `Send` but not `Sync` (WASI's context is not); Pingora's
    /// per-request context must be `Sync`. Only `&mut` access ever reaches the
    /// store, which `SyncWrapper` turns into `Sync` soundly.
    warm: Option<SyncWrapper<Box<Warm>>>,
    last_call: Option<CallTiming>,
}

impl Instance {
    pub(crate) fn new(mut warm: Box<Warm>) -> Self {
        warm.uses += 1;
        Instance {
            warm: Some(SyncWrapper::new(warm)),
            last_call: None,
        }
    }

    pub(crate) fn last_call(&self) -> Option<CallTiming> {
        self.last_call
    }

    /// The warm instance, unless a call failed and discarded it.
    pub(crate) fn take_warm(&mut self) -> Option<Box<Warm>> {
        self.warm.take().map(SyncWrapper::into_inner)
    }

    /// Moves the exchange into the store for one call, with a fresh
    /// deadline, and back out after it. The call passes the filter's gate
    /// first (concurrency limit, circuit breaker). A failed call discards the
    /// instance; for a fail-open filter, its half-made edits are dropped too.
    pub(crate) async fn call(
        &mut self,
        recipe: &Recipe,
        exchange: &mut Box<Exchange>,
        call: PhaseCall<'_>,
    ) -> Result<Verdict, CallError> {
        let started = Instant::now();
        self.last_call = Some(CallTiming {
            started,
            ended: started,
        });
        let permit = recipe.gate.enter(started)?;
        // Taken out for the call: if the request's task is cancelled mid-call,
        // the instance is dropped with it instead of going back to the pool.
        let Some(mut wrapped) = self.warm.take() else {
            return Err(CallError::Instantiate(StartFailure::Discarded));
        };
        let warm = wrapped.get_mut();
        let keep = (recipe.on_error == OnError::FailOpen).then(|| exchange.clone());
        std::mem::swap(&mut warm.store.data_mut().exchange, exchange);
        let ends = arm_deadline(&mut warm.store, started, recipe.limits.call_deadline);
        // Boxed: wasmtime's call future is large, and every async frame
        // above it would otherwise copy it when it first awaits.
        let invoked = Box::pin(invoke(&warm.bindings, &mut warm.store, call));
        let result = bounded(&recipe.clock, ends, invoked)
            .await
            .map_err(CallError::from_wasmtime);
        std::mem::swap(&mut warm.store.data_mut().exchange, exchange);
        let result = result.and_then(verdict_from_wit);
        let ended = Instant::now();
        permit.finish(result.is_err(), ended);
        self.last_call = Some(CallTiming { started, ended });
        match result {
            Ok(verdict) => {
                self.warm = Some(wrapped);
                Ok(verdict)
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

/// What an export returned, before weir checks it.
enum Returned {
    Decision(wit::Decision),
    RequestBody(wit::RequestBodyDecision),
    ResponseBody(wit::ResponseBodyDecision),
    Logged,
}

/// Calls the export of `call`'s phase.
async fn invoke(
    f: &Filter,
    store: &mut Store<HostState>,
    call: PhaseCall<'_>,
) -> wasmtime::Result<Returned> {
    let (req, resp) = (Resource::new_borrow(0), Resource::new_borrow(0));
    Ok(match call {
        PhaseCall::RequestHeaders => {
            Returned::Decision(f.call_on_request_headers(store, req).await?)
        }
        PhaseCall::RequestBody(body) => {
            Returned::RequestBody(f.call_on_request_body(store, req, body).await?)
        }
        PhaseCall::ResponseHeaders => {
            Returned::Decision(f.call_on_response_headers(store, req, resp).await?)
        }
        PhaseCall::ResponseBody(body) => {
            Returned::ResponseBody(f.call_on_response_body(store, req, resp, body).await?)
        }
        PhaseCall::Log(info) => {
            let info = wit::LogInfo {
                status: info.status,
                duration_us: info.duration.as_micros() as u64,
                request_body_bytes: info.request_body_bytes,
                response_body_bytes: info.response_body_bytes,
                upstream_target: info.upstream_target.clone(),
                route: info.route.clone(),
                error: info.error.clone(),
            };
            f.call_on_log(store, req, resp, &info).await?;
            Returned::Logged
        }
    })
}

/// The filter's answer in weir's terms; a result weir cannot use counts as
/// the filter's failure.
fn verdict_from_wit(returned: Returned) -> Result<Verdict, CallError> {
    Ok(match returned {
        Returned::Decision(wit::Decision::Continue)
        | Returned::RequestBody(wit::RequestBodyDecision::Continue)
        | Returned::ResponseBody(wit::ResponseBodyDecision::Continue)
        | Returned::Logged => Verdict::Continue,
        Returned::RequestBody(wit::RequestBodyDecision::Replace(body))
        | Returned::ResponseBody(wit::ResponseBodyDecision::Replace(body)) => {
            Verdict::ReplaceBody(body)
        }
        Returned::Decision(wit::Decision::Respond(r))
        | Returned::RequestBody(wit::RequestBodyDecision::Respond(r)) => {
            Verdict::Respond(response_from_wit(r)?)
        }
    })
}

fn phases_from_wit(p: wit::Phases) -> PhaseSet {
    [
        (wit::Phases::REQUEST_HEADERS, Phase::RequestHeaders),
        (wit::Phases::REQUEST_BODY, Phase::RequestBody),
        (wit::Phases::RESPONSE_HEADERS, Phase::ResponseHeaders),
        (wit::Phases::RESPONSE_BODY, Phase::ResponseBody),
        (wit::Phases::LOG, Phase::Log),
    ]
    .into_iter()
    .filter(|(flag, _)| p.contains(*flag))
    .map(|(_, phase)| phase)
    .collect()
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
