//! Bodies on their way through: counted against the listener's limit and,
//! when a filter in the chain reads them, buffered up to the filters' cap
//! and handed to the body phase whole.

use bytes::Bytes;

use super::context::{RequestCtx, ResponseBody};
use super::local::{self, Answer};
use crate::chain::inline;

/// A chunk of the request body. `Err` ends the request with the answer
/// already parked (local.rs).
pub(super) async fn request_chunk(
    ctx: &mut RequestCtx,
    body: &mut Option<Bytes>,
    end_of_stream: bool,
) -> pingora::Result<()> {
    ctx.request_body_bytes += body.as_ref().map_or(0, |b| b.len()) as u64;
    let max = ctx.listener().and_then(|l| l.limits.max_body_bytes);
    if max.is_some_and(|max| ctx.request_body_bytes > max) {
        return Err(local::defer(
            ctx,
            Answer::Error(413, "request body too large"),
        ));
    }
    let Some(buffer) = ctx.request_body.as_mut() else {
        return Ok(());
    };
    if let Some(chunk) = body.take() {
        buffer.extend_from_slice(&chunk);
    }
    let cap = ctx
        .chain
        .as_ref()
        .map_or(usize::MAX, |c| c.request_body_cap());
    if buffer.len() > cap {
        return Err(local::defer(
            ctx,
            Answer::Error(413, "request body too large for the route's filters"),
        ));
    }
    if !end_of_stream {
        return Ok(());
    }
    let mut whole = std::mem::take(buffer);
    let chain = ctx.chain.as_mut().expect("body buffering implies a chain");
    match chain.on_request_body(&mut whole).await {
        Ok(None) => {
            // Nothing to send for a request without a body (a GET): an
            // empty write would meet an upstream body already finished.
            *body = (!whole.is_empty()).then(|| Bytes::from(whole));
            Ok(())
        }
        Ok(Some(response)) => Err(local::defer(ctx, Answer::Filter(response))),
        Err(failure) => Err(local::defer(ctx, Answer::Failed(failure))),
    }
}

/// A chunk of the response body, in Pingora's synchronous body hook.
pub(super) fn response_chunk(
    ctx: &mut RequestCtx,
    body: &mut Option<Bytes>,
    end_of_stream: bool,
) -> pingora::Result<()> {
    match &mut ctx.response_body {
        ResponseBody::Stream | ResponseBody::Passthrough => {}
        ResponseBody::Replaced(replacement) => {
            *body = end_of_stream.then(|| replacement.clone());
        }
        ResponseBody::Buffer(buffer) => {
            if let Some(chunk) = body.take() {
                buffer.extend_from_slice(&chunk);
            }
            let chain = ctx.chain.as_mut().expect("body buffering implies a chain");
            if buffer.len() > chain.response_body_cap() {
                // Too big to show the filters: the rest streams through untouched.
                tracing::warn!(request_id = %ctx.request_id, "response body over the filters' max_body_bytes; passing it through unfiltered");
                *body = Some(Bytes::from(std::mem::take(buffer)));
                ctx.response_body = ResponseBody::Passthrough;
            } else if end_of_stream {
                let mut whole = std::mem::take(buffer);
                // Pingora's body hook is synchronous: see chain/inline.rs.
                let io = chain.io_handle();
                let outcome = inline::run(io.as_ref(), chain.on_response_body(&mut whole));
                if let Err(failure) = outcome {
                    // While the whole body was buffered the header may not have
                    // gone out yet: then the client gets the fail-closed 503;
                    // otherwise all that is left is to cut the response.
                    return Err(local::defer(ctx, Answer::Failed(failure)));
                }
                *body = Some(Bytes::from(whole));
            }
        }
    }
    ctx.response_body_bytes += body.as_ref().map_or(0, |b| b.len()) as u64;
    Ok(())
}
