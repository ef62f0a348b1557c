//! A route answered by a `wasi:http` handler: the request, after its
//! request phases, goes to the handler instead of an upstream, and the
//! handler's response comes back through the response phases, as an
//! upstream's would.
//!
//! Both bodies stream: the client's body is read only as fast as the
//! handler takes it (a bounded channel, `weir_wasm::request_body`), and the
//! handler's body is written to the client chunk by chunk, so a slow
//! client slows the handler down. The request body passes the same steps
//! as on its way to an upstream (the listener's limit, request-body
//! filters), and the response body the same response-body filters.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;
use pingora::{Error, ErrorType};
use weir_wasm::{CallError, Chunk, LoadedHandler, RequestBodySender};

use super::context::{RequestCtx, ResponseBody};
use super::local::{self, Answer};
use super::{body, forward, forwarded};
use crate::observe::metrics::HandlerMetrics;

/// Serves the request with `handler`. Returns `Ok(true)`: the request is
/// done (answered, or cut after a failure mid-body).
pub(super) async fn serve(
    session: &mut Session,
    ctx: &mut RequestCtx,
    handler: &Arc<LoadedHandler>,
    metrics: &HandlerMetrics,
    tls: bool,
) -> pingora::Result<bool> {
    let (sender, body) = weir_wasm::request_body();
    let request = request_for(session, ctx, body, tls)?;
    let started = Instant::now();
    let mut call = match handler.call(request, tls).await {
        Ok(call) => call,
        Err(err) => return refuse(session, ctx, handler, metrics, err).await,
    };
    // Whatever of the body the handler leaves unread, Pingora drains
    // before it reuses the connection.
    let mut feeding = Some(sender);
    let head = loop {
        tokio::select! {
            head = call.response() => break head,
            fed = feed(session, ctx, &mut feeding), if feeding.is_some() => {
                if let Err(answer) = fed {
                    return local::write(session, ctx, answer).await;
                }
            }
        }
    };
    let parts = match head {
        Ok(parts) => parts,
        Err(err) => return refuse(session, ctx, handler, metrics, err).await,
    };
    metrics.answered(started.elapsed());
    ctx.upstream_time = Some(started.elapsed());
    let head_only = session.req_header().method == http::Method::HEAD;
    let mut header = response_header(&parts, ctx)?;
    if !head_only {
        frame(&mut header, session.req_header().version)?;
    }
    super::run_response_phases(session, ctx, &mut header).await?;
    ctx.status = header.status.as_u16();
    if let ResponseBody::Replaced(replacement) = &ctx.response_body {
        // A response filter answered instead: the handler's body is not sent.
        let replacement = replacement.clone();
        ctx.response_body_bytes += replacement.len() as u64;
        session
            .write_response_header(Box::new(header), head_only)
            .await?;
        if !head_only {
            session.write_response_body(Some(replacement), true).await?;
        }
        call.finish();
        return Ok(true);
    }
    session
        .write_response_header(Box::new(header), head_only)
        .await?;
    if head_only {
        call.finish();
        return Ok(true);
    }
    loop {
        tokio::select! {
            chunk = call.next_chunk() => match chunk {
                Ok(Some(Chunk::Data(data))) => write_chunk(session, ctx, Some(data), false).await?,
                Ok(Some(Chunk::Trailers(trailers))) => {
                    // Sent over HTTP/2; Pingora's HTTP/1.1 writer drops them.
                    session.write_response_trailers(trailers).await?;
                }
                Ok(None) => {
                    write_chunk(session, ctx, None, true).await?;
                    call.finish();
                    return Ok(true);
                }
                Err(err) => return Err(cut(ctx, handler, metrics, err)),
            },
            fed = feed(session, ctx, &mut feeding), if feeding.is_some() => {
                if let Err(refused) = fed {
                    // The client's body was refused (over a limit, a body
                    // filter's answer) with the response under way: all that
                    // is left is to cut it. Not the handler's failure.
                    let message = format!("request body refused mid-response ({})", refused.status);
                    ctx.error = Some(message.clone());
                    return Err(Error::explain(ErrorType::HTTPStatus(ctx.status), message));
                }
            }
        }
    }
}

/// The request as the handler sees it: what an upstream would get
/// (`X-Forwarded-*` set as the listener's trusted proxies allow, trace
/// headers, no `Content-Length` when body filters may resize the body),
/// with the URI made absolute (scheme, and authority from `Host`) and
/// without hop-by-hop headers.
fn request_for(
    session: &Session,
    ctx: &RequestCtx,
    body: weir_wasm::RequestBody,
    tls: bool,
) -> pingora::Result<http::Request<weir_wasm::RequestBody>> {
    let mut req = session.req_header().clone();
    forward::prepare(&mut req, ctx, tls)?;
    let authority = req
        .uri
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            req.headers
                .get(http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "localhost".into());
    let uri = http::Uri::builder()
        .scheme(if tls { "https" } else { "http" })
        .authority(authority)
        .path_and_query(req.uri.path_and_query().map_or("/", |p| p.as_str()))
        .build()
        .map_err(|e| Error::because(ErrorType::InvalidHTTPHeader, "request URI", e))?;
    let mut request = http::Request::builder()
        .method(req.method.clone())
        .uri(uri)
        .body(body)
        .map_err(|e| Error::because(ErrorType::InvalidHTTPHeader, "request", e))?;
    let hop_by_hop = forwarded::hop_by_hop_names(&req.headers, false);
    for (name, value) in req.headers.iter() {
        if !hop_by_hop.contains(name) {
            request.headers_mut().append(name.clone(), value.clone());
        }
    }
    Ok(request)
}

/// The handler's response head for the client: its hop-by-hop headers
/// dropped (Pingora frames the body), the request id added.
fn response_header(
    parts: &http::response::Parts,
    ctx: &RequestCtx,
) -> pingora::Result<ResponseHeader> {
    let mut header = ResponseHeader::build(parts.status, Some(parts.headers.len() + 1))?;
    let hop_by_hop = forwarded::hop_by_hop_names(&parts.headers, false);
    for (name, value) in parts.headers.iter() {
        if !hop_by_hop.contains(name) {
            header.append_header(name.clone(), value.clone())?;
        }
    }
    header.insert_header("x-request-id", ctx.request_id.as_str())?;
    Ok(header)
}

/// A body without a `Content-Length` goes to an HTTP/1.1 client chunked,
/// so that a handler failing mid-body shows as a cut response (Pingora
/// would otherwise end the body by closing the connection, which a client
/// cannot tell from its end). HTTP/2 frames it anyway.
fn frame(header: &mut ResponseHeader, client_version: http::Version) -> pingora::Result<()> {
    let status = header.status.as_u16();
    let bodiless = status < 200 || status == 204 || status == 304;
    if !bodiless
        && header.headers.get(http::header::CONTENT_LENGTH).is_none()
        && client_version == http::Version::HTTP_11
    {
        header.insert_header(http::header::TRANSFER_ENCODING, "chunked")?;
    }
    Ok(())
}

/// Moves one chunk of the client's body to the handler, when the handler
/// has room for it. Cancel-safe: a chunk is read only once its room is
/// reserved. At the end of the body (or once the handler dropped its
/// own), `feeding` becomes `None`. `Err` is weir's answer instead of the
/// handler's (over the listener's body limit, a request-body filter's
/// answer), already parked by `body::request_chunk`.
async fn feed(
    session: &mut Session,
    ctx: &mut RequestCtx,
    feeding: &mut Option<RequestBodySender>,
) -> Result<(), super::local_response::LocalResponse> {
    let Some(sender) = feeding.as_ref() else {
        return Ok(());
    };
    let Some(slot) = sender.reserve().await else {
        *feeding = None;
        return Ok(());
    };
    let read = session.read_request_body().await;
    let (mut chunk, end) = match read {
        Ok(Some(chunk)) => (Some(chunk), false),
        Ok(None) => (None, true),
        Err(err) => {
            ctx.error = Some(format!("reading the request body: {err}"));
            drop(slot);
            if let Some(sender) = feeding.take() {
                sender.abort(None);
            }
            return Ok(());
        }
    };
    if body::request_chunk(ctx, &mut chunk, end).await.is_err() {
        drop(slot);
        if let Some(sender) = feeding.take() {
            sender.abort(Some(ctx.request_body_bytes));
        }
        return Err(ctx.pending.take().expect("request_chunk parks its answer"));
    }
    match chunk {
        Some(data) => slot.send(data),
        None => drop(slot),
    }
    if end {
        // Dropping the sender ends the handler's body.
        *feeding = None;
    }
    Ok(())
}

/// One chunk of the handler's body (or its end) through the response-body
/// filters, to the client.
async fn write_chunk(
    session: &mut Session,
    ctx: &mut RequestCtx,
    data: Option<Bytes>,
    end: bool,
) -> pingora::Result<()> {
    let mut data = data;
    if let Err(err) = body::response_chunk(ctx, &mut data, end) {
        // A response-body filter failed with the head already sent.
        ctx.pending = None;
        return Err(err);
    }
    if data.is_some() || end {
        session.write_response_body(data, end).await?;
    }
    Ok(())
}

/// The handler failed before it answered, or was not run: weir answers.
async fn refuse(
    session: &mut Session,
    ctx: &mut RequestCtx,
    handler: &LoadedHandler,
    metrics: &HandlerMetrics,
    err: CallError,
) -> pingora::Result<bool> {
    metrics.failure(&err);
    tracing::warn!(handler = handler.name(), request_id = %ctx.request_id, kind = err.kind(), "handler failed: {err}");
    // The rest of the request body is not read: the connection closes.
    session.set_keepalive(None);
    local::send(
        session,
        ctx,
        Answer::Handler {
            name: handler.name(),
            error: err,
        },
    )
    .await
}

/// The handler failed after its head went out: the response is cut short
/// (the connection closes without the body's end), which the client sees.
fn cut(
    ctx: &mut RequestCtx,
    handler: &LoadedHandler,
    metrics: &HandlerMetrics,
    err: CallError,
) -> Box<Error> {
    metrics.failure(&err);
    tracing::warn!(handler = handler.name(), request_id = %ctx.request_id, kind = err.kind(), "handler failed mid-response: {err}");
    let message = format!("handler {:?} {err}", handler.name());
    ctx.error = Some(message.clone());
    Error::explain(ErrorType::HTTPStatus(ctx.status), message)
}
