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
//!
//! Without work stealing (`server.work_stealing: false`) each worker thread
//! runs its own single-threaded runtime, which has no other thread to hand
//! its tasks to, and whose timers and sockets only advance while that
//! thread is free. There the call runs in the context of weir's I/O
//! runtime, so the timers and I/O it starts (the call deadline among them)
//! advance on that runtime's thread while this one waits for it; the
//! thread's other requests wait too, at most until the call deadline.

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use tokio::runtime::{Handle, RuntimeFlavor};

/// `io`: weir's I/O runtime, for threads that cannot hand their tasks over.
pub fn run<F: Future>(io: Option<&Handle>, future: F) -> F::Output {
    // A guest's yield at an epoch tick must not wait for this thread's
    // runtime, which is blocked here (weir_wasm::PollingInPlace).
    let _in_place = weir_wasm::PollingInPlace::enter();
    let worker = Handle::try_current()
        .ok()
        .filter(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread);
    let _io = match (&worker, io) {
        (None, Some(io)) => Some(io.enter()),
        _ => None,
    };
    let mut future = pin!(future);
    let mut cx = Context::from_waker(Waker::noop());
    if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
        return output;
    }
    match worker {
        Some(handle) => tokio::task::block_in_place(|| handle.block_on(future)),
        None => futures::executor::block_on(future),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ready_future_runs_in_place() {
        assert_eq!(run(None, async { 7 }), 7);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_waiting_future_finishes_without_stalling_the_worker() {
        // The inline call waits on a timer; a task spawned before it must
        // still run to completion meanwhile (it is handed to another thread).
        let (tx, rx) = tokio::sync::oneshot::channel();
        let other = tokio::spawn(async move {
            tx.send(()).ok();
        });
        let waited = run(None, async {
            rx.await.ok();
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            "done"
        });
        assert_eq!(waited, "done");
        other.await.unwrap();
    }

    /// A single-threaded runtime's timers only advance while its thread is
    /// free: the call runs on weir's I/O runtime instead, or it would never
    /// finish.
    #[test]
    fn on_a_single_threaded_worker_a_waiting_future_runs_on_the_io_runtime() {
        let io = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap();
        let io_handle = io.handle().clone();
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let worker = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            let waited = worker.block_on(async {
                run(Some(&io_handle), async {
                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                    "done"
                })
            });
            done.send(waited).ok();
        });
        let waited = finished.recv_timeout(std::time::Duration::from_secs(10));
        assert_eq!(waited, Ok("done"));
    }
}
