//! Shutdown without waiting for nothing: Pingora sleeps the whole grace period
//! after SIGTERM (or after handing its sockets over in an upgrade) even when
//! no request is in flight. weir counts the requests it is serving and, once
//! the grace period has started and no request has been in flight for
//! `QUIET`, flushes the access log and exits; a request still in flight is
//! waited for, up to the grace period as before. The quiet spell lets clients
//! that still hold a connection (an HTTP/2 one that has just been sent GOAWAY,
//! a request whose header is on its way) move to the new process or finish.

use std::time::{Duration, Instant};

use crate::lifecycle::{in_flight, started};

/// How long nothing must be in flight before the process exits.
const QUIET: Duration = Duration::from_millis(300);

/// Called when Pingora's grace period starts (it no longer accepts): waits
/// until no request has been in flight for `QUIET`, then exits the process
/// with success. Returns if `grace` passes first; Pingora then ends the
/// process as before.
pub fn exit_when_idle(grace: Duration) {
    let deadline = Instant::now() + grace;
    let mut quiet_since = (Instant::now(), started());
    loop {
        let now = Instant::now();
        if now >= deadline {
            return;
        }
        let started = started();
        if in_flight() > 0 || started != quiet_since.1 {
            quiet_since = (now, started);
        } else if now - quiet_since.0 >= QUIET {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    tracing::info!("no request in flight: exiting before the grace period ends");
    crate::observe::access_log::flush(Duration::from_secs(1));
    std::process::exit(0);
}
