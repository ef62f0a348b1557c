//! Per-request state of a chain, and the one loop every phase runs through.

use std::sync::Arc;
use std::time::Duration;

use pingora::http::{RequestHeader, ResponseHeader};
use weir_wasm::{
    CallError, CallTiming, Exchange, FilterInstance, LoadedFilter, LogInfo, OnError, Phase,
    PhaseCall, PhaseSet, RequestView, Verdict,
};

use super::views;
use super::{FilterFailure, PhaseOutcome, body_cap, is_last_call};
use crate::observe::metrics::FilterMetrics;
use crate::observe::otel::FilterCall;
use crate::observe::trace_context::{self, TraceContext};
use crate::snapshot::Chain;

/// Per-request state of a chain: one instance per filter, checked out on
/// first use and kept for all its phases (returned after its last one); the
/// views and the shared context bag.
pub struct ChainRun {
    filters: Arc<[Arc<LoadedFilter>]>,
    metrics: Arc<[Arc<FilterMetrics>]>,
    /// The union of the filters' phases.
    phases: PhaseSet,
    slots: Vec<Slot>,
    /// How many filters the request reached.
    reached: usize,
    /// The request and response as the filters see them, and their context
    /// bag; each call moves the box into the filter's store and back.
    pub exchange: Box<Exchange>,
    /// Set when the request's spans are exported: every call, timed (otel.rs).
    trace: Option<Vec<FilterCall>>,
    /// Time spent in filter calls so far (the access log's `filters_ms`).
    pub busy: Duration,
}

/// One filter's part in a request.
#[derive(Default)]
enum Slot {
    /// No instance held: none checked out yet, or its last call is done.
    #[default]
    Idle,
    /// Checked out on first use and kept until its last phase.
    Held(FilterInstance),
    /// Failed open: skipped for the rest of the request.
    Skipped,
}

/// One phase, with what it hands each filter.
enum Step<'a> {
    RequestHeaders,
    RequestBody(&'a mut Vec<u8>),
    ResponseHeaders,
    ResponseBody(&'a mut Vec<u8>),
    Log(&'a LogInfo),
}

impl Step<'_> {
    fn phase(&self) -> Phase {
        self.call().phase()
    }

    fn call(&self) -> PhaseCall<'_> {
        match self {
            Step::RequestHeaders => PhaseCall::RequestHeaders,
            Step::RequestBody(body) => PhaseCall::RequestBody(body),
            Step::ResponseHeaders => PhaseCall::ResponseHeaders,
            Step::ResponseBody(body) => PhaseCall::ResponseBody(body),
            Step::Log(info) => PhaseCall::Log(info),
        }
    }

    /// A body phase's filter replaced the body: the next one sees the new.
    fn replace_body(&mut self, new: Vec<u8>) {
        if let Step::RequestBody(body) | Step::ResponseBody(body) = self {
            **body = new;
        }
    }
}

impl ChainRun {
    /// The chain's state for a request whose filters see `request`; with
    /// the request's trace, its ids go into the context bag and, when its
    /// spans are exported, every call is timed.
    pub fn new(chain: &Chain, request: RequestView, trace: Option<&TraceContext>) -> Self {
        let n = chain.filters.len();
        let mut exchange = Exchange::new(request);
        let recording = trace.is_some_and(|trace| {
            trace_context::defer_into_context(&mut exchange.context, trace);
            crate::observe::otel::recording(trace)
        });
        ChainRun {
            filters: chain.filters.clone(),
            metrics: chain.metrics.clone(),
            phases: chain.phases,
            slots: (0..n).map(|_| Slot::Idle).collect(),
            // Until a filter answers or fails in the request-headers phase,
            // the request reaches the whole chain.
            reached: n,
            exchange,
            trace: recording.then(Vec::new),
            busy: Duration::ZERO,
        }
    }

    /// The union of the chain's phases.
    pub fn phases(&self) -> PhaseSet {
        self.phases
    }

    /// Smallest body cap among filters that read the request body.
    pub fn request_body_cap(&self) -> usize {
        body_cap(&self.filters, Phase::RequestBody)
    }

    pub fn response_body_cap(&self) -> usize {
        body_cap(&self.filters, Phase::ResponseBody)
    }

    /// weir's I/O runtime (the filters share one host).
    pub fn io_handle(&self) -> Option<tokio::runtime::Handle> {
        self.filters.first().map(|f| f.io_handle().clone())
    }

    /// The request meets the chain: `on-request-headers`, if any filter
    /// declared it, and the filters' edits replayed onto what goes upstream.
    pub async fn on_request(&mut self, req: &mut RequestHeader) -> pingora::Result<PhaseOutcome> {
        let outcome = if self.phases.contains(Phase::RequestHeaders) {
            self.on_request_headers().await
        } else {
            Ok(None)
        };
        views::apply_request_edits(req, &mut self.exchange.request)?;
        Ok(outcome)
    }

    /// The response to the request (the upstream's, a filter's or weir's
    /// own) meets the chain: first the response-header edits the request
    /// phases queued, then `on-response-headers`, whose edits are applied
    /// too. A response a filter answered with, or weir's 503 for one that
    /// failed closed, is to be sent instead.
    pub async fn on_response(&mut self, header: &mut ResponseHeader) -> PhaseOutcome {
        views::apply_response_edits(header, self.exchange.response_arrived().iter().cloned());
        if self.phases.contains(Phase::ResponseHeaders) {
            self.exchange.response = views::response_view(header);
            let outcome = self.on_response_headers().await;
            if let Ok(None) = outcome {
                let view = &mut self.exchange.response;
                if view.status_changed {
                    let _ = header.set_status(view.status);
                }
                views::apply_response_edits(header, view.edits.drain(..));
            }
            return outcome;
        }
        if self.phases.contains(Phase::ResponseBody) || self.phases.contains(Phase::Log) {
            // Filters of the later phases read the response's status and
            // headers too, as they go to the client.
            self.exchange.response = views::response_view(header);
        }
        Ok(None)
    }

    pub async fn on_request_headers(&mut self) -> PhaseOutcome {
        self.run(Step::RequestHeaders).await
    }

    /// Runs `on-request-body`; when it goes on, the (possibly replaced) body
    /// is in `body`.
    pub async fn on_request_body(&mut self, body: &mut Vec<u8>) -> PhaseOutcome {
        self.run(Step::RequestBody(body)).await
    }

    /// Runs `on-response-headers`; the exchange must hold the response.
    pub async fn on_response_headers(&mut self) -> PhaseOutcome {
        self.run(Step::ResponseHeaders).await
    }

    pub async fn on_response_body(&mut self, body: &mut Vec<u8>) -> PhaseOutcome {
        self.run(Step::ResponseBody(body)).await
    }

    /// Log phase: failures are logged, never change anything.
    pub async fn on_log(&mut self, info: &LogInfo) {
        let _ = self.run(Step::Log(info)).await;
    }

    /// One phase over the filters that declared it, in its order.
    async fn run(&mut self, mut step: Step<'_>) -> PhaseOutcome {
        let phase = step.phase();
        let reached = self.reached;
        for k in 0..reached {
            let i = if phase.in_chain_order() {
                k
            } else {
                reached - 1 - k
            };
            if !self.filters[i].phases().contains(phase) || matches!(self.slots[i], Slot::Skipped) {
                continue;
            }
            match self.call(i, step.call()).await {
                Ok(Verdict::Continue) => {}
                Ok(Verdict::ReplaceBody(body)) => step.replace_body(body),
                Ok(Verdict::Respond(response)) => {
                    if phase.in_chain_order() {
                        // The answering filter sees the response; later ones see nothing.
                        self.reached = i + 1;
                    }
                    return Ok(Some(response));
                }
                Err(error) => {
                    if let Some(failure) = self.fail(i, phase, error) {
                        if phase.in_chain_order() {
                            // The failed instance is gone; the filters before it see the 503.
                            self.reached = i;
                        }
                        return Err(failure);
                    }
                }
            }
        }
        Ok(None)
    }

    /// Calls filter `i` on its instance for this request (checked out on
    /// first use), and keeps the instance for the filter's later phases or,
    /// after its last call of the request (after every call, for a filter
    /// whose instances are shared), drops it: back to the pool at once,
    /// where the next request finds it warm in the caches instead of one of
    /// the many that requests in flight would otherwise hold.
    async fn call(&mut self, i: usize, call: PhaseCall<'_>) -> Result<Verdict, CallError> {
        let phase = call.phase();
        let mut instance = match std::mem::take(&mut self.slots[i]) {
            Slot::Held(instance) => instance,
            Slot::Idle | Slot::Skipped => self.filters[i].checkout().await?,
        };
        let result = instance.call(&mut self.exchange, call).await;
        if let Some(timing) = instance.last_call() {
            let took = timing.took();
            self.metrics[i].call(phase, took);
            self.busy += took;
            self.trace_call(i, phase, timing, &result);
        }
        let filter = &self.filters[i];
        if filter.held_between_calls() && !is_last_call(filter.phases(), phase) {
            self.slots[i] = Slot::Held(instance);
        }
        result
    }

    /// A call to filter `i` failed: counted, logged, and the filter's
    /// `on_error` applied. Returns the failure when the filter fails closed
    /// (the log phase never does).
    fn fail(&mut self, i: usize, phase: Phase, error: CallError) -> Option<FilterFailure> {
        self.metrics[i].failure(phase, &error);
        // The instance that failed is gone; never hand it back.
        self.slots[i] = Slot::Idle;
        let filter = &self.filters[i];
        let request_id = &self.exchange.request.request_id;
        if phase == Phase::Log {
            if error.is_filter_failure() {
                tracing::warn!(filter = filter.name(), %request_id, %error, "filter failed in the log phase");
            } else {
                tracing::debug!(filter = filter.name(), %request_id, %error, "filter not run in the log phase");
            }
            return None;
        }
        if error.is_filter_failure() {
            tracing::warn!(filter = filter.name(), %request_id, %error, on_error = ?filter.on_error(), "filter call failed");
        } else if matches!(error, CallError::NoInstanceSlot { .. }) {
            // Not the filter's doing, but the gateway is short of
            // capacity: an operator needs to see it.
            tracing::warn!(filter = filter.name(), %request_id, %error, on_error = ?filter.on_error(), "filter not run");
        } else {
            // Refused by the gate: the trip itself was logged once.
            tracing::debug!(filter = filter.name(), %request_id, %error, on_error = ?filter.on_error(), "filter not run");
        }
        match filter.on_error() {
            OnError::FailOpen => {
                self.slots[i] = Slot::Skipped;
                None
            }
            OnError::FailClosed => Some(FilterFailure {
                filter: filter.name().to_owned(),
                error,
            }),
        }
    }

    fn trace_call(
        &mut self,
        i: usize,
        phase: Phase,
        timing: CallTiming,
        result: &Result<Verdict, CallError>,
    ) {
        if let Some(calls) = self.trace.as_mut() {
            calls.push(FilterCall {
                filter: i,
                phase,
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
}
