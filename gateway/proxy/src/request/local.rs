//! The one place where weir answers a request itself: its own errors, a
//! route's direct response, a filter's answer and the 503 of a filter that
//! failed closed. Every such response goes through the response-headers
//! phase of the filters the request reached, then to the client.
//!
//! A Pingora hook that can write a response (`request_filter`,
//! `fail_to_proxy`) sends it with [`send`]; one that cannot (the body hooks,
//! `upstream_peer`) hands it to [`defer`], which parks it in the request's
//! context and returns the error that makes Pingora call `fail_to_proxy`.

use bytes::Bytes;
use pingora::proxy::Session;
use pingora::{Error, ErrorType};
use weir_wasm::{CallError, FilterResponse};

use super::context::RequestCtx;
use super::local_response::LocalResponse;
use crate::chain::{self, FilterFailure, PhaseOutcome};

/// The custom error that means "ctx.pending holds the response to send".
const LOCAL_RESPONSE: ErrorType = ErrorType::Custom("weir local response");

/// Why weir answers a request itself.
pub(super) enum Answer<'a> {
    /// One of weir's own errors, as a small JSON body.
    Error(u16, &'static str),
    /// A filter answered with its own response.
    Filter(FilterResponse),
    /// A fail-closed filter failed: 503, and the failure in the access log.
    Failed(FilterFailure),
    /// The route answers by itself.
    Direct(&'a weir_config::DirectResponse),
    /// The route's handler failed before it answered, or was not run.
    Handler { name: &'a str, error: CallError },
}

/// The response for `answer`; a failure is recorded for the access log.
fn response_for(answer: Answer<'_>, ctx: &mut RequestCtx) -> LocalResponse {
    match answer {
        Answer::Error(status, message) => {
            chain::error_response(status, message, &ctx.request_id).into()
        }
        Answer::Filter(response) => response.into(),
        Answer::Failed(failure) => {
            let response = failure.response(&ctx.request_id).into();
            ctx.error = Some(failure.to_string());
            response
        }
        Answer::Direct(direct) => LocalResponse {
            status: direct.status,
            headers: direct
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), v.as_bytes().to_vec()))
                .collect(),
            body: Bytes::from(direct.body.clone()),
        },
        Answer::Handler { name, error } => {
            let response = handler_failure(name, &error, &ctx.request_id);
            ctx.error = Some(format!("handler {name:?} {error}"));
            response
        }
    }
}

/// 504 for a handler that did not answer in time, 503 (and `Retry-After`)
/// for one weir did not run (its limit of requests in flight, its open
/// circuit breaker, no instance slot), 500 for one that failed.
fn handler_failure(name: &str, error: &CallError, request_id: &str) -> LocalResponse {
    let (status, message) = match error {
        CallError::Deadline => (504, format!("handler {name:?} did not answer in time")),
        CallError::Overloaded(_) | CallError::CircuitOpen | CallError::NoInstanceSlot { .. } => {
            (503, format!("handler {name:?} is not taking requests now"))
        }
        _ => (500, format!("handler {name:?} failed")),
    };
    let mut response = chain::error_response(status, &message, request_id);
    if status == 503 {
        response.headers.push(("retry-after".into(), b"1".to_vec()));
    }
    response.into()
}

/// Answers the request now. Returns `Ok(true)`: the request is done.
pub(super) async fn send(
    session: &mut Session,
    ctx: &mut RequestCtx,
    answer: Answer<'_>,
) -> pingora::Result<bool> {
    let response = response_for(answer, ctx);
    write(session, ctx, response).await
}

/// Parks the answer for `fail_to_proxy`, from a hook that cannot write a
/// response; the error returned ends the request there.
pub(super) fn defer(ctx: &mut RequestCtx, answer: Answer<'_>) -> Box<Error> {
    ctx.pending = Some(response_for(answer, ctx));
    Error::new(LOCAL_RESPONSE)
}

/// Writes a response weir made, through the response-headers phase of the
/// filters the request reached.
pub(super) async fn write(
    session: &mut Session,
    ctx: &mut RequestCtx,
    response: LocalResponse,
) -> pingora::Result<bool> {
    let mut header = response.header()?;
    let mut body = response.into_body();
    if let Some(chain) = ctx.chain.as_mut() {
        let outcome = chain.on_response(&mut header).await;
        if let Some(replacement) = replacement(outcome, &ctx.request_id) {
            header = replacement.header()?;
            body = replacement.into_body();
        }
    }
    ctx.status = header.status.as_u16();
    ctx.response_body_bytes += body.len() as u64;
    header.insert_header("x-request-id", ctx.request_id.as_str())?;
    let head_only = session.req_header().method == http::Method::HEAD;
    let end = body.is_empty() || head_only;
    session.write_response_header(Box::new(header), end).await?;
    if !end {
        session.write_response_body(Some(body), true).await?;
    }
    Ok(true)
}

/// The response that replaces the one the response-headers phase saw: a
/// filter's answer, or weir's 503 for a filter that failed closed. The
/// failure is not the access log's error: the request itself was served.
pub(super) fn replacement(outcome: PhaseOutcome, request_id: &str) -> Option<LocalResponse> {
    match outcome {
        Ok(None) => None,
        Ok(Some(response)) => Some(response.into()),
        Err(failure) => Some(failure.response(request_id).into()),
    }
}

/// What `fail_to_proxy` sends: the parked answer, or the response for the
/// proxy error `e` (none when the client is gone).
pub(super) fn for_error(ctx: &mut RequestCtx, e: &Error) -> Option<LocalResponse> {
    if let Some(pending) = ctx.pending.take() {
        return Some(pending);
    }
    let (status, message) = error_status(e);
    ctx.error.get_or_insert_with(|| e.to_string());
    (status > 0).then(|| response_for(Answer::Error(status, message), ctx))
}

/// The status and message a client gets for a proxy error.
fn error_status(e: &Error) -> (u16, &'static str) {
    use ErrorType::*;
    match e.etype() {
        HTTPStatus(code) => (*code, status_message(*code)),
        ConnectTimedout | ConnectRefused | ConnectNoRoute | ConnectError | TLSHandshakeFailure
        | TLSHandshakeTimedout | InvalidCert | HandshakeError | ConnectProxyFailure => {
            (502, "upstream unreachable")
        }
        ReadTimedout | WriteTimedout => (504, "upstream timed out"),
        _ => match e.esource() {
            pingora::ErrorSource::Upstream => (502, "upstream failed"),
            pingora::ErrorSource::Downstream => match e.etype() {
                ReadError | WriteError | ConnectionClosed => (0, ""),
                _ => (400, "malformed request"),
            },
            _ => (500, "internal error"),
        },
    }
}

fn status_message(code: u16) -> &'static str {
    match code {
        400 => "malformed request",
        413 => "request body too large",
        431 => "request headers too large",
        502 => "upstream failed",
        504 => "upstream timed out",
        _ => "request failed",
    }
}
