//! Streams the request body back as the response body, chunk by chunk (at
//! most 64 KiB held at a time, whatever the body's size), with the request's
//! `content-type`, `x-echo-method` and `x-echo-path` (path and query). The
//! request's trailers, if any, become the response's.

use std::io::Write;

use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{
    Fields, IncomingBody, IncomingRequest, Method, OutgoingBody, OutgoingResponse, ResponseOutparam,
};
use wasip2::io::streams::StreamError;

const CHUNK: u64 = 64 * 1024;

struct Echo;

impl Guest for Echo {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let method = match request.method() {
            Method::Get => "GET".to_owned(),
            Method::Head => "HEAD".to_owned(),
            Method::Post => "POST".to_owned(),
            Method::Put => "PUT".to_owned(),
            Method::Delete => "DELETE".to_owned(),
            Method::Connect => "CONNECT".to_owned(),
            Method::Options => "OPTIONS".to_owned(),
            Method::Trace => "TRACE".to_owned(),
            Method::Patch => "PATCH".to_owned(),
            Method::Other(other) => other,
        };
        let headers = Fields::new();
        for value in request.headers().get("content-type") {
            headers
                .append("content-type", &value)
                .expect("valid header");
        }
        headers
            .append("x-echo-method", method.as_bytes())
            .expect("valid header");
        let path = request.path_with_query().unwrap_or_default();
        headers
            .append("x-echo-path", path.as_bytes())
            .expect("valid header");

        let response = OutgoingResponse::new(headers);
        let out_body = response.body().expect("the body is taken once");
        ResponseOutparam::set(response_out, Ok(response));

        let in_body = request.consume().expect("the body is taken once");
        let input = in_body.stream().expect("the stream is taken once");
        let mut output = out_body.write().expect("the stream is taken once");
        loop {
            match input.blocking_read(CHUNK) {
                // `write_all` waits for the stream's `check-write` budget
                // before each write (back-pressure from a slow client), then
                // the flush waits until the chunk is out.
                Ok(chunk) => {
                    if output
                        .write_all(&chunk)
                        .and_then(|()| Write::flush(&mut output))
                        .is_err()
                    {
                        return; // the client went away
                    }
                }
                Err(StreamError::Closed) => break,
                // The client broke off: it sees a truncated body, if anything.
                Err(StreamError::LastOperationFailed(_)) => return,
            }
        }
        drop(input);
        drop(output);
        let trailers = IncomingBody::finish(in_body);
        trailers.subscribe().block();
        // Passed on when there are any (some hosts give empty trailers for
        // none, and not all can send trailers).
        let trailers = match trailers.get() {
            Some(Ok(Ok(Some(trailers)))) if !trailers.entries().is_empty() => Some(trailers),
            _ => None,
        };
        // An error here means the client is gone: nothing left to do.
        let _ = OutgoingBody::finish(out_body, trailers);
    }
}

wasip2::http::proxy::export!(Echo);
