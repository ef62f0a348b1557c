//! Per-handler metrics: the time to answer (a fresh instance and the
//! handler's work up to its response head) and failures by kind, resolved
//! once per handler when a snapshot is built; in-flight requests and the
//! circuit breaker copied from the handler's gate at scrape time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use prometheus::{Histogram, IntCounter};
use weir_wasm::{BreakerState, CallError, LoadedHandler};

use super::Families;

const KINDS: [&str; 8] = CallError::KINDS;

/// One handler's handles; none while metrics are off.
pub struct HandlerMetrics(Option<Handles>);

struct Handles {
    answer: Histogram,
    failures: [IntCounter; KINDS.len()],
}

impl HandlerMetrics {
    pub fn new(name: &str, enabled: bool) -> Self {
        let f = super::families();
        HandlerMetrics(enabled.then(|| Handles {
            answer: f.handler_answer_duration.with_label_values(&[name]),
            failures: std::array::from_fn(|k| {
                f.handler_failures.with_label_values(&[name, KINDS[k]])
            }),
        }))
    }

    /// The handler answered (sent its response head) `took` after the call.
    pub fn answered(&self, took: Duration) {
        if let Some(m) = &self.0 {
            m.answer.observe(took.as_secs_f64());
        }
    }

    /// The handler failed, or was not run.
    pub fn failure(&self, error: &CallError) {
        if let Some(m) = &self.0 {
            m.failures[error.kind_index()].inc();
        }
    }
}

pub(super) fn remove(f: &Families, handler: &str) {
    let _ = f.handler_answer_duration.remove_label_values(&[handler]);
    for kind in KINDS {
        let _ = f.handler_failures.remove_label_values(&[handler, kind]);
    }
}

/// In-flight requests and breaker state are kept by the handler; copy them.
pub(super) fn refresh(f: &Families, handlers: &HashMap<String, Arc<LoadedHandler>>) {
    f.handler_breaker_state.reset();
    f.handler_in_flight.reset();
    for (name, handler) in handlers {
        let gate = handler.gate_stats();
        let state = match gate.breaker {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        };
        let labels = [name.as_str()];
        f.handler_breaker_state
            .with_label_values(&labels)
            .set(state);
        f.handler_in_flight
            .with_label_values(&labels)
            .set(i64::from(gate.in_flight));
    }
}
