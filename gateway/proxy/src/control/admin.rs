//! The admin listener (loopback by default): `GET /admin/config` shows the
//! running generation and the last failed reload; `GET /admin/filters` each
//! filter's module, instances, calls, failures and circuit breaker;
//! `GET /admin/handlers` each handler's module, requests in flight,
//! failures and circuit breaker (admin_views.rs);
//! `POST /admin/reload` reloads now and answers with the outcome;
//! `GET /metrics` the Prometheus metrics (metrics/); `GET /admin/upstreams`,
//! `GET /ready` and `GET /live` (admin_views.rs).

use std::sync::Arc;

use async_trait::async_trait;
use http::{Response, StatusCode};
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use pingora::services::listening::Service;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use super::admin_views;
use super::reload::{ReloadRequest, ReloadState, Trigger, unix_ms};
use crate::snapshot::SnapshotStore;

pub struct AdminApp {
    snapshots: Arc<SnapshotStore>,
    state: Arc<ReloadState>,
    reloads: mpsc::Sender<ReloadRequest>,
}

impl AdminApp {
    pub fn new(
        snapshots: Arc<SnapshotStore>,
        state: Arc<ReloadState>,
        reloads: mpsc::Sender<ReloadRequest>,
    ) -> Self {
        AdminApp {
            snapshots,
            state,
            reloads,
        }
    }

    pub fn service(self, address: &str) -> Service<AdminApp> {
        let mut service = Service::new("weir admin".to_owned(), self);
        service.add_tcp(address);
        service
    }

    fn config_status(&self) -> serde_json::Value {
        let snapshot = self.snapshots.load();
        json!({
            "generation": snapshot.generation,
            "content_hash": snapshot.content_hash,
            // Tells the old process from the new one during an upgrade.
            "pid": std::process::id(),
            "warnings": snapshot.config.warnings,
            "certificates": snapshot
                .certificates
                .iter()
                .map(|(listener, certs)| (listener.clone(), certs.describe()))
                .collect::<std::collections::BTreeMap<_, _>>(),
            "loaded_at_unix_ms": unix_ms(snapshot.loaded_at),
            "routes": snapshot.routes.len(),
            "upstreams": snapshot.pools.len(),
            "filters": snapshot.filters.len(),
            "restart_required": *self.state.restart_required.lock().expect("state lock"),
            "last_failure": *self.state.last_failure.lock().expect("state lock"),
        })
    }

    fn filters_status(&self) -> serde_json::Value {
        let snapshot = self.snapshots.load();
        let mut names: Vec<&String> = snapshot.filters.keys().collect();
        names.sort();
        let filters: serde_json::Map<String, serde_json::Value> = names
            .into_iter()
            .map(|name| {
                let filter = &snapshot.filters[name];
                let gate = filter.gate_stats();
                let spec = filter.spec();
                let value = json!({
                    "module": spec.module,
                    "module_sha256": filter.module_digest(),
                    "idle_instances": filter.idle_instances(),
                    "call_path": if filter.on_fast_path() { "fast" } else { "async" },
                    "in_flight": gate.in_flight,
                    "max_concurrent_calls": spec.limits.max_concurrent_calls,
                    "calls": gate.calls,
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
                    "grants": admin_views::grants(&spec.capabilities),
                });
                (name.clone(), value)
            })
            .collect();
        json!({ "generation": snapshot.generation, "filters": filters })
    }

    async fn reload(&self) -> (StatusCode, serde_json::Value) {
        let (reply, outcome) = oneshot::channel();
        let request = ReloadRequest {
            trigger: Trigger::Admin,
            reply: Some(reply),
        };
        if self.reloads.send(request).await.is_err() {
            return (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "error": "the reloader is not running" }),
            );
        }
        match outcome.await {
            Ok(outcome) if outcome.ok => (StatusCode::OK, json!(outcome)),
            Ok(outcome) => (StatusCode::UNPROCESSABLE_ENTITY, json!(outcome)),
            Err(_) => (
                StatusCode::SERVICE_UNAVAILABLE,
                json!({ "error": "the reloader stopped" }),
            ),
        }
    }
}

#[async_trait]
impl ServeHttp for AdminApp {
    async fn response(&self, session: &mut ServerSession) -> Response<Vec<u8>> {
        let req = session.req_header();
        if req.uri.path() == "/metrics" && matches!(req.method.as_str(), "GET" | "HEAD") {
            return admin_views::metrics(&self.snapshots.load());
        }
        let (status, body) = match (req.method.as_str(), req.uri.path()) {
            ("GET", "/admin/config") => (StatusCode::OK, self.config_status()),
            ("GET", "/admin/filters") => (StatusCode::OK, self.filters_status()),
            ("GET", "/admin/handlers") => (
                StatusCode::OK,
                admin_views::handlers(&self.snapshots.load()),
            ),
            ("GET", "/admin/upstreams") => (
                StatusCode::OK,
                admin_views::upstreams(&self.snapshots.load()),
            ),
            ("GET" | "HEAD", "/ready") => admin_views::ready(&self.snapshots.load()),
            ("GET" | "HEAD", "/live") => admin_views::live(),
            ("POST", "/admin/reload") => self.reload().await,
            (
                _,
                "/admin/config" | "/admin/filters" | "/admin/handlers" | "/admin/reload"
                | "/admin/upstreams" | "/ready" | "/live",
            ) => (
                StatusCode::METHOD_NOT_ALLOWED,
                json!({ "error": "method not allowed" }),
            ),
            _ => (
                StatusCode::NOT_FOUND,
                json!({ "error": "no such admin endpoint" }),
            ),
        };
        let body = body.to_string().into_bytes();
        Response::builder()
            .status(status)
            .header("content-type", "application/json")
            .header("content-length", body.len())
            .body(body)
            .expect("static response parts")
    }
}
