//! The process's serving state, read on the request path and changed by
//! `control`: whether it is draining, and how many requests it is serving.
//! Process-wide statics, because the sockets and the requests on them
//! belong to the process, not to a config generation.
//!
//! Draining: once the process is handing its sockets to a new one (graceful
//! upgrade) or shutting down, every HTTP/1.1 response says `Connection:
//! close`. Clients then open their next request on a new connection, which
//! the new process accepts, instead of reusing one that this process will
//! drop when its shutdown starts (a request sent on it at that moment would
//! fail).

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static DRAINING: AtomicBool = AtomicBool::new(false);
/// Requests between `new_ctx` and the end of their logging phase.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);
/// Requests ever started: one that came and went between two looks still
/// breaks a quiet spell (control/shutdown.rs).
static STARTED: AtomicUsize = AtomicUsize::new(0);

/// Called when a graceful upgrade or shutdown begins.
pub fn start_draining() {
    if !DRAINING.swap(true, Ordering::Relaxed) {
        tracing::info!("draining: responses close their connections");
    }
}

pub fn is_draining() -> bool {
    DRAINING.load(Ordering::Relaxed)
}

/// Held by each request's state: counts it as in flight until dropped.
pub struct RequestGuard(());

impl RequestGuard {
    #[allow(clippy::new_without_default)] // Creating one counts a request.
    pub fn new() -> Self {
        IN_FLIGHT.fetch_add(1, Ordering::Relaxed);
        STARTED.fetch_add(1, Ordering::Relaxed);
        RequestGuard(())
    }
}

impl Drop for RequestGuard {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::Release);
    }
}

pub fn in_flight() -> usize {
    IN_FLIGHT.load(Ordering::Acquire)
}

pub fn started() -> usize {
    STARTED.load(Ordering::Acquire)
}
