//! The end of a request: its metrics, its access log line, the filters'
//! log phase and its spans.

use std::time::Duration;

use pingora::proxy::Session;
use weir_wasm::{LogInfo, Phase};

use super::context::RequestCtx;
use crate::observe::{access_log, otel};
use crate::route::host_as_sent;

pub(super) async fn finish(session: &Session, ctx: &mut RequestCtx, listener: &str, tls: bool) {
    let status = session
        .response_written()
        .map_or(ctx.status, |r| r.status.as_u16());
    let req = session.req_header();
    let duration = ctx.started.elapsed();
    ctx.route()
        .map_or(&ctx.snapshot.unmatched, |r| &r.metrics)
        .record(&req.method, status, duration);
    if access_log::enabled() {
        access_log::log(&access_log::Record {
            request_id: &ctx.request_id,
            trace_id: ctx.trace.as_ref().map(|t| t.trace_id),
            listener,
            client: ctx.client_ip,
            peer: ctx.peer_ip,
            method: req.method.as_str(),
            host: host_as_sent(&req.headers, &req.uri),
            path: req.uri.path(),
            query: req.uri.query(),
            status,
            request_bytes: ctx.request_body_bytes,
            response_bytes: ctx.response_body_bytes,
            duration,
            upstream: ctx.upstream_time,
            filters: ctx.chain.as_ref().map_or(Duration::ZERO, |c| c.busy),
            route: ctx.route().map(|r| r.name.as_str()),
            upstream_target: ctx.upstream_target(),
            error: ctx.error.as_deref(),
        });
    }
    if ctx
        .chain
        .as_ref()
        .is_some_and(|c| c.phases().contains(Phase::Log))
    {
        // Owned copies only for filters that have a log phase.
        let info = LogInfo {
            status,
            duration,
            request_body_bytes: ctx.request_body_bytes,
            response_body_bytes: ctx.response_body_bytes,
            upstream_target: ctx.upstream_target().map(str::to_owned),
            route: ctx.route().map(|r| r.name.clone()),
            error: ctx.error.clone(),
        };
        if let Some(chain) = ctx.chain.as_mut() {
            chain.on_log(&info).await;
        }
    }
    export_spans(session, ctx, status, tls);
}

/// The request's spans to the OTLP exporter, if it records this trace.
fn export_spans(session: &Session, ctx: &RequestCtx, status: u16, tls: bool) {
    let Some(trace) = ctx.trace.as_ref().filter(|t| otel::recording(t)) else {
        return;
    };
    let req = session.req_header();
    otel::export(otel::RequestSpan {
        trace,
        started: ctx.started,
        method: req.method.as_str(),
        path: req.uri.path(),
        scheme: if tls { "https" } else { "http" },
        host: host_as_sent(&req.headers, &req.uri),
        route: ctx.route().map(|r| r.name.as_str()),
        status,
        client: ctx.client_ip,
        upstream: ctx.upstream_target(),
        request_id: &ctx.request_id,
        error: ctx.error.as_deref(),
        calls: ctx
            .chain
            .as_ref()
            .map(|c| c.traced_calls())
            .unwrap_or_default(),
    });
}
