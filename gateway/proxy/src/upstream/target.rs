//! One upstream target and what weir knows about its health and load.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use weir_config::PassiveHealth;

#[derive(Debug)]
pub struct TargetState {
    /// As written in the config, e.g. `billing.internal:8080`.
    pub address: String,
    /// Resolved once when the pool is built, never on the request path.
    pub socket_addr: SocketAddr,
    pub weight: u32,
    /// Verdict of active health checks; targets start healthy.
    healthy: AtomicBool,
    /// Consecutive proxy failures, for passive ejection.
    passive_failures: AtomicU32,
    /// Milliseconds since `epoch` until which the target is ejected (0: not ejected).
    ejected_until_ms: AtomicU64,
    in_flight: AtomicUsize,
    epoch: Instant,
}

impl TargetState {
    pub fn new(address: String, socket_addr: SocketAddr, weight: u32) -> Self {
        TargetState {
            address,
            socket_addr,
            weight,
            healthy: AtomicBool::new(true),
            passive_failures: AtomicU32::new(0),
            ejected_until_ms: AtomicU64::new(0),
            in_flight: AtomicUsize::new(0),
            epoch: Instant::now(),
        }
    }

    /// Healthy by active checks and not passively ejected.
    pub fn is_available(&self) -> bool {
        if !self.healthy.load(Ordering::Relaxed) {
            return false;
        }
        let until = self.ejected_until_ms.load(Ordering::Relaxed);
        until == 0 || self.now_ms() >= until
    }

    pub fn is_healthy(&self) -> bool {
        self.healthy.load(Ordering::Relaxed)
    }

    /// Returns true when the verdict changed.
    pub fn set_healthy(&self, healthy: bool) -> bool {
        self.healthy.swap(healthy, Ordering::Relaxed) != healthy
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// A request to this target failed (connect error, timeout, 5xx).
    pub fn record_failure(&self, passive: Option<&PassiveHealth>) {
        let Some(passive) = passive else { return };
        let failures = self.passive_failures.fetch_add(1, Ordering::Relaxed) + 1;
        if failures >= passive.max_failures {
            self.passive_failures.store(0, Ordering::Relaxed);
            let until = self.now_ms() + duration_ms(passive.ejection_time);
            self.ejected_until_ms.store(until.max(1), Ordering::Relaxed);
            tracing::warn!(target_addr = %self.address, failures, "target ejected after consecutive failures");
        }
    }

    pub fn record_success(&self) {
        if self.passive_failures.load(Ordering::Relaxed) != 0 {
            self.passive_failures.store(0, Ordering::Relaxed);
        }
    }

    fn now_ms(&self) -> u64 {
        duration_ms(self.epoch.elapsed())
    }
}

fn duration_ms(d: Duration) -> u64 {
    d.as_millis().try_into().unwrap_or(u64::MAX)
}

/// Counts a request in flight to a target for as long as it lives
/// (least-connections and power-of-two-choices read the count).
#[derive(Debug)]
pub struct InFlight(Arc<TargetState>);

impl InFlight {
    pub fn start(target: Arc<TargetState>) -> Self {
        target.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(target)
    }

    pub fn target(&self) -> &Arc<TargetState> {
        &self.0
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}
