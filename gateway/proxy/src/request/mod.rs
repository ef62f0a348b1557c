//! weir's `ProxyHttp`: the life of a request, phase by phase. Each Pingora
//! phase below is a few named steps; the steps live in this folder's
//! modules, and what they decide beyond the request comes from `chain`
//! (filters), `route`, `upstream` and `observe`. Each listener gets its own
//! `WeirProxy`; all share the snapshot store.

mod admit;
mod body;
mod client_gone;
mod context;
mod forward;
mod forwarded;
mod handler;
mod http_strict;
mod local;
mod local_response;
mod log;

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType};
use weir_wasm::Phase;

use crate::chain::{self, ChainRun, views};
use crate::route::{self, RequestFacts};
use crate::snapshot::{Action, Snapshot, SnapshotStore};
use crate::upstream::{self, InFlight};
pub use context::RequestCtx;
use context::ResponseBody;
use local::Answer;

pub struct WeirProxy {
    snapshots: Arc<SnapshotStore>,
    listener: String,
    tls: bool,
}

impl WeirProxy {
    pub fn new(snapshots: Arc<SnapshotStore>, listener: String, tls: bool) -> Self {
        WeirProxy {
            snapshots,
            listener,
            tls,
        }
    }
}

#[async_trait]
impl ProxyHttp for WeirProxy {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx::new(self.snapshots.load(), &self.listener)
    }

    /// Admission, the route, the request phases of its chain; a refusal, a
    /// filter's answer or a direct response ends the request here.
    async fn request_filter(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<bool> {
        // The request's own generation, held apart so `ctx` can change
        // while its listener and routes are read.
        let snapshot = ctx.snapshot.clone();
        if let Some(refused) = admit::admit(session, ctx, &snapshot)? {
            return local::send(session, ctx, refused).await;
        }
        let Some(index) = find_route(&snapshot, session.req_header()) else {
            return local::send(session, ctx, Answer::Error(404, "no route")).await;
        };
        ctx.route = Some(index);
        let route = &snapshot.routes[index];
        if let Some(failure) = chain::refused_up_front(&route.chain) {
            return local::send(session, ctx, Answer::Failed(failure)).await;
        }
        if !route.chain.is_empty()
            && let Some(answer) = run_request_phases(session, ctx, &route.chain).await?
        {
            return local::send(session, ctx, answer).await;
        }
        match &route.action {
            Action::Proxy { .. } => Ok(false),
            Action::Respond(direct) => local::send(session, ctx, Answer::Direct(direct)).await,
            Action::Handler { handler, metrics } => {
                handler::serve(session, ctx, handler, metrics, self.tls).await
            }
        }
    }

    async fn upstream_peer(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<Box<HttpPeer>> {
        let pool = ctx
            .pool()
            .cloned()
            .ok_or_else(|| Error::new(ErrorType::InternalError))?;
        let key = upstream::hash_key(&pool, session.req_header(), ctx.client_ip);
        let Some(index) = pool.select(key, &ctx.tried) else {
            return Err(local::defer(
                ctx,
                Answer::Error(502, "no upstream target available"),
            ));
        };
        ctx.tried.push(index);
        ctx.upstream_started = Some(Instant::now());
        if let Some(m) = ctx.route().and_then(|r| r.metrics.last_target(&ctx.tried)) {
            m.attempt();
        }
        ctx.in_flight = Some(InFlight::start(pool.targets[index].clone()));
        Ok(Box::new(upstream::peer(&pool, index)))
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        upstream: &mut RequestHeader,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<()> {
        forward::prepare(upstream, ctx, self.tls)
    }

    async fn request_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<()> {
        body::request_chunk(ctx, body, end_of_stream).await
    }

    /// Passive health, the response phases of the chain, and the buffer for
    /// response-body filters.
    async fn response_filter(
        &self,
        session: &mut Session,
        upstream: &mut ResponseHeader,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<()> {
        let status = upstream.status.as_u16();
        // Informational responses (100 Continue, 103 Early Hints) pass as
        // they are: health accounting, the request id, the filters and their
        // queued edits are for the final response (101 is final: an upgrade).
        if upstream.status.is_informational() && status != 101 {
            return Ok(());
        }
        ctx.upstream_time = ctx.upstream_started.map(|t| t.elapsed());
        record_health(ctx, status);
        let upgrade = status == 101 && session.is_upgrade_req();
        for name in forwarded::hop_by_hop_names(&upstream.headers, upgrade) {
            upstream.remove_header(&name);
        }
        upstream.insert_header("x-request-id", ctx.request_id.as_str())?;
        run_response_phases(session, ctx, upstream).await?;
        ctx.status = upstream.status.as_u16();
        Ok(())
    }

    fn response_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<Option<Duration>> {
        body::response_chunk(ctx, body, end_of_stream)?;
        Ok(None)
    }

    fn fail_to_connect(
        &self,
        _session: &mut Session,
        _peer: &HttpPeer,
        ctx: &mut RequestCtx,
        mut e: Box<Error>,
    ) -> Box<Error> {
        if let (Some(in_flight), Some(pool)) = (ctx.in_flight.take(), ctx.pool()) {
            in_flight
                .target()
                .record_failure(pool.definition.passive_health.as_ref());
            e.set_retry(upstream::retry_after_connect_failure(pool, ctx.tried.len()));
            if let Some(m) = ctx.route().and_then(|r| r.metrics.last_target(&ctx.tried)) {
                m.failed(&e, true, e.retry());
            }
        }
        e
    }

    fn error_while_proxy(
        &self,
        peer: &HttpPeer,
        session: &mut Session,
        e: Box<Error>,
        ctx: &mut RequestCtx,
        client_reused: bool,
    ) -> Box<Error> {
        let mut e = e.more_context(format!("peer: {peer}"));
        let Some(pool) = ctx.pool().cloned() else {
            return e;
        };
        if let Some(in_flight) = ctx.in_flight.take() {
            in_flight
                .target()
                .record_failure(pool.definition.passive_health.as_ref());
        }
        let truncated = session.as_ref().retry_buffer_truncated();
        if upstream::may_retry_after_error(&pool, session.req_header(), ctx.tried.len(), truncated)
        {
            e.retry.decide_reuse(client_reused);
        } else {
            e.set_retry(false);
        }
        if let Some(m) = ctx.route().and_then(|r| r.metrics.last_target(&ctx.tried)) {
            m.failed(&e, false, e.retry());
        }
        e
    }

    /// Sends the answer a hook parked, or the one for the proxy error.
    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        e: &Error,
        ctx: &mut RequestCtx,
    ) -> FailToProxy {
        let mut code = 0;
        if let Some(response) = local::for_error(ctx, e) {
            code = response.status;
            // The connection is closed after this response (the request body
            // may be unread): say so, or a client could reuse it and see a reset.
            session.set_keepalive(None);
            if session.response_written().is_none()
                && let Err(err) = local::write(session, ctx, response).await
            {
                tracing::debug!(request_id = %ctx.request_id, "could not send the error response: {err}");
            }
        }
        ctx.status = code;
        FailToProxy {
            error_code: code,
            can_reuse_downstream: false,
        }
    }

    fn suppress_error_log(&self, _session: &Session, ctx: &RequestCtx, e: &Error) -> bool {
        client_gone::suppress_error_log(&ctx.request_id, e)
    }

    async fn logging(&self, session: &mut Session, e: Option<&Error>, ctx: &mut RequestCtx) {
        if let (Some(err), None) = (e, &ctx.error) {
            ctx.error = Some(err.to_string());
        }
        log::finish(session, ctx, &self.listener, self.tls).await;
    }
}

/// The route that handles `req` in `snapshot`, matched on the facts read
/// once from the request.
fn find_route(snapshot: &Snapshot, req: &RequestHeader) -> Option<usize> {
    let host = route::request_host(&req.headers, &req.uri);
    snapshot.find_route(&RequestFacts {
        host: &host,
        path: req.uri.path(),
        method: req.method.as_str(),
        headers: &req.headers,
        query: req.uri.query(),
    })
}

/// The request meets the route's chain: `on-request-headers` and its edits;
/// the body is buffered from here on when a filter reads it. `Some` is the
/// answer that ends the request.
async fn run_request_phases(
    session: &mut Session,
    ctx: &mut RequestCtx,
    chain: &crate::snapshot::Chain,
) -> pingora::Result<Option<Answer<'static>>> {
    let view = views::request_view(session.req_header(), ctx.client_ip, &ctx.request_id);
    let mut run = ChainRun::new(chain, view, ctx.trace.as_ref());
    let outcome = run.on_request(session.req_header_mut()).await?;
    if chain.phases.contains(Phase::RequestBody) {
        ctx.request_body = Some(Vec::new());
    }
    ctx.chain = Some(run);
    Ok(match outcome {
        Ok(None) => None,
        Ok(Some(response)) => Some(Answer::Filter(response)),
        Err(failure) => Some(Answer::Failed(failure)),
    })
}

/// The upstream's response meets the chain: a filter's answer (or weir's
/// 503 for one that failed) replaces it, body and all; otherwise, when a
/// filter reads the body, it is buffered from here on.
async fn run_response_phases(
    session: &Session,
    ctx: &mut RequestCtx,
    upstream: &mut ResponseHeader,
) -> pingora::Result<()> {
    let Some(chain) = ctx.chain.as_mut() else {
        return Ok(());
    };
    let outcome = chain.on_response(upstream).await;
    if let Some(replacement) = local::replacement(outcome, &ctx.request_id) {
        let mut header = replacement.header()?;
        header.insert_header("x-request-id", ctx.request_id.as_str())?;
        *upstream = header;
        ctx.response_body = ResponseBody::Replaced(replacement.into_body());
    } else if chain.phases().contains(Phase::ResponseBody) {
        views::reframe_for_body_filters(upstream, session.req_header().version)?;
        ctx.response_body = ResponseBody::Buffer(Vec::new());
    }
    Ok(())
}

/// Passive health: a 5xx counts against the target, anything else for it.
fn record_health(ctx: &RequestCtx, status: u16) {
    if let (Some(in_flight), Some(pool)) = (&ctx.in_flight, ctx.pool()) {
        if status >= 500 {
            in_flight
                .target()
                .record_failure(pool.definition.passive_health.as_ref());
        } else {
            in_flight.target().record_success();
        }
    }
}
