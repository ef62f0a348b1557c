//! Runs a route's filter chain phase by phase for one request.
//!
//! Request phases go in chain order; response phases and the log go in
//! reverse, over the filters the request reached (a filter that answered
//! still sees the response phases; the ones after it see nothing). A failed
//! call applies the filter's `on_error`: fail-open skips the filter for this
//! request, fail-closed ends the request with 503.

use std::sync::Arc;

use weir_wasm::{
    CallError, CallTiming, Decision, Exchange, FilterInstance, FilterResponse, LoadedFilter,
    LogInfo, OnError, Phases, RequestBodyDecision, RequestView, ResponseBodyDecision,
};

use crate::metrics::{FilterMetrics, Phase};
use crate::otel::FilterCall;
use crate::snapshot::Chain;

/// The outcome of a phase for the request.
#[derive(Debug)]
pub enum Outcome {
    Continue,
    Respond(FilterResponse),
    /// A fail-closed filter failed.
    Failed {
        filter: String,
        error: CallError,
    },
}

/// Takes filter `$i`'s instance for this request (checked out on first use),
/// awaits `$call` on it and puts it back: a phase call's result. The call's
/// duration goes to the filter's `$phase` histogram.
macro_rules! with_instance {
    ($run:ident, $i:expr, $phase:expr, |$inst:ident| $call:expr) => {
        match $run.take_instance($i).await {
            Ok(mut $inst) => {
                let result = $call.await;
                if let Some(timing) = $inst.last_call() {
                    let took = timing.took();
                    $run.metrics[$i].call($phase, took);
                    $run.busy += took;
                    $run.trace_call($i, $phase, timing, &result);
                }
                $run.put_back($i, $phase, $inst, result)
            }
            Err(error) => Err(error),
        }
    };
}

/// When the chain's first filter is fail-closed and its circuit breaker is
/// open, the request's outcome is known before anything is built: that
/// filter's 503 (no filter before it exists to see the response). Returns
/// the filter's name and why.
pub fn refused_up_front(chain: &Chain) -> Option<(String, CallError)> {
    let first = chain.filters.first()?;
    if !first.phases().request_headers || first.on_error() != OnError::FailClosed {
        return None;
    }
    let error = first.refuse_early().err()?;
    chain.metrics[0].failure(Phase::RequestHeaders, &error);
    tracing::debug!(filter = first.name(), %error, "filter not run");
    Some((first.name().to_owned(), error))
}

/// Whether a call in `phase` is the filter's last for this request: its last
/// declared phase, when that phase runs at most once per request. A request
/// phase qualifies; a response-headers phase does not, as it runs again on
/// a response that replaces the first (weir's 503 after a body filter
/// failed closed), and after the log phase the request is over anyway.
fn is_last_call(phases: Phases, phase: Phase) -> bool {
    let after_request_body = phases.response_headers || phases.response_body || phases.log;
    match phase {
        Phase::RequestHeaders => !phases.request_body && !after_request_body,
        Phase::RequestBody => !after_request_body,
        Phase::ResponseHeaders | Phase::ResponseBody | Phase::Log => false,
    }
}

/// Per-request state of a chain: one instance per filter, checked out on first
/// use and kept for all its phases (returned after its last one); the views
/// and the shared context bag.
pub struct ChainRun {
    filters: Arc<[Arc<LoadedFilter>]>,
    metrics: Arc<[Arc<FilterMetrics>]>,
    slots: Vec<Slot>,
    /// How many filters the request reached.
    reached: usize,
    /// The request and response as the filters see them, and their context
    /// bag; each call moves the box into the filter's store and back.
    pub exchange: Box<Exchange>,
    /// A fail-closed failure from the last call, picked up by `failed`.
    pending_failure: Option<(usize, CallError)>,
    /// Set when the request's spans are exported: every call, timed (otel.rs).
    pub trace: Option<Vec<FilterCall>>,
    /// Time spent in filter calls so far (the access log's `filters_ms`).
    pub busy: std::time::Duration,
}

/// One filter's part in a request.
#[derive(Default)]
struct Slot {
    /// Checked out on first use and kept until its last phase.
    instance: Option<FilterInstance>,
    /// Failed open: skipped for the rest of the request.
    skipped: bool,
}

impl ChainRun {
    pub fn new(chain: &Chain, request: RequestView) -> Self {
        let n = chain.filters.len();
        ChainRun {
            filters: chain.filters.clone(),
            metrics: chain.metrics.clone(),
            slots: (0..n).map(|_| Slot::default()).collect(),
            // Until a filter answers or fails in the request-headers phase,
            // the request reaches the whole chain.
            reached: n,
            exchange: Exchange::new(request),
            pending_failure: None,
            trace: None,
            busy: std::time::Duration::ZERO,
        }
    }

    /// Smallest body cap among filters that read the request body.
    pub fn request_body_cap(&self) -> usize {
        self.body_cap(|f| f.phases().request_body)
    }

    /// weir's I/O runtime (the filters share one host).
    pub fn io_handle(&self) -> Option<tokio::runtime::Handle> {
        self.filters.first().map(|f| f.io_handle().clone())
    }

    pub fn response_body_cap(&self) -> usize {
        self.body_cap(|f| f.phases().response_body)
    }

    fn body_cap(&self, wants: impl Fn(&LoadedFilter) -> bool) -> usize {
        self.filters
            .iter()
            .filter(|f| wants(f))
            .map(|f| f.max_body_bytes())
            .min()
            .unwrap_or(usize::MAX)
    }

    pub async fn on_request_headers(&mut self) -> Outcome {
        for i in 0..self.filters.len() {
            if !self.filters[i].phases().request_headers {
                continue;
            }
            let result = with_instance!(self, i, Phase::RequestHeaders, |inst| inst
                .on_request_headers(&mut self.exchange));
            match self.settle(i, Phase::RequestHeaders, result) {
                Some(Decision::Respond(r)) => {
                    // The answering filter sees the response; later ones see nothing.
                    self.reached = i + 1;
                    return Outcome::Respond(r);
                }
                Some(Decision::Continue) | None => {}
            }
            if let Some(failed) = self.failed(i) {
                // The failed instance is gone; the filters before it see the 503.
                self.reached = i;
                return failed;
            }
        }
        Outcome::Continue
    }

    /// Runs `on-request-body`; on `Continue` the (possibly replaced) body is in `body`.
    pub async fn on_request_body(&mut self, body: &mut Vec<u8>) -> Outcome {
        for i in 0..self.reached {
            if !self.filters[i].phases().request_body {
                continue;
            }
            let result = with_instance!(self, i, Phase::RequestBody, |inst| inst
                .on_request_body(&mut self.exchange, body));
            match self.settle(i, Phase::RequestBody, result) {
                Some(RequestBodyDecision::Replace(new)) => *body = new,
                Some(RequestBodyDecision::Respond(r)) => {
                    self.reached = i + 1;
                    return Outcome::Respond(r);
                }
                Some(RequestBodyDecision::Continue) | None => {}
            }
            if let Some(failed) = self.failed(i) {
                self.reached = i;
                return failed;
            }
        }
        Outcome::Continue
    }

    /// Runs `on-response-headers` in reverse; the exchange must hold the response.
    pub async fn on_response_headers(&mut self) -> Outcome {
        for i in (0..self.reached).rev() {
            if !self.filters[i].phases().response_headers {
                continue;
            }
            let result = with_instance!(self, i, Phase::ResponseHeaders, |inst| inst
                .on_response_headers(&mut self.exchange));
            match self.settle(i, Phase::ResponseHeaders, result) {
                Some(Decision::Respond(r)) => return Outcome::Respond(r),
                Some(Decision::Continue) | None => {}
            }
            if let Some(failed) = self.failed(i) {
                return failed;
            }
        }
        Outcome::Continue
    }

    pub async fn on_response_body(&mut self, body: &mut Vec<u8>) -> Outcome {
        for i in (0..self.reached).rev() {
            if !self.filters[i].phases().response_body {
                continue;
            }
            let result = with_instance!(self, i, Phase::ResponseBody, |inst| inst
                .on_response_body(&mut self.exchange, body));
            if let Some(ResponseBodyDecision::Replace(new)) =
                self.settle(i, Phase::ResponseBody, result)
            {
                *body = new;
            }
            if let Some(failed) = self.failed(i) {
                return failed;
            }
        }
        Outcome::Continue
    }

    /// Log phase: failures are logged, never change anything.
    pub async fn on_log(&mut self, info: &LogInfo) {
        for i in (0..self.reached).rev() {
            if !self.filters[i].phases().log {
                continue;
            }
            let result = with_instance!(self, i, Phase::Log, |inst| inst
                .on_log(&mut self.exchange, info));
            if let Err(error) = &result
                && !self.slots[i].skipped
            {
                self.metrics[i].failure(Phase::Log, error);
            }
            match result {
                Err(error) if error.is_filter_failure() => {
                    tracing::warn!(filter = self.filters[i].name(), request_id = %self.exchange.request.request_id, %error, "filter failed in the log phase");
                }
                Err(error) => {
                    tracing::debug!(filter = self.filters[i].name(), request_id = %self.exchange.request.request_id, %error, "filter not run in the log phase");
                }
                Ok(()) => {}
            }
        }
    }

    fn trace_call<R>(
        &mut self,
        i: usize,
        phase: Phase,
        timing: CallTiming,
        result: &Result<R, CallError>,
    ) {
        if let Some(calls) = self.trace.as_mut() {
            calls.push(FilterCall {
                filter: i,
                phase: crate::otel::phase_name(phase),
                started: timing.started,
                ended: timing.ended,
                outcome: result.as_ref().map_or_else(CallError::kind, |_| "ok"),
            });
        }
    }

    /// The traced calls with their filters' names.
    pub fn traced_calls(&self) -> Vec<(&str, &FilterCall)> {
        self.trace
            .iter()
            .flatten()
            .map(|c| (self.filters[c.filter].name(), c))
            .collect()
    }

    /// The filter's instance for this request, checked out on first use.
    async fn take_instance(&mut self, i: usize) -> Result<FilterInstance, CallError> {
        if self.slots[i].skipped {
            return Err(CallError::Instantiate("skipped after failing open".into()));
        }
        match self.slots[i].instance.take() {
            Some(instance) => Ok(instance),
            None => self.filters[i].checkout().await,
        }
    }

    /// Keeps the instance for the filter's later phases, or, after its last
    /// call of the request, drops it: back to the pool at once, where the
    /// next request finds it warm in the caches instead of one of the many
    /// that requests in flight would otherwise hold.
    fn put_back<R>(
        &mut self,
        i: usize,
        phase: Phase,
        instance: FilterInstance,
        result: Result<R, CallError>,
    ) -> Result<R, CallError> {
        if !is_last_call(self.filters[i].phases(), phase) {
            self.slots[i].instance = Some(instance);
        }
        result
    }

    /// Turns a call result into a decision, applying the filter's on-error
    /// policy. Returns None when the filter failed (check `failed`).
    fn settle<R>(&mut self, i: usize, phase: Phase, result: Result<R, CallError>) -> Option<R> {
        match result {
            Ok(decision) => Some(decision),
            Err(error) => {
                let filter = &self.filters[i];
                let slot = &mut self.slots[i];
                if !slot.skipped {
                    self.metrics[i].failure(phase, &error);
                }
                if slot.skipped {
                    // Already reported for this request.
                } else if error.is_filter_failure() {
                    tracing::warn!(filter = filter.name(), request_id = %self.exchange.request.request_id, %error, on_error = ?filter.on_error(), "filter call failed");
                } else if matches!(error, CallError::NoInstanceSlot { .. }) {
                    // Not the filter's doing, but the gateway is short of
                    // capacity: an operator needs to see it.
                    tracing::warn!(filter = filter.name(), request_id = %self.exchange.request.request_id, %error, on_error = ?filter.on_error(), "filter not run");
                } else {
                    // Refused by the gate: the trip itself was logged once.
                    tracing::debug!(filter = filter.name(), request_id = %self.exchange.request.request_id, %error, on_error = ?filter.on_error(), "filter not run");
                }
                // The instance that failed is gone; never hand it back.
                slot.instance = None;
                match filter.on_error() {
                    OnError::FailOpen => slot.skipped = true,
                    OnError::FailClosed => self.pending_failure = Some((i, error)),
                }
                None
            }
        }
    }

    fn failed(&mut self, i: usize) -> Option<Outcome> {
        let (at, error) = self.pending_failure.take()?;
        debug_assert_eq!(at, i);
        Some(Outcome::Failed {
            filter: self.filters[at].name().to_owned(),
            error,
        })
    }
}
