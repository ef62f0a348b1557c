//! Admin views of live state: `GET /admin/upstreams` (per upstream: targets,
//! health, in-flight requests), `GET /ready` (readiness: 200 while serving,
//! 503 once draining for a shutdown or upgrade) and `GET /live` (liveness:
//! 200 whenever the process answers at all).

use http::StatusCode;
use serde_json::{Value, json};

use crate::observe::metrics;
use crate::snapshot::Snapshot;
use crate::upstream::Pool;

/// Every pool of the running generation, by name.
pub fn upstreams(snapshot: &Snapshot) -> Value {
    let mut names: Vec<&String> = snapshot.pools.keys().collect();
    names.sort();
    let upstreams: serde_json::Map<String, Value> = names
        .into_iter()
        .map(|name| (name.clone(), pool(&snapshot.pools[name])))
        .collect();
    json!({ "generation": snapshot.generation, "upstreams": upstreams })
}

fn pool(pool: &Pool) -> Value {
    let definition = &pool.definition;
    let targets: Vec<Value> = pool
        .targets
        .iter()
        .map(|t| {
            let healthy = t.is_healthy();
            let available = t.is_available();
            json!({
                "address": t.address,
                "resolved": t.socket_addr.to_string(),
                "weight": t.weight,
                // Active checks' verdict; `ejected`: passive health took it out.
                "healthy": healthy,
                "ejected": healthy && !available,
                "available": available,
                "in_flight": t.in_flight(),
            })
        })
        .collect();
    json!({
        "balance": format!("{:?}", definition.balance),
        "health_check": definition.health_check.as_ref().map(|h| h.path.as_str()),
        "passive_health": definition.passive_health.is_some(),
        "available_targets": pool.targets.iter().filter(|t| t.is_available()).count(),
        "in_flight": pool.targets.iter().map(|t| t.in_flight()).sum::<usize>(),
        "targets": targets,
    })
}

/// Readiness for load balancers and orchestrators: the admin listener only
/// runs once the first config generation serves, so the answer is 200 until
/// weir starts draining (SIGTERM, or an upgrade handing its sockets over),
/// then 503 so that traffic moves elsewhere while in-flight requests finish.
/// `GET /admin/handlers`: each handler's module, limits, requests in
/// flight, failures, circuit breaker and grants.
pub fn handlers(snapshot: &Snapshot) -> Value {
    let handlers: serde_json::Map<String, Value> = snapshot
        .handlers
        .iter()
        .collect::<std::collections::BTreeMap<_, _>>()
        .into_iter()
        .map(|(name, handler)| {
            let gate = handler.gate_stats();
            let spec = handler.spec();
            let value = json!({
                "module": spec.module,
                "module_sha256": handler.module_digest(),
                "in_flight": gate.in_flight,
                "max_concurrent_requests": spec.limits.max_concurrent_requests,
                "deadline_ms": spec.limits.deadline.as_millis() as u64,
                "stream_timeout_ms": spec.limits.stream_timeout.as_millis() as u64,
                "requests": gate.calls,
                "failures": gate.failures,
                "refused": {
                    "circuit_open": gate.refused_open,
                    "overloaded": gate.refused_overloaded,
                },
                "circuit_breaker": {
                    "state": gate.breaker.as_str(),
                    "trips": gate.trips,
                    "enabled": spec.circuit_breaker.enabled,
                },
                "grants": grants(&spec.capabilities),
            });
            (name.clone(), value)
        })
        .collect();
    json!({ "generation": snapshot.generation, "handlers": handlers })
}

/// What a filter or handler was granted, by name (never secret values).
pub(super) fn grants(capabilities: &weir_wasm::Capabilities) -> Value {
    json!({
        "key_value": capabilities.key_value.as_ref().map(|m| m.keys().collect::<Vec<_>>()),
        "secrets": capabilities.secrets.as_ref().map(|m| m.keys().collect::<Vec<_>>()),
        "http": capabilities.http.as_ref().map(|h| {
            h.allow.iter().map(|o| o.to_string()).collect::<Vec<_>>()
        }),
        "files": capabilities.files.as_ref().map(|f| &f.mount),
    })
}

pub fn ready(snapshot: &Snapshot) -> (StatusCode, Value) {
    let draining = crate::lifecycle::is_draining();
    let status = if draining {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    (
        status,
        json!({
            "ready": !draining,
            "draining": draining,
            "generation": snapshot.generation,
            "in_flight": crate::lifecycle::in_flight(),
        }),
    )
}

/// Liveness: the process answers. Unlike readiness it stays 200 while
/// draining; restarting a draining weir would cut its in-flight requests.
pub fn live() -> (StatusCode, Value) {
    (
        StatusCode::OK,
        json!({ "live": true, "pid": std::process::id() }),
    )
}

/// The answer to `GET /metrics`: the running generation's scrape.
pub(super) fn metrics(snapshot: &Snapshot) -> http::Response<Vec<u8>> {
    if !metrics::enabled(&snapshot.config) {
        let body = b"metrics are off (admin.metrics: false)\n".to_vec();
        return http::Response::builder()
            .status(http::StatusCode::NOT_FOUND)
            .header("content-type", "text/plain")
            .header("content-length", body.len())
            .body(body)
            .expect("static response parts");
    }
    let body = metrics::scrape(
        snapshot.generation,
        &snapshot.pools,
        &snapshot.filters,
        &snapshot.handlers,
    )
    .into_bytes();
    http::Response::builder()
        .status(http::StatusCode::OK)
        .header("content-type", metrics::content_type())
        .header("content-length", body.len())
        .body(body)
        .expect("static response parts")
}
