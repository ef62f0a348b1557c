//! Per-filter, per-phase metrics: call durations and failures by kind,
//! resolved once per filter when a snapshot is built.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use prometheus::{Histogram, IntCounter};
use weir_wasm::{BreakerState, CallError, LoadedFilter, Phase};

use super::Families;

/// The `kind` label, as `CallError::kind` names them.
const KINDS: [&str; 8] = CallError::KINDS;

struct PhaseMetrics {
    duration: Histogram,
    failures: [IntCounter; KINDS.len()],
}

/// One filter's handles; phases it does not declare have none, and none
/// has any while metrics are off.
pub struct FilterMetrics {
    phases: [Option<PhaseMetrics>; Phase::ALL.len()],
}

impl FilterMetrics {
    pub fn new(filter: &LoadedFilter, enabled: bool) -> Self {
        let f = super::families();
        let name = filter.name();
        let declared = filter.phases();
        FilterMetrics {
            phases: Phase::ALL.map(|phase| {
                (enabled && declared.contains(phase)).then(|| PhaseMetrics {
                    duration: f
                        .filter_call_duration
                        .with_label_values(&[name, phase.name()]),
                    failures: std::array::from_fn(|k| {
                        f.filter_failures
                            .with_label_values(&[name, phase.name(), KINDS[k]])
                    }),
                })
            }),
        }
    }

    /// A call into the filter ran for `took`.
    pub fn call(&self, phase: Phase, took: Duration) {
        if let Some(m) = &self.phases[phase.index()] {
            m.duration.observe(took.as_secs_f64());
        }
    }

    /// A call failed or was refused.
    pub fn failure(&self, phase: Phase, error: &CallError) {
        if let Some(m) = &self.phases[phase.index()] {
            m.failures[error.kind_index()].inc();
        }
    }
}

pub(super) fn remove(f: &Families, filter: &str) {
    for phase in Phase::ALL.map(Phase::name) {
        let _ = f.filter_call_duration.remove_label_values(&[filter, phase]);
        for kind in KINDS {
            let _ = f
                .filter_failures
                .remove_label_values(&[filter, phase, kind]);
        }
    }
}

/// Breaker state and pool size are kept by the filter; copy them.
pub(super) fn refresh(f: &Families, filters: &HashMap<String, Arc<LoadedFilter>>) {
    f.filter_breaker_state.reset();
    f.filter_idle_instances.reset();
    f.filter_in_flight.reset();
    f.filter_fast_path.reset();
    for (name, filter) in filters {
        let gate = filter.gate_stats();
        let state = match gate.breaker {
            BreakerState::Closed => 0,
            BreakerState::HalfOpen => 1,
            BreakerState::Open => 2,
        };
        let labels = [name.as_str()];
        f.filter_breaker_state.with_label_values(&labels).set(state);
        f.filter_idle_instances
            .with_label_values(&labels)
            .set(filter.idle_instances() as i64);
        f.filter_in_flight
            .with_label_values(&labels)
            .set(i64::from(gate.in_flight));
        f.filter_fast_path
            .with_label_values(&labels)
            .set(i64::from(filter.on_fast_path()));
    }
}
