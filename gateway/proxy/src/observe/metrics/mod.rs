//! Prometheus metrics: one registry per process, served as text by the admin
//! listener's `GET /metrics` (docs/observability.md lists them all).
//!
//! The request path never looks a metric up by label: a snapshot build
//! resolves the children it needs (per route, per upstream target, per filter
//! and phase) into handles held by the snapshot, and a request increments
//! them. Gauges that mirror state kept elsewhere (target health, circuit
//! breakers, idle instances, the generation) are set at scrape time from the
//! running snapshot. Label values only ever come from the config, never from
//! a request; a reload removes the label sets of routes, upstreams and filters
//! it dropped, so the series stay bounded by the config.

mod filter;
mod handler;
mod request;
mod upstream;

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use prometheus::{
    Encoder, Gauge, HistogramOpts, HistogramVec, IntCounterVec, IntGauge, IntGaugeVec, Opts,
    Registry, TextEncoder,
};

pub use filter::FilterMetrics;
pub use handler::HandlerMetrics;
pub use request::{RouteMetrics, UNMATCHED_ROUTE};
pub use upstream::{TargetMetrics, UpstreamMetrics};

use weir_wasm::{LoadedFilter, LoadedHandler};

use crate::upstream::Pool;

/// Every metric family weir exports, registered in `registry`.
pub(crate) struct Families {
    registry: Registry,
    requests: IntCounterVec,
    request_duration: HistogramVec,
    upstream_requests: IntCounterVec,
    upstream_connect_failures: IntCounterVec,
    upstream_retries: IntCounterVec,
    upstream_timeouts: IntCounterVec,
    target_healthy: IntGaugeVec,
    filter_call_duration: HistogramVec,
    filter_failures: IntCounterVec,
    filter_breaker_state: IntGaugeVec,
    filter_idle_instances: IntGaugeVec,
    filter_in_flight: IntGaugeVec,
    filter_fast_path: IntGaugeVec,
    filter_instance_slots: IntGaugeVec,
    filter_instance_slots_in_use: IntGaugeVec,
    handler_answer_duration: HistogramVec,
    handler_failures: IntCounterVec,
    handler_breaker_state: IntGaugeVec,
    handler_in_flight: IntGaugeVec,
    config_generation: IntGauge,
    config_reloads: IntCounterVec,
    config_last_reload_duration: Gauge,
    /// One scrape at a time: the scrape-time gauges are reset and refilled.
    scrape: Mutex<()>,
}

/// Request durations: 0.5 ms to 30 s.
const REQUEST_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];
/// Filter calls take microseconds when healthy; deadlines are up to seconds.
const FILTER_BUCKETS: &[f64] = &[
    0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
    0.1, 0.25, 0.5, 1.0,
];

static FAMILIES: LazyLock<Families> = LazyLock::new(Families::new);

pub(crate) fn families() -> &'static Families {
    &FAMILIES
}

fn counter(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntCounterVec {
    let vec = IntCounterVec::new(Opts::new(name, help), labels).expect("valid metric");
    registry
        .register(Box::new(vec.clone()))
        .expect("unique metric");
    vec
}

fn gauge(registry: &Registry, name: &str, help: &str, labels: &[&str]) -> IntGaugeVec {
    let vec = IntGaugeVec::new(Opts::new(name, help), labels).expect("valid metric");
    registry
        .register(Box::new(vec.clone()))
        .expect("unique metric");
    vec
}

fn histogram(
    registry: &Registry,
    name: &str,
    help: &str,
    labels: &[&str],
    buckets: &[f64],
) -> HistogramVec {
    let opts = HistogramOpts::new(name, help).buckets(buckets.to_vec());
    let vec = HistogramVec::new(opts, labels).expect("valid metric");
    registry
        .register(Box::new(vec.clone()))
        .expect("unique metric");
    vec
}

impl Families {
    fn new() -> Self {
        let r = Registry::new();
        let target = &["upstream", "target"];
        let config_generation =
            IntGauge::new("weir_config_generation", "The config generation serving.")
                .expect("valid metric");
        r.register(Box::new(config_generation.clone()))
            .expect("unique metric");
        let config_last_reload_duration = Gauge::new(
            "weir_config_last_reload_duration_seconds",
            "How long the last reload attempt took (successful or not).",
        )
        .expect("valid metric");
        r.register(Box::new(config_last_reload_duration.clone()))
            .expect("unique metric");
        let config_reloads = counter(
            &r,
            "weir_config_reloads_total",
            "Reload attempts by result (success, failure).",
            &["result"],
        );
        // Both results exist from the start, so rate() sees the first one.
        for result in ["success", "failure"] {
            config_reloads.with_label_values(&[result]);
        }
        Families {
            requests: counter(
                &r,
                "weir_requests_total",
                "Requests answered, by route, method and status class (1xx..5xx; 0xx: no response).",
                &["route", "method", "status_class"],
            ),
            request_duration: histogram(
                &r,
                "weir_request_duration_seconds",
                "Time from the request's arrival to its end, by route.",
                &["route"],
                REQUEST_BUCKETS,
            ),
            upstream_requests: counter(
                &r,
                "weir_upstream_requests_total",
                "Attempts sent to an upstream target (retries included).",
                target,
            ),
            upstream_connect_failures: counter(
                &r,
                "weir_upstream_connect_failures_total",
                "Attempts that could not connect to the target.",
                target,
            ),
            upstream_retries: counter(
                &r,
                "weir_upstream_retries_total",
                "Failed attempts at this target that weir retried.",
                target,
            ),
            upstream_timeouts: counter(
                &r,
                "weir_upstream_timeouts_total",
                "Attempts that timed out (connect, read or write).",
                target,
            ),
            target_healthy: gauge(
                &r,
                "weir_upstream_target_healthy",
                "1 when the target takes traffic (active checks pass, not ejected), else 0.",
                target,
            ),
            filter_call_duration: histogram(
                &r,
                "weir_filter_call_duration_seconds",
                "Duration of one call into a filter, by filter and phase.",
                &["filter", "phase"],
                FILTER_BUCKETS,
            ),
            filter_failures: counter(
                &r,
                "weir_filter_failures_total",
                "Filter calls that failed or were refused, by filter, phase and kind.",
                &["filter", "phase", "kind"],
            ),
            filter_breaker_state: gauge(
                &r,
                "weir_filter_circuit_breaker_state",
                "The filter's circuit breaker: 0 closed, 1 half-open, 2 open.",
                &["filter"],
            ),
            filter_idle_instances: gauge(
                &r,
                "weir_filter_idle_instances",
                "Warm instances in the filter's pool, ready for a request.",
                &["filter"],
            ),
            filter_in_flight: gauge(
                &r,
                "weir_filter_calls_in_flight",
                "Calls into the filter running now.",
                &["filter"],
            ),
            filter_fast_path: gauge(
                &r,
                "weir_filter_fast_path",
                "1 while the filter's calls take the fast path (on the worker thread), 0 on the async path.",
                &["filter"],
            ),
            filter_instance_slots: gauge(
                &r,
                "weir_filter_instance_slots",
                "Filter and handler instances that may exist at once, all together (server.max_filter_instances).",
                &[],
            ),
            filter_instance_slots_in_use: gauge(
                &r,
                "weir_filter_instance_slots_in_use",
                "Filter and handler instances that exist now: checked out by requests in flight, idle in a filter's pool, or serving a handler's request.",
                &[],
            ),
            handler_answer_duration: histogram(
                &r,
                "weir_handler_answer_duration_seconds",
                "Time from a request reaching its handler (a fresh instance included) to the handler's response head, by handler.",
                &["handler"],
                FILTER_BUCKETS,
            ),
            handler_failures: counter(
                &r,
                "weir_handler_failures_total",
                "Handler requests that failed or were refused, by handler and kind.",
                &["handler", "kind"],
            ),
            handler_breaker_state: gauge(
                &r,
                "weir_handler_circuit_breaker_state",
                "The handler's circuit breaker: 0 closed, 1 half-open, 2 open.",
                &["handler"],
            ),
            handler_in_flight: gauge(
                &r,
                "weir_handler_requests_in_flight",
                "Requests the handler is serving now, each on its own instance.",
                &["handler"],
            ),
            config_generation,
            config_reloads,
            config_last_reload_duration,
            scrape: Mutex::new(()),
            registry: r,
        }
    }
}

/// Whether `config` asks for metrics: an admin listener to serve them, and
/// `admin.metrics` not turned off. Off, every handle is a no-op.
pub fn enabled(config: &weir_config::Config) -> bool {
    config.admin.as_ref().is_some_and(|a| a.metrics)
}

/// Records a reload attempt.
pub fn record_reload(ok: bool, took: Duration) {
    let f = families();
    f.config_reloads
        .with_label_values(&[if ok { "success" } else { "failure" }])
        .inc();
    f.config_last_reload_duration.set(took.as_secs_f64());
}

/// Drops a route's label sets: a reload removed it, so its series stay
/// bounded by the config. In-flight requests of the old generation still
/// count into the detached children; those few counts are not exported.
pub fn retire_route(route: &str) {
    request::remove(families(), route);
}

/// Drops an upstream target's label sets (see `retire_route`).
pub fn retire_target(upstream: &str, target: &str) {
    upstream::remove(families(), upstream, target);
}

/// Drops a filter's label sets (see `retire_route`).
pub fn retire_filter(filter: &str) {
    filter::remove(families(), filter);
}

/// Drops a handler's label sets (see `retire_route`).
pub fn retire_handler(handler: &str) {
    handler::remove(families(), handler);
}

/// The Prometheus text exposition of every metric, the gauges that mirror
/// state kept elsewhere refreshed from the running generation's pools,
/// filters and handlers.
pub fn scrape(
    generation: u64,
    pools: &HashMap<String, Arc<Pool>>,
    filters: &HashMap<String, Arc<LoadedFilter>>,
    handlers: &HashMap<String, Arc<LoadedHandler>>,
) -> String {
    let f = families();
    let _one = f.scrape.lock().unwrap_or_else(|e| e.into_inner());
    f.config_generation.set(generation as i64);
    upstream::refresh(f, pools.iter());
    filter::refresh(f, filters);
    handler::refresh(f, handlers);
    refresh_instance_slots(f, filters, handlers);
    let mut text = String::new();
    if let Err(e) = TextEncoder::new().encode_utf8(&f.registry.gather(), &mut text) {
        tracing::error!("cannot encode the metrics: {e}");
    }
    text
}

/// The instance slots belong to the host that filters and handlers share:
/// any of them tells.
fn refresh_instance_slots(
    f: &Families,
    filters: &HashMap<String, Arc<LoadedFilter>>,
    handlers: &HashMap<String, Arc<LoadedHandler>>,
) {
    f.filter_instance_slots.reset();
    f.filter_instance_slots_in_use.reset();
    let slots = filters
        .values()
        .next()
        .map(|f| f.instance_slots())
        .or_else(|| handlers.values().next().map(|h| h.instance_slots()));
    if let Some((in_use, slots)) = slots {
        f.filter_instance_slots
            .with_label_values::<&str>(&[])
            .set(i64::from(slots));
        f.filter_instance_slots_in_use
            .with_label_values::<&str>(&[])
            .set(in_use as i64);
    }
}

/// The exposition format's content type.
pub fn content_type() -> String {
    TextEncoder::new().format_type().to_owned()
}
