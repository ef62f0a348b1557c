//! OpenTelemetry span export over OTLP/HTTP, off unless `tracing.otlp` is set.
//!
//! weir makes its spans itself: the ids are the ones of the W3C trace
//! context (trace_context.rs) that went upstream, and the spans are built as
//! `SpanData` once the request is done, from timestamps taken on the way.
//! The SDK's batch processor queues them (bounded; a full queue drops spans)
//! and a thread of its own sends them: a request never waits for, or fails
//! because of, the collector.

use std::borrow::Cow;
use std::net::IpAddr;
use std::sync::OnceLock;
use std::time::{Instant, SystemTime};

use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{
    BatchConfigBuilder, BatchSpanProcessor, SpanData, SpanEvents, SpanLinks, SpanProcessor,
};
use weir_config::Tracing;

use weir_wasm::Phase;

use super::trace_context::TraceContext;

struct Exporter {
    processor: BatchSpanProcessor,
    scope: InstrumentationScope,
    /// A new trace is sampled when the top 63 bits of its id's low half are below this.
    ratio_bound: u64,
}

static EXPORTER: OnceLock<Exporter> = OnceLock::new();

#[derive(Debug, thiserror::Error)]
#[error("cannot set up OTLP export: {0}")]
pub struct OtelError(String);

/// Starts the exporter when the config asks for it (once per process;
/// `tracing` is process-wide, so a reload does not change it).
pub fn install(tracing: &Tracing) -> Result<(), OtelError> {
    let Some(otlp) = &tracing.otlp else {
        return Ok(());
    };
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .with_protocol(Protocol::HttpBinary)
        .with_endpoint(otlp.endpoint.clone())
        .with_timeout(otlp.timeout)
        .build()
        .map_err(|e| OtelError(e.to_string()))?;
    let batch = BatchConfigBuilder::default()
        .with_max_queue_size(otlp.max_queue_size)
        .with_max_export_batch_size(otlp.max_queue_size.min(512))
        .with_scheduled_delay(otlp.export_interval)
        .build();
    let mut processor = BatchSpanProcessor::builder(exporter)
        .with_batch_config(batch)
        .build();
    processor.set_resource(
        &Resource::builder_empty()
            .with_service_name(tracing.service_name.clone())
            .build(),
    );
    let scope = InstrumentationScope::builder("weir")
        .with_version(env!("CARGO_PKG_VERSION"))
        .build();
    let ratio_bound = (otlp.sample_ratio * (1u64 << 63) as f64) as u64;
    EXPORTER
        .set(Exporter {
            processor,
            scope,
            ratio_bound,
        })
        .map_err(|_| OtelError("already installed".into()))
}

/// Whether a trace weir starts is recorded (and so sent upstream as sampled).
pub fn sample_new(trace_id: &[u8; 16]) -> bool {
    EXPORTER.get().is_some_and(|e| {
        let low = u64::from_be_bytes(trace_id[8..].try_into().expect("8 bytes"));
        (low >> 1) < e.ratio_bound
    })
}

/// Whether this request's spans are to be recorded.
pub fn recording(trace: &TraceContext) -> bool {
    trace.sampled() && EXPORTER.get().is_some()
}

/// One filter phase call, timed for its span.
#[derive(Debug, Clone)]
pub struct FilterCall {
    pub filter: usize,
    pub phase: Phase,
    pub started: Instant,
    pub ended: Instant,
    /// `ok`, or the kind of failure (`trap`, `deadline`, `circuit_open`, …).
    pub outcome: &'static str,
}

/// What the request span reports, gathered at the end of the request.
pub struct RequestSpan<'a> {
    pub trace: &'a TraceContext,
    pub started: Instant,
    pub method: &'a str,
    pub path: &'a str,
    pub scheme: &'static str,
    pub host: Option<&'a str>,
    pub route: Option<&'a str>,
    pub status: u16,
    pub client: Option<IpAddr>,
    pub upstream: Option<&'a str>,
    pub request_id: &'a str,
    pub error: Option<&'a str>,
    /// Filter phase calls, with the name of each call's filter.
    pub calls: Vec<(&'a str, &'a FilterCall)>,
}

/// Hands the request span and a child span per filter call to the batch
/// processor: a non-blocking queue push each.
pub fn export(span: RequestSpan<'_>) {
    let Some(exporter) = EXPORTER.get() else {
        return;
    };
    let now_wall = SystemTime::now();
    let now = Instant::now();
    let wall = |at: Instant| now_wall - now.saturating_duration_since(at);
    let trace_id = TraceId::from_bytes(span.trace.trace_id);
    let request_span_id = SpanId::from_bytes(span.trace.span_id);
    let context = |span_id| {
        SpanContext::new(
            trace_id,
            span_id,
            TraceFlags::SAMPLED,
            false,
            TraceState::default(),
        )
    };

    for (name, call) in &span.calls {
        let failed = call.outcome != "ok";
        exporter.processor.on_end(SpanData {
            span_context: context(SpanId::from_bytes(
                rand::random::<u64>().max(1).to_be_bytes(),
            )),
            parent_span_id: request_span_id,
            parent_span_is_remote: false,
            span_kind: SpanKind::Internal,
            name: Cow::Owned(format!("filter {name} {}", call.phase.name())),
            start_time: wall(call.started),
            end_time: wall(call.ended),
            attributes: vec![
                KeyValue::new("weir.filter.name", name.to_string()),
                KeyValue::new("weir.filter.phase", call.phase.name()),
                KeyValue::new("weir.filter.outcome", call.outcome),
            ],
            dropped_attributes_count: 0,
            events: SpanEvents::default(),
            links: SpanLinks::default(),
            status: if failed {
                Status::error(call.outcome)
            } else {
                Status::Unset
            },
            instrumentation_scope: exporter.scope.clone(),
        });
    }

    // OTel HTTP server semantic conventions, plus weir's own.
    let mut attributes = vec![
        KeyValue::new("http.request.method", span.method.to_owned()),
        KeyValue::new("url.path", span.path.to_owned()),
        KeyValue::new("url.scheme", span.scheme),
        KeyValue::new("http.response.status_code", i64::from(span.status)),
        KeyValue::new("weir.request_id", span.request_id.to_owned()),
    ];
    if let Some(host) = span.host {
        attributes.push(KeyValue::new("server.address", host.to_owned()));
    }
    if let Some(route) = span.route {
        attributes.push(KeyValue::new("http.route", route.to_owned()));
    }
    if let Some(client) = span.client {
        attributes.push(KeyValue::new("client.address", client.to_string()));
    }
    if let Some(upstream) = span.upstream {
        attributes.push(KeyValue::new("weir.upstream.target", upstream.to_owned()));
    }
    // A server span is an error for 5xx only (4xx is the client's).
    let status = if span.status >= 500 || span.status == 0 {
        let kind = if span.status == 0 {
            "no_response".to_owned()
        } else {
            span.status.to_string()
        };
        attributes.push(KeyValue::new("error.type", kind));
        Status::error(span.error.unwrap_or_default().to_owned())
    } else {
        Status::Unset
    };
    let name = match span.route {
        Some(route) => format!("{} {route}", span.method),
        None => span.method.to_owned(),
    };
    exporter.processor.on_end(SpanData {
        span_context: context(request_span_id),
        parent_span_id: span
            .trace
            .parent_span_id
            .map_or(SpanId::INVALID, SpanId::from_bytes),
        parent_span_is_remote: span.trace.parent_span_id.is_some(),
        span_kind: SpanKind::Server,
        name: Cow::Owned(name),
        start_time: wall(span.started),
        end_time: now_wall,
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status,
        instrumentation_scope: exporter.scope.clone(),
    });
}
