//! The request body on its way into a handler: a bounded channel, so the
//! proxy reads the client's body only as fast as the handler consumes it
//! (back-pressure: a large upload holds a few chunks in memory, never the
//! whole body).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::Frame;
use tokio::sync::mpsc;
use wasmtime_wasi_http::Error;

/// Chunks read ahead of the handler.
const CHUNKS_AHEAD: usize = 4;

/// A request body and the sender the proxy feeds it through.
pub fn request_body() -> (RequestBodySender, RequestBody) {
    let (tx, rx) = mpsc::channel(CHUNKS_AHEAD);
    (RequestBodySender { tx }, RequestBody { rx })
}

/// The body a handler reads: the chunks the proxy sent, then its end.
pub struct RequestBody {
    rx: mpsc::Receiver<Result<Frame<Bytes>, Error>>,
}

impl RequestBody {
    /// A body with nothing in it (a GET).
    pub fn empty() -> Self {
        let (_, body) = request_body();
        body
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Error>>> {
        self.rx.poll_recv(cx)
    }
}

/// The proxy's end of a [`RequestBody`]. Dropped, the body ends.
pub struct RequestBodySender {
    tx: mpsc::Sender<Result<Frame<Bytes>, Error>>,
}

/// Room for one chunk, reserved before it is read from the client.
pub struct BodySlot<'a>(mpsc::Permit<'a, Result<Frame<Bytes>, Error>>);

impl RequestBodySender {
    /// Waits for room for one more chunk; `None` once the handler dropped
    /// its body (it will not read more). Cancel-safe.
    pub async fn reserve(&self) -> Option<BodySlot<'_>> {
        self.tx.reserve().await.ok().map(BodySlot)
    }

    /// Ends the body with an error the handler sees on its next read (the
    /// client went away, or sent more than the limit allows).
    pub fn abort(self, too_large: Option<u64>) {
        let error = match too_large {
            Some(limit) => Error::HttpRequestBodySize(Some(limit)),
            None => Error::ConnectionTerminated,
        };
        let _ = self.tx.try_send(Err(error));
    }
}

impl BodySlot<'_> {
    pub fn send(self, chunk: Bytes) {
        self.0.send(Ok(Frame::data(chunk)));
    }

    pub fn send_trailers(self, trailers: http::HeaderMap) {
        self.0.send(Ok(Frame::trailers(trailers)));
    }
}
