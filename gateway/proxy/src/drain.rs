//! Draining: once the process is handing its sockets to a new one (graceful
//! upgrade) or shutting down, every HTTP/1.1 response says `Connection:
//! close`. Clients then open their next request on a new connection, which
//! the new process accepts, instead of reusing one that this process will
//! drop when its shutdown starts (a request sent on it at that moment would
//! fail).

use std::sync::atomic::{AtomicBool, Ordering};

/// Process-wide: the sockets, and so the drain, are the process's.
static DRAINING: AtomicBool = AtomicBool::new(false);

/// Called when a graceful upgrade or shutdown begins.
pub fn start() {
    if !DRAINING.swap(true, Ordering::Relaxed) {
        tracing::info!("draining: responses close their connections");
    }
}

pub fn is_draining() -> bool {
    DRAINING.load(Ordering::Relaxed)
}
