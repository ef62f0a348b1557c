//! weir's `ProxyHttp`: the life of a request (ARCHITECTURE §2), phase by
//! phase. Each listener gets its own `WeirProxy`; all share the snapshot store.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use bytes::Bytes;
use pingora::http::{RequestHeader, ResponseHeader};
use pingora::proxy::{FailToProxy, ProxyHttp, Session};
use pingora::upstreams::peer::HttpPeer;
use pingora::{Error, ErrorType};
use weir_wasm::LogInfo;

use crate::chain::{self, ChainRun, Outcome};
use crate::filter_views;
use crate::forwarded;
use crate::http_strict;
use crate::respond::{self, LocalResponse};
use crate::router::{self, RequestFacts};
use crate::snapshot::{Action, RouteEntry, Snapshot, SnapshotStore};
use crate::trace_context::{self, TraceContext};
use crate::upstream::{InFlight, Pool};

/// The custom error that means "ctx.pending holds the response to send".
const LOCAL_RESPONSE: ErrorType = ErrorType::Custom("weir local response");

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

/// Per-request state.
pub struct RequestCtx {
    snapshot: Arc<Snapshot>,
    started: Instant,
    request_id: String,
    route: Option<usize>,
    /// The TCP peer.
    peer_ip: Option<IpAddr>,
    /// The client: the peer, or behind trusted proxies the address they name.
    client_ip: Option<IpAddr>,
    /// Target indexes already tried, so a retry goes elsewhere.
    tried: Vec<usize>,
    in_flight: Option<InFlight>,
    chain: Option<ChainRun>,
    /// A response to send from `fail_to_proxy` (filter answers, limits).
    pending: Option<LocalResponse>,
    /// Set when a filter in the chain reads the request body.
    request_body: Option<Vec<u8>>,
    request_body_bytes: u64,
    /// Set when a filter in the chain reads the response body.
    response_body: Option<Vec<u8>>,
    /// Over the filters' cap: the rest streams through unfiltered.
    response_passthrough: bool,
    /// A response-headers filter answered: its body replaces the upstream's.
    response_replacement: Option<Bytes>,
    response_body_bytes: u64,
    status: u16,
    error: Option<String>,
    /// W3C trace context (trace_context.rs), set first thing in `request_filter`.
    pub(crate) trace: Option<TraceContext>,
    /// When the last upstream target was chosen, and how long until its
    /// response header arrived (the access log's `upstream_ms`).
    upstream_started: Option<Instant>,
    upstream_time: Option<Duration>,
    /// Counts the request as in flight until it is dropped (shutdown.rs).
    _in_flight: crate::shutdown::RequestGuard,
}

impl RequestCtx {
    fn route(&self) -> Option<&RouteEntry> {
        self.route.map(|i| &self.snapshot.routes[i])
    }

    fn pool(&self) -> Option<&Arc<Pool>> {
        match &self.route()?.action {
            Action::Proxy { pool, .. } => Some(pool),
            Action::Respond(_) => None,
        }
    }
}

#[async_trait]
impl ProxyHttp for WeirProxy {
    type CTX = RequestCtx;

    fn new_ctx(&self) -> RequestCtx {
        RequestCtx {
            snapshot: self.snapshots.load(),
            started: Instant::now(),
            request_id: String::new(),
            route: None,
            peer_ip: None,
            client_ip: None,
            tried: Vec::new(),
            in_flight: None,
            chain: None,
            pending: None,
            request_body: None,
            request_body_bytes: 0,
            response_body: None,
            response_passthrough: false,
            response_replacement: None,
            response_body_bytes: 0,
            status: 0,
            error: None,
            trace: None,
            upstream_started: None,
            upstream_time: None,
            _in_flight: crate::shutdown::RequestGuard::new(),
        }
    }

    async fn request_filter(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<bool> {
        ctx.peer_ip = session
            .client_addr()
            .and_then(|a| a.as_inet())
            .map(|a| a.ip());
        ctx.client_ip = ctx.peer_ip;
        if crate::drain::is_draining() {
            // HTTP/1.1: answer with `Connection: close` (see drain.rs).
            session.set_keepalive(None);
        }
        ctx.request_id = request_id(session.req_header());
        session
            .req_header_mut()
            .insert_header("x-request-id", ctx.request_id.as_str())?;
        ctx.trace = Some(TraceContext::from_headers(
            &session.req_header().headers,
            crate::otel::sample_new,
        ));

        let snapshot = ctx.snapshot.clone();
        let Some(listener) = snapshot
            .config
            .listeners
            .iter()
            .find(|l| l.name == self.listener)
        else {
            // The listener was removed by a reload; it keeps serving with no routes
            // until the restart that the reload asked for.
            return self.respond_error(session, ctx, 404, "no route").await;
        };
        ctx.client_ip = forwarded::client_address(
            ctx.peer_ip,
            &session.req_header().headers,
            &listener.trusted_proxies,
        );
        if let Err(refusal) = http_strict::enforce(session, &listener.limits) {
            return self.refuse(session, ctx, refusal).await;
        }
        let req = session.req_header();
        if let (Some(max), Some(len)) = (listener.limits.max_body_bytes, content_length(req))
            && len > max
        {
            return self
                .respond_error(session, ctx, 413, "request body too large")
                .await;
        }

        let host = router::request_host(&req.headers, &req.uri);
        let facts = RequestFacts {
            host: &host,
            path: req.uri.path(),
            method: req.method.as_str(),
            headers: &req.headers,
            query: req.uri.query(),
        };
        let Some(index) = snapshot.find_route(&facts) else {
            return self.respond_error(session, ctx, 404, "no route").await;
        };
        ctx.route = Some(index);
        let route = &snapshot.routes[index];

        if let Some((filter, error)) = chain::refused_up_front(&route.chain) {
            ctx.error = Some(format!("filter {filter:?} {error}"));
            return self
                .respond_error(session, ctx, 503, &format!("filter {filter:?} failed"))
                .await;
        }
        if !route.chain.is_empty() {
            let view =
                filter_views::request_view(session.req_header(), ctx.client_ip, &ctx.request_id);
            let mut run = ChainRun::new(&route.chain, view);
            trace_context::start_chain(&mut run, ctx.trace.as_ref());
            let outcome = if route.chain.phases.request_headers {
                run.on_request_headers().await
            } else {
                Outcome::Continue
            };
            filter_views::apply_request_edits(session.req_header_mut(), &mut run.exchange.request)?;
            if route.chain.phases.request_body {
                ctx.request_body = Some(Vec::new());
            }
            ctx.chain = Some(run);
            match outcome {
                Outcome::Continue => {}
                Outcome::Respond(r) => {
                    return self
                        .respond_local(session, ctx, LocalResponse::from_filter(r))
                        .await;
                }
                Outcome::Failed { filter, error } => {
                    ctx.error = Some(format!("filter {filter:?} {error}"));
                    return self
                        .respond_error(session, ctx, 503, &format!("filter {filter:?} failed"))
                        .await;
                }
            }
        }

        if let Action::Respond(direct) = &route.action {
            return self
                .respond_local(session, ctx, LocalResponse::direct(direct))
                .await;
        }
        Ok(false)
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
        let key = hash_key(&pool, session.req_header(), ctx.client_ip);
        let Some(index) = pool.select(key, &ctx.tried) else {
            ctx.pending = Some(LocalResponse::error(
                502,
                "no upstream target available",
                &ctx.request_id,
            ));
            return Err(Error::new(LOCAL_RESPONSE));
        };
        ctx.tried.push(index);
        ctx.upstream_started = Some(Instant::now());
        if let Some(m) = crate::metrics::last_target(ctx.route(), &ctx.tried) {
            m.attempt();
        }
        let target = pool.targets[index].clone();
        ctx.in_flight = Some(InFlight::start(target.clone()));

        let definition = &pool.definition;
        let tls = definition.tls.as_ref();
        let sni = tls
            .and_then(|t| t.sni.clone())
            .unwrap_or_else(|| host_part(&target.address).to_owned());
        let mut peer = HttpPeer::new(
            target.socket_addr,
            tls.is_some(),
            if tls.is_some() { sni } else { String::new() },
        );
        let t = &definition.timeouts;
        peer.options.connection_timeout = Some(t.connect);
        peer.options.total_connection_timeout = Some(t.connect);
        peer.options.read_timeout = Some(t.read);
        peer.options.write_timeout = Some(t.write);
        peer.options.idle_timeout = Some(t.idle);
        if let Some(tls) = tls {
            peer.options.verify_cert = tls.verify;
            peer.options.verify_hostname = tls.verify;
            peer.options.ca = pool.ca.clone();
        }
        Ok(Box::new(peer))
    }

    async fn upstream_request_filter(
        &self,
        _session: &mut Session,
        upstream: &mut RequestHeader,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<()> {
        // Hop-by-hop fields, and those `Connection` names, are already gone:
        // Pingora's upstream request policy (the standard one, which weir
        // keeps) strips them before this phase, for HTTP/1 and HTTP/2
        // upstreams alike (e2e `forwarding::hop_by_hop_headers_are_not_forwarded`).
        let listener = ctx
            .snapshot
            .config
            .listeners
            .iter()
            .find(|l| l.name == self.listener);
        let trusted =
            listener.is_some_and(|l| forwarded::is_trusted(ctx.peer_ip, &l.trusted_proxies));
        // Before `host_rewrite`: X-Forwarded-Host is the Host the client sent.
        forwarded::set_forwarded(upstream, ctx.peer_ip, trusted, self.tls)?;

        if let Some(RouteEntry {
            action:
                Action::Proxy {
                    strip_prefix,
                    host_rewrite,
                    ..
                },
            ..
        }) = ctx.route()
        {
            if let Some(prefix) = strip_prefix {
                let stripped = strip_path_prefix(upstream.uri.path(), prefix);
                let path_and_query = match upstream.uri.query() {
                    Some(q) => format!("{stripped}?{q}"),
                    None => stripped,
                };
                upstream.set_uri(path_and_query.parse().map_err(|_| {
                    Error::explain(ErrorType::InternalError, "stripped path is not a valid URI")
                })?);
            }
            if let Some(host) = host_rewrite {
                upstream.insert_header(http::header::HOST, host.as_str())?;
            }
        }
        if let Some(trace) = &ctx.trace {
            trace_context::set_upstream_headers(upstream, trace)?;
        }
        if ctx.request_body.is_some() {
            // A filter may change the body's length: let Pingora frame it as
            // chunked instead of passing on a Content-Length that could lie.
            upstream.remove_header(&http::header::CONTENT_LENGTH);
        }
        Ok(())
    }

    async fn request_body_filter(
        &self,
        _session: &mut Session,
        body: &mut Option<Bytes>,
        end_of_stream: bool,
        ctx: &mut RequestCtx,
    ) -> pingora::Result<()> {
        let chunk_len = body.as_ref().map_or(0, |b| b.len()) as u64;
        ctx.request_body_bytes += chunk_len;
        let max = ctx
            .snapshot
            .config
            .listeners
            .iter()
            .find(|l| l.name == self.listener)
            .and_then(|l| l.limits.max_body_bytes);
        if max.is_some_and(|max| ctx.request_body_bytes > max) {
            ctx.pending = Some(LocalResponse::error(
                413,
                "request body too large",
                &ctx.request_id,
            ));
            return Err(Error::new(LOCAL_RESPONSE));
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
            ctx.pending = Some(LocalResponse::error(
                413,
                "request body too large for the route's filters",
                &ctx.request_id,
            ));
            return Err(Error::new(LOCAL_RESPONSE));
        }
        if !end_of_stream {
            return Ok(());
        }
        let mut whole = std::mem::take(buffer);
        let chain = ctx.chain.as_mut().expect("body buffering implies a chain");
        match chain.on_request_body(&mut whole).await {
            Outcome::Continue => {
                // Nothing to send for a request without a body (a GET): an
                // empty write would meet an upstream body already finished.
                *body = (!whole.is_empty()).then(|| Bytes::from(whole));
                Ok(())
            }
            Outcome::Respond(r) => {
                ctx.pending = Some(LocalResponse::from_filter(r));
                Err(Error::new(LOCAL_RESPONSE))
            }
            Outcome::Failed { filter, error } => {
                ctx.error = Some(format!("filter {filter:?} {error}"));
                ctx.pending = Some(LocalResponse::error(
                    503,
                    &format!("filter {filter:?} failed"),
                    &ctx.request_id,
                ));
                Err(Error::new(LOCAL_RESPONSE))
            }
        }
    }

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
        if let (Some(in_flight), Some(pool)) = (&ctx.in_flight, ctx.pool()) {
            if status >= 500 {
                in_flight
                    .target()
                    .record_failure(pool.definition.passive_health.as_ref());
            } else {
                in_flight.target().record_success();
            }
        }
        let upgrade = status == 101 && session.is_upgrade_req();
        for name in forwarded::hop_by_hop_names(&upstream.headers, upgrade) {
            upstream.remove_header(&name);
        }
        upstream.insert_header("x-request-id", ctx.request_id.as_str())?;

        if let Some(chain) = ctx.chain.as_mut() {
            let phases = ctx.snapshot.routes[ctx.route.unwrap_or_default()]
                .chain
                .phases;
            if let Err(replacement) = filter_views::on_response(chain, upstream, phases).await {
                let mut header = replacement.header()?;
                header.insert_header("x-request-id", ctx.request_id.as_str())?;
                *upstream = header;
                ctx.response_replacement = Some(replacement.body);
            }
            if phases.response_body && ctx.response_replacement.is_none() {
                filter_views::reframe_for_body_filters(upstream, session.req_header().version)?;
                ctx.response_body = Some(Vec::new());
            }
        }
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
        if let Some(replacement) = &ctx.response_replacement {
            *body = end_of_stream.then(|| replacement.clone());
        } else if let (Some(buffer), false) = (ctx.response_body.as_mut(), ctx.response_passthrough)
        {
            if let Some(chunk) = body.take() {
                buffer.extend_from_slice(&chunk);
            }
            let chain = ctx.chain.as_mut().expect("body buffering implies a chain");
            if buffer.len() > chain.response_body_cap() {
                // Too big to show the filters: the rest streams through untouched.
                tracing::warn!(request_id = %ctx.request_id, "response body over the filters' max_body_bytes; passing it through unfiltered");
                ctx.response_passthrough = true;
                *body = Some(Bytes::from(std::mem::take(buffer)));
            } else if end_of_stream {
                let mut whole = std::mem::take(buffer);
                // Pingora's body hook is synchronous: see inline.rs.
                let io = chain.io_handle();
                let outcome = crate::inline::run(io.as_ref(), chain.on_response_body(&mut whole));
                if let Outcome::Failed { filter, error } = outcome {
                    // While the whole body was buffered the header may not have
                    // gone out yet: then the client gets the fail-closed 503;
                    // otherwise all that is left is to cut the response.
                    ctx.error = Some(format!("filter {filter:?} {error}"));
                    ctx.pending = Some(LocalResponse::error(
                        503,
                        &format!("filter {filter:?} failed"),
                        &ctx.request_id,
                    ));
                    return Err(Error::new(LOCAL_RESPONSE));
                }
                *body = Some(Bytes::from(whole));
            }
        }
        ctx.response_body_bytes += body.as_ref().map_or(0, |b| b.len()) as u64;
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
            // Nothing was sent: any method may go to another target.
            let attempts = ctx.tried.len() as u32;
            e.set_retry(
                attempts <= pool.definition.retries.count && attempts < pool.targets.len() as u32,
            );
            if let Some(m) = crate::metrics::last_target(ctx.route(), &ctx.tried) {
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
        let retries = &pool.definition.retries;
        let method_ok =
            session.req_header().method.is_idempotent() || !retries.idempotent_only_after_connect;
        let attempts_left = (ctx.tried.len() as u32) <= retries.count;
        if method_ok && attempts_left && !session.as_ref().retry_buffer_truncated() {
            e.retry.decide_reuse(client_reused);
        } else {
            e.set_retry(false);
        }
        if let Some(m) = crate::metrics::last_target(ctx.route(), &ctx.tried) {
            m.failed(&e, false, e.retry());
        }
        e
    }

    async fn fail_to_proxy(
        &self,
        session: &mut Session,
        e: &Error,
        ctx: &mut RequestCtx,
    ) -> FailToProxy {
        let response = match ctx.pending.take() {
            Some(local) => Some(local),
            None => {
                let (status, message) = error_status(e);
                ctx.error.get_or_insert_with(|| e.to_string());
                (status > 0).then(|| LocalResponse::error(status, message, &ctx.request_id))
            }
        };
        let mut code = 0;
        if let Some(response) = response {
            code = response.status;
            // The connection is closed after this response (the request body
            // may be unread): say so, or a client could reuse it and see a reset.
            session.set_keepalive(None);
            if session.response_written().is_none()
                && let Err(err) = self.respond_local(session, ctx, response).await
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
        crate::client_gone::suppress_error_log(&ctx.request_id, e)
    }

    async fn logging(&self, session: &mut Session, e: Option<&Error>, ctx: &mut RequestCtx) {
        let status = session
            .response_written()
            .map_or(ctx.status, |r| r.status.as_u16());
        if let (Some(err), None) = (e, &ctx.error) {
            ctx.error = Some(err.to_string());
        }
        let req = session.req_header();
        let duration = ctx.started.elapsed();
        ctx.route()
            .map_or(&ctx.snapshot.unmatched, |r| &r.metrics)
            .record(&req.method, status, duration);
        let upstream_target = ctx
            .tried
            .last()
            .zip(ctx.pool())
            .map(|(i, pool)| pool.targets[*i].address.as_str());
        if crate::access_log::enabled() {
            crate::access_log::log(&crate::access_log::Record {
                request_id: &ctx.request_id,
                trace_id: ctx.trace.as_ref().map(|t| t.trace_id),
                listener: &self.listener,
                client: ctx.client_ip,
                peer: ctx.peer_ip,
                method: req.method.as_str(),
                host: req
                    .headers
                    .get(http::header::HOST)
                    .and_then(|v| v.to_str().ok())
                    .or_else(|| req.uri.authority().map(|a| a.as_str())),
                path: req.uri.path(),
                query: req.uri.query(),
                status,
                request_bytes: ctx.request_body_bytes,
                response_bytes: ctx.response_body_bytes,
                duration,
                upstream: ctx.upstream_time,
                filters: ctx.chain.as_ref().map_or(Duration::ZERO, |c| c.busy),
                route: ctx.route().map(|r| r.name.as_str()),
                upstream_target,
                error: ctx.error.as_deref(),
            });
        }
        let phases_log = ctx.route().is_some_and(|r| r.chain.phases.log);
        // Owned copies only for filters that have a log phase.
        let (upstream_target, route) = if phases_log {
            (
                upstream_target.map(str::to_owned),
                ctx.route().map(|r| r.name.clone()),
            )
        } else {
            (None, None)
        };
        if let (Some(chain), true) = (ctx.chain.as_mut(), phases_log) {
            chain
                .on_log(&LogInfo {
                    status,
                    duration,
                    request_body_bytes: ctx.request_body_bytes,
                    response_body_bytes: ctx.response_body_bytes,
                    upstream_target,
                    route,
                    error: ctx.error.clone(),
                })
                .await;
        }
        export_spans(session, ctx, status, self.tls);
    }
}

/// The request's spans to the OTLP exporter, if it records this trace.
fn export_spans(session: &Session, ctx: &RequestCtx, status: u16, tls: bool) {
    let Some(trace) = ctx.trace.as_ref().filter(|t| crate::otel::recording(t)) else {
        return;
    };
    let req = session.req_header();
    crate::otel::export(crate::otel::RequestSpan {
        trace,
        started: ctx.started,
        method: req.method.as_str(),
        path: req.uri.path(),
        scheme: if tls { "https" } else { "http" },
        host: req
            .headers
            .get(http::header::HOST)
            .and_then(|v| v.to_str().ok()),
        route: ctx.route().map(|r| r.name.as_str()),
        status,
        client: ctx.client_ip,
        upstream: ctx
            .tried
            .last()
            .zip(ctx.pool())
            .map(|(i, pool)| pool.targets[*i].address.as_str()),
        request_id: &ctx.request_id,
        error: ctx.error.as_deref(),
        calls: ctx
            .chain
            .as_ref()
            .map(|c| c.traced_calls())
            .unwrap_or_default(),
    });
}

impl WeirProxy {
    /// Answers a request `http_strict` refused and closes the connection:
    /// what follows in it cannot be trusted to be a request.
    async fn refuse(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        refusal: http_strict::Refusal,
    ) -> pingora::Result<bool> {
        session.set_keepalive(None);
        self.respond_error(session, ctx, refusal.status, refusal.reason)
            .await
    }

    async fn respond_error(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        status: u16,
        message: &str,
    ) -> pingora::Result<bool> {
        let response = LocalResponse::error(status, message, &ctx.request_id);
        self.respond_local(session, ctx, response).await
    }

    /// Sends a response weir made, through the response-headers phase of the
    /// filters the request reached. Returns `Ok(true)`: the request is done.
    async fn respond_local(
        &self,
        session: &mut Session,
        ctx: &mut RequestCtx,
        response: LocalResponse,
    ) -> pingora::Result<bool> {
        let mut header = response.header()?;
        let mut body = response.body;
        let phases = ctx.route().map(|r| r.chain.phases).unwrap_or_default();
        if let Some(chain) = ctx.chain.as_mut()
            && let Err(replacement) = filter_views::on_response(chain, &mut header, phases).await
        {
            header = replacement.header()?;
            body = replacement.body;
        }
        ctx.status = header.status.as_u16();
        ctx.response_body_bytes += body.len() as u64;
        respond::write(session, header, body, &ctx.request_id).await?;
        Ok(true)
    }
}

const X_REQUEST_ID: http::HeaderName = http::HeaderName::from_static("x-request-id");

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

fn hash_key(pool: &Pool, req: &RequestHeader, client_ip: Option<IpAddr>) -> Option<u64> {
    use crate::upstream::key_hash as h;
    match pool.hash_key()? {
        weir_config::HashKey::Header(name) => {
            req.headers.get(name.as_str()).map(|v| h(v.as_bytes()))
        }
        weir_config::HashKey::Cookie(name) => req
            .headers
            .get_all(http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(n, _)| n == name)
            .map(|(_, v)| h(v.as_bytes())),
        // Hash the address bytes: no string built per request.
        weir_config::HashKey::ClientIp => client_ip.map(|ip| match ip {
            IpAddr::V4(v4) => h(&v4.octets()),
            IpAddr::V6(v6) => h(&v6.octets()),
        }),
    }
}

fn host_part(address: &str) -> &str {
    address.rsplit_once(':').map_or(address, |(host, _)| host)
}

fn strip_path_prefix(path: &str, prefix: &str) -> String {
    let rest = path.strip_prefix(prefix).unwrap_or(path);
    if rest.starts_with('/') {
        rest.to_owned()
    } else {
        format!("/{rest}")
    }
}

/// The status and message a client gets for a proxy error (ARCHITECTURE §7).
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_prefix_keeps_a_rooted_path() {
        assert_eq!(strip_path_prefix("/api/users", "/api"), "/users");
        assert_eq!(strip_path_prefix("/api", "/api"), "/");
        assert_eq!(strip_path_prefix("/api/", "/api/"), "/");
    }

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
