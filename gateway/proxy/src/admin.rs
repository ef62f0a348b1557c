//! The admin listener (loopback by default): `GET /admin/config` shows the
//! running generation and the last failed reload; `POST /admin/reload`
//! reloads now and answers with the outcome.

use std::sync::Arc;

use async_trait::async_trait;
use http::{Response, StatusCode};
use pingora::apps::http_app::ServeHttp;
use pingora::protocols::http::ServerSession;
use pingora::services::listening::Service;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};

use crate::reload::{ReloadRequest, ReloadState, Trigger, unix_ms};
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
            "loaded_at_unix_ms": unix_ms(snapshot.loaded_at),
            "routes": snapshot.routes.len(),
            "upstreams": snapshot.pools.len(),
            "filters": snapshot.filters.len(),
            "restart_required": *self.state.restart_required.lock().expect("state lock"),
            "last_failure": *self.state.last_failure.lock().expect("state lock"),
        })
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
        let (status, body) = match (req.method.as_str(), req.uri.path()) {
            ("GET", "/admin/config") => (StatusCode::OK, self.config_status()),
            ("POST", "/admin/reload") => self.reload().await,
            (_, "/admin/config" | "/admin/reload") => (
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
