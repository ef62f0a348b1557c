//! One live instance of a filter: `init` run once, then phase calls with
//! the request moved in and out, each within its deadline and through the
//! filter's gate; on the worker thread when the instance is linked for the
//! fast path, else on a fiber.

use std::time::{Duration, Instant};

use sync_wrapper::SyncWrapper;
use wasmtime::Store;

use crate::bindings::weir::filter::types as wit;
use crate::error::{CallError, EngineError, StartError, StartFailure};
use crate::exports::{Exports, Returned};
use crate::host::HostState;
use crate::instantiate::{Recipe, instantiate};
use crate::phase::{Phase, PhaseCall, PhaseSet, Verdict};
use crate::store::{StoreData, arm_deadline, bounded, bounded_now};
use crate::types::{FilterResponse, OnError};
use crate::view::Exchange;

/// A live instance whose `init` has run. Kept boxed (in the pool and while
/// checked out) so that taking and returning it moves a pointer.
pub(crate) struct Warm {
    store: Store<HostState>,
    exports: Exports,
    /// Requests served; the instance is recycled at `recycle_after`.
    pub(crate) uses: u32,
}

impl Warm {
    /// A new instance with `init` run on the filter's config; the phases
    /// `init` asked for.
    pub(crate) async fn start(recipe: &Recipe) -> Result<(Box<Warm>, PhaseSet), StartError> {
        let (mut store, instance) = instantiate(recipe).await?;
        let fast = store.data().fast();
        let exports = Exports::new(&mut store, &instance, fast).map_err(|err| {
            StartError::Call(CallError::Instantiate(StartFailure::Engine(
                EngineError::new(err),
            )))
        })?;
        let ends = arm_deadline(&mut store, Instant::now(), recipe.limits.call_deadline);
        let config = recipe.config_json.as_str();
        let init = match &exports {
            Exports::Now(f) => bounded_now(&recipe.clock, || f.call_init(&mut store, config)),
            Exports::Async(f) => {
                let yielded = store.data().yielded().clone();
                bounded(
                    &recipe.clock,
                    ends,
                    &yielded,
                    f.call_init(&mut store, config),
                )
                .await
            }
        };
        let phases = init
            .map_err(|err| StartError::Call(CallError::from_wasmtime(err)))?
            .map_err(StartError::Rejected)?;
        let warm = Box::new(Warm {
            store,
            exports,
            uses: 0,
        });
        Ok((warm, phases_from_wit(phases)))
    }

    /// Linked for the fast path.
    pub(crate) fn fast(&self) -> bool {
        matches!(self.exports, Exports::Now(_))
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
        let result = match &warm.exports {
            Exports::Now(f) => {
                let result = bounded_now(&recipe.clock, || {
                    Exports::call_now(f, &mut warm.store, call)
                });
                if warm.store.data().showed_slow() {
                    recipe.gate.leave_fast_path();
                }
                result
            }
            Exports::Async(f) => {
                // Boxed: wasmtime's call future is large, and every async
                // frame above it would otherwise copy it when it first awaits.
                let yielded = warm.store.data().yielded().clone();
                let invoked = Box::pin(Exports::call_async(f, &mut warm.store, call));
                bounded(&recipe.clock, ends, &yielded, invoked).await
            }
        }
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
