//! Per-filter, per-phase metrics: call durations and failures by kind,
//! resolved once per filter when a snapshot is built.

use std::time::Duration;

use prometheus::{Histogram, IntCounter};
use weir_wasm::{BreakerState, CallError, LoadedFilter, Phases};

use super::Families;
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    RequestHeaders,
    RequestBody,
    ResponseHeaders,
    ResponseBody,
    Log,
}

const PHASES: [&str; 5] = [
    "request_headers",
    "request_body",
    "response_headers",
    "response_body",
    "log",
];

/// The `kind` label, as `CallError::kind` names them.
const KINDS: [&str; 8] = [
    "trap",
    "deadline",
    "memory",
    "invalid_result",
    "instantiate",
    "circuit_open",
    "overloaded",
    "no_instance_slot",
];

fn kind_index(error: &CallError) -> usize {
    match error {
        CallError::Trap(_) => 0,
        CallError::Deadline => 1,
        CallError::MemoryLimit => 2,
        CallError::InvalidResult(_) => 3,
        CallError::Instantiate(_) => 4,
        CallError::CircuitOpen => 5,
        CallError::Overloaded(_) => 6,
        CallError::NoInstanceSlot { .. } => 7,
    }
}

fn declares(phases: Phases, phase: usize) -> bool {
    [
        phases.request_headers,
        phases.request_body,
        phases.response_headers,
        phases.response_body,
        phases.log,
    ][phase]
}

struct PhaseMetrics {
    duration: Histogram,
    failures: [IntCounter; KINDS.len()],
}

/// One filter's handles; phases it does not declare have none, and none
/// has any while metrics are off.
pub struct FilterMetrics {
    phases: [Option<PhaseMetrics>; PHASES.len()],
}

impl FilterMetrics {
    pub fn new(filter: &LoadedFilter, enabled: bool) -> Self {
        let f = super::families();
        let name = filter.name();
        let declared = filter.phases();
        let wanted = |p| enabled && declares(declared, p);
        FilterMetrics {
            phases: std::array::from_fn(|p| {
                wanted(p).then(|| PhaseMetrics {
                    duration: f.filter_call_duration.with_label_values(&[name, PHASES[p]]),
                    failures: std::array::from_fn(|k| {
                        f.filter_failures
                            .with_label_values(&[name, PHASES[p], KINDS[k]])
                    }),
                })
            }),
        }
    }

    /// A call into the filter ran for `took`.
    pub fn call(&self, phase: Phase, took: Duration) {
        if let Some(m) = &self.phases[phase as usize] {
            m.duration.observe(took.as_secs_f64());
        }
    }

    /// A call failed or was refused.
    pub fn failure(&self, phase: Phase, error: &CallError) {
        if let Some(m) = &self.phases[phase as usize] {
            m.failures[kind_index(error)].inc();
        }
    }
}

pub(super) fn remove(f: &Families, filter: &str) {
    for phase in PHASES {
        let _ = f.filter_call_duration.remove_label_values(&[filter, phase]);
        for kind in KINDS {
            let _ = f
                .filter_failures
                .remove_label_values(&[filter, phase, kind]);
        }
    }
}

/// Breaker state and pool size are kept by the filter; copy them.
pub(super) fn refresh(f: &Families, snapshot: &Snapshot) {
    f.filter_breaker_state.reset();
    f.filter_idle_instances.reset();
    f.filter_in_flight.reset();
    f.filter_instance_slots.reset();
    f.filter_instance_slots_in_use.reset();
    // The slots belong to the host all filters share: any filter tells.
    if let Some(filter) = snapshot.filters.values().next() {
        let (in_use, slots) = filter.instance_slots();
        f.filter_instance_slots
            .with_label_values::<&str>(&[])
            .set(i64::from(slots));
        f.filter_instance_slots_in_use
            .with_label_values::<&str>(&[])
            .set(in_use as i64);
    }
    for (name, filter) in &snapshot.filters {
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
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_match_the_call_errors_names() {
        for error in [
            CallError::Trap(String::new()),
            CallError::Deadline,
            CallError::MemoryLimit,
            CallError::InvalidResult(String::new()),
            CallError::Instantiate(String::new()),
            CallError::CircuitOpen,
            CallError::Overloaded(1),
            CallError::NoInstanceSlot {
                slots: 1,
                reason: String::new(),
            },
        ] {
            assert_eq!(KINDS[kind_index(&error)], error.kind());
        }
    }
}
