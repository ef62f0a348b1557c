//! The first steps of every request, before any route is looked for: who
//! sent it, its id and trace, and whether it is a request weir accepts at
//! all (strict HTTP/1.1, the listener's size limits).

use pingora::http::RequestHeader;
use pingora::proxy::Session;

use super::context::RequestCtx;
use super::forwarded;
use super::http_strict;
use super::local::Answer;
use crate::observe::trace_context::TraceContext;
use crate::snapshot::Snapshot;

const X_REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-request-id");

/// Identifies the request (peer, client, id, trace) and checks it against
/// the listener; `Some` is the answer to a request refused here.
pub(super) fn admit(
    session: &mut Session,
    ctx: &mut RequestCtx,
    snapshot: &Snapshot,
) -> pingora::Result<Option<Answer<'static>>> {
    ctx.peer_ip = session
        .client_addr()
        .and_then(|a| a.as_inet())
        .map(|a| a.ip());
    ctx.client_ip = ctx.peer_ip;
    if crate::lifecycle::is_draining() {
        // HTTP/1.1: answer with `Connection: close` (see lifecycle.rs).
        session.set_keepalive(None);
    }
    ctx.request_id = request_id(session.req_header());
    session
        .req_header_mut()
        .insert_header(X_REQUEST_ID, ctx.request_id.as_str())?;
    ctx.trace = Some(TraceContext::from_headers(
        &session.req_header().headers,
        crate::observe::otel::sample_new,
    ));
    let Some(listener) = ctx.listener_in(snapshot) else {
        // The listener was removed by a reload; it keeps serving with no
        // routes until the restart that the reload asked for.
        return Ok(Some(Answer::Error(404, "no route")));
    };
    ctx.client_ip = forwarded::client_address(
        ctx.peer_ip,
        &session.req_header().headers,
        &listener.trusted_proxies,
    );
    if let Err(refusal) = http_strict::enforce(session, &listener.limits) {
        // What follows in the connection cannot be trusted to be a request.
        session.set_keepalive(None);
        return Ok(Some(Answer::Error(refusal.status, refusal.reason)));
    }
    if let (Some(max), Some(len)) = (
        listener.limits.max_body_bytes,
        content_length(session.req_header()),
    ) && len > max
    {
        return Ok(Some(Answer::Error(413, "request body too large")));
    }
    Ok(None)
}

/// Incoming `X-Request-Id` if it is sane, else a new UUID.
fn request_id(req: &RequestHeader) -> String {
    req.headers
        .get(X_REQUEST_ID)
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty() && v.len() <= 128 && v.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .unwrap_or_else(|| {
            // Encoded into a buffer: no `fmt` on every request.
            let mut text = uuid::Uuid::encode_buffer();
            uuid::Uuid::new_v4()
                .hyphenated()
                .encode_lower(&mut text)
                .to_owned()
        })
}

fn content_length(req: &RequestHeader) -> Option<u64> {
    req.headers
        .get(http::header::CONTENT_LENGTH)?
        .to_str()
        .ok()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_id_is_kept_only_when_sane() {
        let mut req = RequestHeader::build("GET", b"/", None).unwrap();
        req.insert_header("x-request-id", "abc-123").unwrap();
        assert_eq!(request_id(&req), "abc-123");
        req.insert_header("x-request-id", "has space").unwrap();
        let generated = request_id(&req);
        assert_ne!(generated, "has space");
        let uuid = uuid::Uuid::parse_str(&generated).expect("a UUID");
        assert_eq!(generated, uuid.to_string(), "lower-case and hyphenated");
    }
}
