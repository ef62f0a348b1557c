//! Running an async filter call from a synchronous Pingora hook.
//!
//! Pingora calls `response_body_filter` synchronously, so the
//! `on-response-body` phase cannot be awaited. It is polled once in place:
//! a call that finishes without waiting (the usual case: a body transform
//! that computes and returns) costs nothing more. A call that has to wait,
//! on I/O (key-value, outbound HTTP, files) or because it ran past an epoch
//! tick and yielded, is finished under `tokio::task::block_in_place`: the
//! runtime hands this worker's other tasks to another thread first, so no
//! other request waits behind it. The call deadline bounds how long it runs.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use tokio::runtime::{Handle, RuntimeFlavor};

pub fn run<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
        return output;
    }
    match Handle::try_current() {
        Ok(handle) if handle.runtime_flavor() == RuntimeFlavor::MultiThread => {
            tokio::task::block_in_place(|| handle.block_on(future))
        }
        // A single-threaded runtime has no other worker to hand tasks to;
        // finish here (still bounded by the call deadline).
        _ => futures::executor::block_on(future),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ready_future_runs_in_place() {
        assert_eq!(run(async { 7 }), 7);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiting_future_finishes_without_stalling_the_worker() {
        // The inline call waits on a timer; a task spawned before it must
        // still run to completion meanwhile (it is handed to another thread).
        let (tx, rx) = tokio::sync::oneshot::channel();
        let other = tokio::spawn(async move {
            tx.send(()).ok();
        });
        let waited = run(async {
            rx.await.ok();
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            "done"
        });
        assert_eq!(waited, "done");
        other.await.unwrap();
    }
}
