//! `GET /?url=U` fetches U with `wasi:http/outgoing-handler` and answers 200
//! with the upstream's status in `x-upstream-status` and its body, streamed
//! through 64 KiB at a time. When the host refuses or the request fails
//! (`HTTP-request-denied`, a connection error...), answers 502 with the
//! error code's debug text.

use std::io::Write;

use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingRequest, IncomingResponse, OutgoingBody, OutgoingRequest,
    OutgoingResponse, ResponseOutparam, Scheme,
};
use wasip2::io::streams::StreamError;

const CHUNK: u64 = 64 * 1024;

struct Fetch;

impl Guest for Fetch {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let query = path.split_once('?').map_or("", |(_, query)| query);
        let url = form_urlencoded::parse(query.as_bytes())
            .find_map(|(name, value)| (name == "url").then(|| value.into_owned()));
        let Some(url) = url else {
            return respond(response_out, 400, "expected ?url=http://host/path\n");
        };
        let upstream = match fetch(&url) {
            Ok(upstream) => upstream,
            Err(FetchError::Url) => return respond(response_out, 400, "not an http(s) URL\n"),
            Err(FetchError::Http(code)) => {
                return respond(response_out, 502, &format!("{code:?}\n"));
            }
        };

        let headers = Fields::new();
        for value in upstream.headers().get("content-type") {
            headers
                .append("content-type", &value)
                .expect("valid header");
        }
        headers
            .append(
                "x-upstream-status",
                upstream.status().to_string().as_bytes(),
            )
            .expect("valid header");
        let response = OutgoingResponse::new(headers);
        let out_body = response.body().expect("the body is taken once");
        ResponseOutparam::set(response_out, Ok(response));

        let in_body = upstream.consume().expect("the body is taken once");
        let input = in_body.stream().expect("the stream is taken once");
        let mut output = out_body.write().expect("the stream is taken once");
        loop {
            match input.blocking_read(CHUNK) {
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
                // The upstream broke off: the client sees a truncated body.
                Err(StreamError::LastOperationFailed(_)) => return,
            }
        }
        drop(output);
        OutgoingBody::finish(out_body, None).expect("body finished");
    }
}

enum FetchError {
    Url,
    Http(ErrorCode),
}

fn fetch(url: &str) -> Result<IncomingResponse, FetchError> {
    let (scheme, rest) = if let Some(rest) = url.strip_prefix("http://") {
        (Scheme::Http, rest)
    } else if let Some(rest) = url.strip_prefix("https://") {
        (Scheme::Https, rest)
    } else {
        return Err(FetchError::Url);
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) if rest[at..].starts_with('/') => (&rest[..at], rest[at..].to_owned()),
        Some(at) => (&rest[..at], format!("/{}", &rest[at..])),
        None => (rest, "/".to_owned()),
    };
    let request = OutgoingRequest::new(Fields::new());
    request
        .set_scheme(Some(&scheme))
        .map_err(|()| FetchError::Url)?;
    request
        .set_authority(Some(authority))
        .map_err(|()| FetchError::Url)?;
    request
        .set_path_with_query(Some(&path))
        .map_err(|()| FetchError::Url)?;
    let future = outgoing_handler::handle(request, None).map_err(FetchError::Http)?;
    future.subscribe().block();
    match future.get() {
        Some(Ok(Ok(response))) => Ok(response),
        Some(Ok(Err(code))) => Err(FetchError::Http(code)),
        Some(Err(())) | None => Err(FetchError::Http(ErrorCode::InternalError(Some(
            "the response was already taken".to_owned(),
        )))),
    }
}

fn respond(response_out: ResponseOutparam, status: u16, text: &str) {
    let headers = Fields::from_list(&[("content-type".to_owned(), b"text/plain".to_vec())])
        .expect("valid headers");
    let response = OutgoingResponse::new(headers);
    response.set_status_code(status).expect("valid status");
    let body = response.body().expect("the body is taken once");
    ResponseOutparam::set(response_out, Ok(response));
    let stream = body.write().expect("the stream is taken once");
    for piece in text.as_bytes().chunks(4096) {
        if stream.blocking_write_and_flush(piece).is_err() {
            return;
        }
    }
    drop(stream);
    let _ = OutgoingBody::finish(body, None);
}

wasip2::http::proxy::export!(Fetch);
