//! One request through a handler. The guest's `handle` runs as a future
//! the request's task polls, together with the bodies: the handler sends
//! its response head through the response outparam, then writes its body
//! into a bounded channel that the proxy drains as it writes to the client,
//! so a large response is never held whole and a slow client slows the
//! handler down rather than filling memory.
//!
//! Two clocks bound it: the handler must answer (send its head) within
//! `limits.deadline` (else `Deadline`, which the proxy answers with 504),
//! and the whole exchange must end within `limits.stream_timeout`, which
//! is also the store's epoch deadline, so a guest that computes forever
//! traps even while nobody polls its body.

use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use futures::FutureExt;
use http_body_util::BodyExt;
use tokio::sync::oneshot;
use wasmtime::Store;
use wasmtime_wasi_http::WasiHttpView;
use wasmtime_wasi_http::p2::bindings::Proxy;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;

use super::LoadedHandler;
use super::body::RequestBody;
use crate::error::CallError;
use crate::gate::{CallGate, Permit};
use crate::host::HostState;
use crate::store::panicked;

type Guest = Pin<Box<dyn Future<Output = Result<(), CallError>> + Send>>;
type Head = oneshot::Receiver<Result<http::Response<HyperOutgoingBody>, ErrorCode>>;

/// A piece of the handler's response body.
#[derive(Debug)]
pub enum Chunk {
    Data(Bytes),
    Trailers(http::HeaderMap),
}

/// A request being served by a handler: its guest, running, and the
/// response it sends. Dropped before the end (the client went away, a
/// deadline passed), the guest is dropped with its instance.
pub struct HandlerCall {
    permit: Option<Permit<Arc<CallGate>>>,
    /// `None` once `handle` returned.
    guest: Option<Guest>,
    head: Option<Head>,
    body: Option<HyperOutgoingBody>,
    /// The guest failed after sending its head: what it wrote before is
    /// still sent, then the response is cut with this.
    failed: Option<CallError>,
    answer_by: Instant,
    ends: Instant,
}

impl HandlerCall {
    pub(super) fn start(
        handler: Arc<LoadedHandler>,
        permit: Permit<Arc<CallGate>>,
        mut store: Store<HostState>,
        proxy: Proxy,
        request: http::Request<RequestBody>,
        https: bool,
        started: Instant,
    ) -> Self {
        let (tx, head) = oneshot::channel();
        let limits = &handler.spec.limits;
        let (answer_by, ends) = (started + limits.deadline, started + limits.stream_timeout);
        let guest = async move {
            let _ticking = handler.clock.enter();
            let scheme = if https { Scheme::Https } else { Scheme::Http };
            let run = async {
                let mut http = store.data_mut().http();
                let request = http.new_incoming_request(scheme, request)?;
                let out = http.new_response_outparam(tx)?;
                proxy
                    .wasi_http_incoming_handler()
                    .call_handle(&mut store, request, out)
                    .await
            };
            AssertUnwindSafe(run)
                .catch_unwind()
                .await
                .unwrap_or_else(panicked)
                .map_err(CallError::from_wasmtime)
        };
        HandlerCall {
            permit: Some(permit),
            guest: Some(Box::pin(guest)),
            head: Some(head),
            body: None,
            failed: None,
            answer_by,
            ends,
        }
    }

    /// The handler's response head, once it sent it. Cancel-safe: the proxy
    /// polls it beside the request body it feeds the handler.
    pub async fn response(&mut self) -> Result<http::response::Parts, CallError> {
        let Some(head) = self.head.as_mut() else {
            return Err(CallError::InvalidResult(
                "the response was already taken".into(),
            ));
        };
        let answer_by = tokio::time::sleep_until(self.answer_by.into());
        tokio::pin!(answer_by);
        loop {
            tokio::select! {
                biased;
                sent = &mut *head => {
                    self.head = None;
                    return match sent {
                        Ok(Ok(response)) => {
                            let (parts, body) = response.into_parts();
                            self.body = Some(body);
                            Ok(parts)
                        }
                        Ok(Err(code)) => Err(self.fail(CallError::InvalidResult(format!(
                            "the handler answered with an error instead of a response: {code:?}"
                        )))),
                        // The outparam was dropped unset: `handle` returned
                        // (or trapped) without answering.
                        Err(_) => {
                            // Its outcome says why, if it ends by the deadline.
                            let outcome = match self.guest.take() {
                                Some(guest) => tokio::time::timeout_at(self.answer_by.into(), guest)
                                    .await
                                    .unwrap_or(Ok(())),
                                None => Ok(()),
                            };
                            let err = outcome.err().unwrap_or_else(|| {
                                CallError::InvalidResult("the handler returned without a response".into())
                            });
                            Err(self.fail(err))
                        }
                    };
                }
                outcome = running(&mut self.guest) => {
                    self.guest = None;
                    if let Err(err) = outcome {
                        // It may have answered before it failed.
                        if let Ok(Ok(response)) = head.try_recv() {
                            self.head = None;
                            let (parts, body) = response.into_parts();
                            self.body = Some(body);
                            self.failed = Some(err);
                            return Ok(parts);
                        }
                        return Err(self.fail(err));
                    }
                    // Returned: its answer, if any, is in the channel.
                }
                () = &mut answer_by => return Err(self.fail(CallError::Deadline)),
            }
        }
    }

    /// The next piece of the response body; `Ok(None)` at its end. Drives
    /// the guest meanwhile. Cancel-safe.
    pub async fn next_chunk(&mut self) -> Result<Option<Chunk>, CallError> {
        let ends = tokio::time::sleep_until(self.ends.into());
        tokio::pin!(ends);
        loop {
            let Some(body) = self.body.as_mut() else {
                return Ok(None);
            };
            tokio::select! {
                biased;
                frame = body.frame() => {
                    let err = match frame {
                        None => {
                            self.body = None;
                            return match self.failed.take() {
                                Some(err) => Err(self.fail(err)),
                                None => Ok(None),
                            };
                        }
                        Some(Ok(frame)) => match frame.into_data() {
                            Ok(data) => return Ok(Some(Chunk::Data(data))),
                            Err(frame) => match frame.into_trailers() {
                                Ok(trailers) => return Ok(Some(Chunk::Trailers(trailers))),
                                Err(_) => continue,
                            },
                        },
                        Some(Err(err)) => err,
                    };
                    // The body broke: most often the guest trapped while
                    // writing it, which says more than the body's error.
                    self.body = None;
                    let outcome = match (self.failed.take(), self.guest.take()) {
                        (Some(failed), _) => Err(failed),
                        (None, Some(guest)) => tokio::time::timeout_at(self.ends.into(), guest)
                            .await
                            .unwrap_or(Err(CallError::Deadline)),
                        (None, None) => Ok(()),
                    };
                    let err = outcome.err().unwrap_or_else(|| {
                        CallError::InvalidResult(format!("the response body failed: {err}"))
                    });
                    return Err(self.fail(err));
                }
                outcome = running(&mut self.guest) => {
                    self.guest = None;
                    // What it wrote before it failed is still sent; the
                    // body's end then reports the failure.
                    if let Err(err) = outcome {
                        self.failed = Some(err);
                    }
                }
                () = &mut ends => {
                    self.body = None;
                    return Err(self.fail(CallError::Deadline));
                }
            }
        }
    }

    /// The exchange ended well: counted as a success by the gate. The guest,
    /// if `handle` has not returned yet, is dropped with its instance.
    pub fn finish(mut self) {
        if let Some(permit) = self.permit.take() {
            permit.finish(false, Instant::now());
        }
    }

    fn fail(&mut self, err: CallError) -> CallError {
        if let Some(permit) = self.permit.take() {
            permit.finish(err.is_filter_failure(), Instant::now());
        }
        self.guest = None;
        err
    }
}

/// The guest's outcome once `handle` returns; pending forever after it did.
async fn running(guest: &mut Option<Guest>) -> Result<(), CallError> {
    match guest {
        Some(guest) => guest.await,
        None => std::future::pending().await,
    }
}
