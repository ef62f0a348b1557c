//! Isolation from a filter that keeps failing: every call passes a gate that
//! bounds the calls in flight and runs a circuit breaker.
//!
//! The breaker counts calls and failures (deadline, trap, memory cap, invalid
//! result) in a window. When at least `min_calls` were made and at least
//! `failure_ratio` of them failed, it opens: calls are refused for
//! `cool_down` without running the filter, so its `on_error` applies at no
//! cost. Then one probe call is let through: success closes the breaker,
//! failure opens it again. A filter that runs to its deadline on every call
//! therefore costs one deadline per cool-down instead of one per request.
//!
//! A gate outlives config generations while the filter's module, config and
//! breaker settings stay the same, so a reload does not reset a tripped filter.
//!
//! Past 400 lines because its tests (a third of the file) drive the breaker
//! through every transition beside the code they check.

use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use weir_config::CircuitBreaker;

use crate::error::CallError;

pub(crate) struct CallGate {
    filter: Arc<str>,
    settings: CircuitBreaker,
    max_concurrent: u32,
    /// Reference point for `refused_until`.
    created: Instant,
    /// Nanoseconds after `created` until which an open breaker refuses
    /// (0: never tripped). Read without a lock on every checkout.
    refused_until: AtomicU64,
    in_flight: AtomicU32,
    /// Mirrors `breaker` being `Closed`, so that a call through a closed
    /// breaker, nearly every call, needs no lock to be let in.
    closed: AtomicBool,
    breaker: Mutex<Breaker>,
    /// Calls that succeeded through the closed breaker since a failure last
    /// took the lock: counted without it, added to the window by the next
    /// failure. The window's other numbers live in `breaker`.
    window_successes: AtomicU32,
    counters: Counters,
    /// The filter showed on the fast path that it computes long or waits
    /// (`epoch::FAST_PATH_SLICE`, `host/ready_now.rs`): its calls take the
    /// async path from now on, also in later generations that keep this gate.
    left_fast_path: AtomicBool,
}

#[derive(Default)]
struct Counters {
    calls: AtomicU64,
    failures: AtomicU64,
    refused_open: AtomicU64,
    refused_overloaded: AtomicU64,
    trips: AtomicU64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Breaker {
    Closed {
        window_start: Instant,
        calls: u32,
        failures: u32,
    },
    Open {
        until: Instant,
    },
    /// One probe call is running; everything else is refused.
    HalfOpen,
}

/// The breaker's state as the admin endpoint shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
}

impl BreakerState {
    pub fn as_str(self) -> &'static str {
        match self {
            BreakerState::Closed => "closed",
            BreakerState::Open => "open",
            BreakerState::HalfOpen => "half_open",
        }
    }
}

/// Counters and state of one filter's gate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GateStats {
    pub breaker: BreakerState,
    pub in_flight: u32,
    pub calls: u64,
    pub failures: u64,
    pub refused_open: u64,
    pub refused_overloaded: u64,
    pub trips: u64,
    /// The filter left the fast path (see [`CallGate::leave_fast_path`]).
    pub left_fast_path: bool,
}

/// A call let through the gate; report how it went with [`Permit::finish`].
/// Dropped without `finish` (the request's task was cancelled), it only
/// frees its slot. A filter's call borrows its gate (`&CallGate`); a
/// handler's request, which outlives the borrow, holds an `Arc`.
pub(crate) struct Permit<G: Deref<Target = CallGate>> {
    gate: G,
    probe: bool,
    finished: bool,
}

impl CallGate {
    pub(crate) fn new(filter: Arc<str>, settings: CircuitBreaker, max_concurrent: u32) -> Self {
        CallGate {
            filter,
            settings,
            max_concurrent,
            created: Instant::now(),
            refused_until: AtomicU64::new(0),
            in_flight: AtomicU32::new(0),
            closed: AtomicBool::new(true),
            breaker: Mutex::new(Breaker::Closed {
                window_start: Instant::now(),
                calls: 0,
                failures: 0,
            }),
            window_successes: AtomicU32::new(0),
            counters: Counters::default(),
            left_fast_path: AtomicBool::new(false),
        }
    }

    /// Whether the filter's calls may still take the fast path.
    #[inline]
    pub(crate) fn fast_path_open(&self) -> bool {
        !self.left_fast_path.load(Ordering::Relaxed)
    }

    /// Moves the filter to the async path for good; logged once.
    pub(crate) fn leave_fast_path(&self) {
        if !self.left_fast_path.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                filter = %self.filter,
                "filter call ran past {} ms or waited on the fast path; its calls take the async path from now on",
                crate::epoch::FAST_PATH_SLICE.as_millis()
            );
        }
    }

    /// Whether a gate with these settings can carry on for a new generation.
    pub(crate) fn same_settings(&self, settings: &CircuitBreaker, max_concurrent: u32) -> bool {
        self.settings == *settings && self.max_concurrent == max_concurrent
    }

    /// Refuses at once while the breaker is open and its cool-down runs, so
    /// a request to a tripped filter costs no instance checkout. Lock-free:
    /// every checkout asks.
    pub(crate) fn refuse_early(&self) -> Result<(), CallError> {
        let until = self.refused_until.load(Ordering::Acquire);
        if until != 0 && (self.created.elapsed().as_nanos() as u64) < until {
            self.counters.refused_open.fetch_add(1, Ordering::Relaxed);
            return Err(CallError::CircuitOpen);
        }
        Ok(())
    }

    /// Lets a call starting at `now` through, or refuses it.
    #[inline]
    pub(crate) fn enter(&self, now: Instant) -> Result<Permit<&CallGate>, CallError> {
        Self::enter_with(self, now)
    }

    /// [`CallGate::enter`] for a holder of the gate that keeps it for the
    /// permit's life (an `Arc`).
    pub(crate) fn enter_with<G: Deref<Target = CallGate>>(
        gate: G,
        now: Instant,
    ) -> Result<Permit<G>, CallError> {
        let probe = if gate.settings.enabled && !gate.closed.load(Ordering::Acquire) {
            gate.admit(now)?
        } else {
            false
        };
        let before = gate.in_flight.fetch_add(1, Ordering::AcqRel);
        if before >= gate.max_concurrent {
            gate.in_flight.fetch_sub(1, Ordering::AcqRel);
            if probe {
                // The probe never ran: let the next call probe instead.
                gate.reopen_now();
            }
            gate.counters
                .refused_overloaded
                .fetch_add(1, Ordering::Relaxed);
            return Err(CallError::Overloaded(gate.max_concurrent));
        }
        gate.counters.calls.fetch_add(1, Ordering::Relaxed);
        Ok(Permit {
            gate,
            probe,
            finished: false,
        })
    }

    /// Decides whether the breaker lets a call through; `Ok(true)` for a probe.
    fn admit(&self, now: Instant) -> Result<bool, CallError> {
        let mut breaker = self.breaker.lock().expect("breaker lock");
        match *breaker {
            Breaker::Closed { .. } => Ok(false),
            Breaker::Open { until } if now >= until => {
                *breaker = Breaker::HalfOpen;
                Ok(true)
            }
            Breaker::Open { .. } | Breaker::HalfOpen => {
                self.counters.refused_open.fetch_add(1, Ordering::Relaxed);
                Err(CallError::CircuitOpen)
            }
        }
    }

    fn reopen_now(&self) {
        let mut breaker = self.breaker.lock().expect("breaker lock");
        *breaker = Breaker::Open {
            until: Instant::now(),
        };
        self.closed.store(false, Ordering::Release);
    }

    fn record(&self, probe: bool, failed: bool, now: Instant) {
        if failed {
            self.counters.failures.fetch_add(1, Ordering::Relaxed);
        }
        if !self.settings.enabled {
            return;
        }
        // Nearly every call: a success cannot trip a closed breaker, so it
        // is only counted. Successes after the window ended and before the
        // next failure are not counted toward any window.
        if !failed && !probe && self.closed.load(Ordering::Acquire) {
            self.window_successes.fetch_add(1, Ordering::Relaxed);
            return;
        }
        let mut breaker = self.breaker.lock().expect("breaker lock");
        let next = match *breaker {
            Breaker::HalfOpen if probe && failed => self.trip(now),
            Breaker::HalfOpen if probe => {
                tracing::info!(
                    filter = &*self.filter,
                    "circuit breaker closed: the probe call succeeded"
                );
                self.window_successes.store(0, Ordering::Relaxed);
                closed(now)
            }
            Breaker::Closed {
                window_start,
                calls,
                failures,
            } => {
                let successes = self.window_successes.swap(0, Ordering::Relaxed);
                let (calls, failures) = if now.duration_since(window_start) > self.settings.window {
                    (1, u32::from(failed))
                } else {
                    (calls + successes + 1, failures + u32::from(failed))
                };
                let window_start = if calls == 1 { now } else { window_start };
                if calls >= self.settings.min_calls
                    && f64::from(failures) >= self.settings.failure_ratio * f64::from(calls)
                {
                    self.trip(now)
                } else {
                    Breaker::Closed {
                        window_start,
                        calls,
                        failures,
                    }
                }
            }
            // A call that started before the breaker opened: nothing to learn.
            other => other,
        };
        *breaker = next;
        self.closed
            .store(matches!(next, Breaker::Closed { .. }), Ordering::Release);
    }

    fn trip(&self, now: Instant) -> Breaker {
        self.counters.trips.fetch_add(1, Ordering::Relaxed);
        let until = now + self.settings.cool_down;
        self.refused_until.store(
            until.duration_since(self.created).as_nanos() as u64,
            Ordering::Release,
        );
        tracing::warn!(
            filter = &*self.filter,
            cool_down_ms = self.settings.cool_down.as_millis() as u64,
            "circuit breaker opened: the filter keeps failing; its on_error applies without running it until a probe call succeeds"
        );
        Breaker::Open { until }
    }

    pub(crate) fn stats(&self) -> GateStats {
        let breaker = match *self.breaker.lock().expect("breaker lock") {
            Breaker::Closed { .. } => BreakerState::Closed,
            Breaker::Open { .. } => BreakerState::Open,
            Breaker::HalfOpen => BreakerState::HalfOpen,
        };
        GateStats {
            breaker,
            in_flight: self.in_flight.load(Ordering::Relaxed),
            calls: self.counters.calls.load(Ordering::Relaxed),
            failures: self.counters.failures.load(Ordering::Relaxed),
            refused_open: self.counters.refused_open.load(Ordering::Relaxed),
            refused_overloaded: self.counters.refused_overloaded.load(Ordering::Relaxed),
            trips: self.counters.trips.load(Ordering::Relaxed),
            left_fast_path: self.left_fast_path.load(Ordering::Relaxed),
        }
    }
}

fn closed(now: Instant) -> Breaker {
    Breaker::Closed {
        window_start: now,
        calls: 0,
        failures: 0,
    }
}

impl<G: Deref<Target = CallGate>> Permit<G> {
    /// Records the outcome of the call that ended at `now`; `failed` for a
    /// failure of the filter itself.
    pub(crate) fn finish(mut self, failed: bool, now: Instant) {
        self.finished = true;
        self.gate.record(self.probe, failed, now);
    }
}

impl<G: Deref<Target = CallGate>> Drop for Permit<G> {
    fn drop(&mut self) {
        self.gate.in_flight.fetch_sub(1, Ordering::AcqRel);
        if !self.finished && self.probe {
            self.gate.reopen_now();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn settings() -> CircuitBreaker {
        CircuitBreaker {
            enabled: true,
            failure_ratio: 0.5,
            min_calls: 4,
            window: Duration::from_secs(10),
            cool_down: Duration::from_secs(5),
        }
    }

    fn call(gate: &CallGate, now: Instant, failed: bool) -> Result<(), CallError> {
        let probe = gate.admit(now)?;
        gate.in_flight.fetch_add(1, Ordering::AcqRel);
        let permit = Permit {
            gate,
            probe,
            finished: true,
        };
        gate.record(probe, failed, now);
        drop(permit);
        Ok(())
    }

    #[test]
    fn trips_on_a_failure_ratio_then_probes_after_the_cool_down() {
        let gate = CallGate::new("t".into(), settings(), 10);
        let t0 = Instant::now();
        // Three calls, all failed: under min_calls, still closed.
        for _ in 0..3 {
            call(&gate, t0, true).unwrap();
        }
        assert_eq!(gate.stats().breaker, BreakerState::Closed);
        call(&gate, t0, true).unwrap();
        assert_eq!(gate.stats().breaker, BreakerState::Open);
        assert!(matches!(
            call(&gate, t0, false),
            Err(CallError::CircuitOpen)
        ));
        // Calls through the gate see the trip too (not only `admit`).
        assert!(matches!(gate.enter(t0), Err(CallError::CircuitOpen)));
        let later = t0 + Duration::from_secs(6);
        // The probe fails: open again for another cool-down.
        call(&gate, later, true).unwrap();
        assert_eq!(gate.stats().breaker, BreakerState::Open);
        assert!(call(&gate, later + Duration::from_secs(1), false).is_err());
        // The next probe succeeds: closed, counting from zero.
        call(&gate, later + Duration::from_secs(6), false).unwrap();
        assert_eq!(gate.stats().breaker, BreakerState::Closed);
        assert_eq!(gate.stats().trips, 2);
    }

    #[test]
    fn a_low_failure_ratio_never_trips() {
        let gate = CallGate::new("t".into(), settings(), 10);
        let t0 = Instant::now();
        for i in 0..1000 {
            // 1 call in 100 fails.
            call(&gate, t0, i % 100 == 0).unwrap();
        }
        assert_eq!(gate.stats().breaker, BreakerState::Closed);
        assert_eq!(gate.stats().failures, 10);
    }

    #[test]
    fn failures_in_an_old_window_are_forgotten() {
        let gate = CallGate::new("t".into(), settings(), 10);
        let t0 = Instant::now();
        for _ in 0..3 {
            call(&gate, t0, true).unwrap();
        }
        let next_window = t0 + Duration::from_secs(11);
        call(&gate, next_window, true).unwrap();
        assert_eq!(gate.stats().breaker, BreakerState::Closed);
    }

    #[test]
    fn concurrency_is_bounded_and_a_disabled_breaker_never_opens() {
        let gate = CallGate::new(
            "t".into(),
            CircuitBreaker {
                enabled: false,
                ..settings()
            },
            2,
        );
        let now = Instant::now();
        let a = gate.enter(now).unwrap();
        let b = gate.enter(now).unwrap();
        assert!(matches!(gate.enter(now), Err(CallError::Overloaded(2))));
        a.finish(true, now);
        let c = gate.enter(now).unwrap();
        b.finish(true, now);
        c.finish(true, now);
        for _ in 0..20 {
            gate.enter(now).unwrap().finish(true, now);
        }
        assert_eq!(gate.stats().breaker, BreakerState::Closed);
        assert_eq!(gate.stats().in_flight, 0);
    }

    #[test]
    fn an_abandoned_probe_lets_the_next_call_probe() {
        let gate = CallGate::new("t".into(), settings(), 10);
        *gate.breaker.lock().unwrap() = Breaker::Open {
            until: Instant::now(),
        };
        gate.closed.store(false, Ordering::Release);
        let now = Instant::now();
        let probe = gate.enter(now).unwrap();
        assert!(matches!(gate.enter(now), Err(CallError::CircuitOpen)));
        drop(probe);
        let later = Instant::now();
        gate.enter(later).unwrap().finish(false, later);
        assert_eq!(gate.stats().breaker, BreakerState::Closed);
    }
}
