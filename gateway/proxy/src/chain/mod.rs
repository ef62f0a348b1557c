//! A route's filter chain for one request: every phase is sequenced here,
//! request and response alike.
//!
//! Request phases go in chain order; response phases and the log go in
//! reverse, over the filters the request reached (a filter that answered
//! still sees the response phases; the ones after it see nothing). A failed
//! call applies the filter's `on_error`: fail-open skips the filter for the
//! rest of the request, fail-closed ends the request with 503.

pub mod inline;
mod run;
pub mod views;

use weir_wasm::{CallError, FilterResponse, LoadedFilter, OnError, Phase, PhaseSet};

use crate::snapshot::Chain;

pub use run::ChainRun;

/// A fail-closed filter failed: the request ends with weir's 503.
#[derive(Debug)]
pub struct FilterFailure {
    pub filter: String,
    pub error: CallError,
}

impl std::fmt::Display for FilterFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "filter {:?} {}", self.filter, self.error)
    }
}

impl FilterFailure {
    /// What the client gets: 503, and which filter failed (not why). A
    /// filter that was not run for want of capacity or while its circuit
    /// breaker is open may run again shortly: `Retry-After: 1`.
    pub fn response(&self, request_id: &str) -> FilterResponse {
        let mut response =
            error_response(503, &format!("filter {:?} failed", self.filter), request_id);
        if matches!(
            self.error,
            CallError::Overloaded(_) | CallError::CircuitOpen | CallError::NoInstanceSlot { .. }
        ) {
            response.headers.push(("retry-after".into(), b"1".to_vec()));
        }
        response
    }
}

/// What a phase of the chain comes to: `Ok(None)` to go on, `Ok(Some)` when
/// a filter answered with its own response, `Err` when one failed closed.
pub type PhaseOutcome = Result<Option<FilterResponse>, FilterFailure>;

/// weir's own error body, `{"error": "...", "request_id": "..."}`, as JSON
/// with the given status: for a failed filter and for every error weir
/// answers itself.
pub fn error_response(status: u16, message: &str, request_id: &str) -> FilterResponse {
    let body = serde_json::json!({ "error": message, "request_id": request_id }).to_string();
    FilterResponse {
        status,
        headers: vec![("content-type".into(), b"application/json".to_vec())],
        body: body.into_bytes(),
    }
}

/// When the chain's first filter is fail-closed and its circuit breaker is
/// open, the request's outcome is known before anything is built: that
/// filter's 503 (no filter before it exists to see the response).
pub fn refused_up_front(chain: &Chain) -> Option<FilterFailure> {
    let first = chain.filters.first()?;
    if !first.phases().contains(Phase::RequestHeaders) || first.on_error() != OnError::FailClosed {
        return None;
    }
    let error = first.refuse_early().err()?;
    chain.metrics[0].failure(Phase::RequestHeaders, &error);
    tracing::debug!(filter = first.name(), %error, "filter not run");
    Some(FilterFailure {
        filter: first.name().to_owned(),
        error,
    })
}

/// Whether a call in `phase` is the filter's last for this request: its last
/// declared phase, when that phase runs at most once per request. A request
/// phase qualifies; a response-headers phase does not, as it runs again on
/// a response that replaces the first (weir's 503 after a body filter
/// failed closed), and after the log phase the request is over anyway.
fn is_last_call(phases: PhaseSet, phase: Phase) -> bool {
    phase.in_chain_order() && phases.ends_after(phase)
}

/// Smallest body cap among `filters` that run in `phase`.
fn body_cap(filters: &[std::sync::Arc<LoadedFilter>], phase: Phase) -> usize {
    filters
        .iter()
        .filter(|f| f.phases().contains(phase))
        .map(|f| f.max_body_bytes())
        .min()
        .unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_request_phases_can_be_the_last_call() {
        let request_only = PhaseSet::EMPTY.with(Phase::RequestHeaders);
        assert!(is_last_call(request_only, Phase::RequestHeaders));
        let with_body = request_only.with(Phase::RequestBody);
        assert!(!is_last_call(with_body, Phase::RequestHeaders));
        assert!(is_last_call(with_body, Phase::RequestBody));
        let response_only = PhaseSet::EMPTY.with(Phase::ResponseHeaders);
        assert!(!is_last_call(response_only, Phase::ResponseHeaders));
        assert!(!is_last_call(PhaseSet::ALL, Phase::Log));
    }
}
