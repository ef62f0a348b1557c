//! A real HTTP upstream for tests: axum on an ephemeral loopback port.
//!
//! Routes:
//! - `/healthz`: 200, or 503 after `set_healthy(false)`
//! - `/slow?ms=N`: answers after N ms
//! - `/ws`: WebSocket echo
//! - `/download?bytes=N`: streams N bytes
//! - `/upload`: counts the streamed request body, answers the count
//! - `/echo-body`: answers the request body as is
//! - `/fixed?bytes=N`: N bytes of `x` in one piece (`text/plain`), the same
//!   answer every time: the benchmarks' fixed-size response
//! - `/json?bytes=N`: a JSON document of exactly N bytes (`application/json`;
//!   at least about 200), with `user`, `debug` and `items` members for
//!   body transforms to edit
//! - anything else: JSON describing the request (upstream name, method, path,
//!   query, headers, body length)

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use futures_util::StreamExt;
use tokio::sync::oneshot;

#[derive(Clone)]
struct Shared {
    name: String,
    healthy: Arc<AtomicBool>,
    hits: Arc<AtomicUsize>,
    /// `/json` documents by size: built once, so the upstream's own cost
    /// stays small beside the proxies it feeds in the benchmarks.
    json_bodies: Arc<Mutex<BTreeMap<u64, Bytes>>>,
}

pub struct Upstream {
    pub name: String,
    pub addr: SocketAddr,
    shared: Shared,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Upstream {
    /// Starts on a new ephemeral port.
    pub async fn start(name: &str) -> Upstream {
        Self::start_at(name, "127.0.0.1:0").await
    }

    /// Starts on a given address (the demo's fixed port).
    pub async fn start_at(name: &str, addr: &str) -> Upstream {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .expect("binding upstream");
        let addr = listener.local_addr().expect("upstream address");
        let shared = Shared {
            name: name.to_owned(),
            healthy: Arc::new(AtomicBool::new(true)),
            hits: Arc::new(AtomicUsize::new(0)),
            json_bodies: Arc::default(),
        };
        let (stop, task) = serve(listener, shared.clone());
        Upstream {
            name: name.to_owned(),
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops accepting connections and waits until the server is gone.
    pub async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = tokio::time::timeout(Duration::from_secs(10), task).await;
        }
    }

    /// Serves again on the same port after `stop`.
    pub async fn restart(&mut self) {
        let listener = tokio::net::TcpListener::bind(self.addr)
            .await
            .expect("rebinding upstream port");
        let (stop, task) = serve(listener, self.shared.clone());
        self.stop = Some(stop);
        self.task = Some(task);
    }

    pub fn set_healthy(&self, healthy: bool) {
        self.shared.healthy.store(healthy, Ordering::SeqCst);
    }

    /// Requests served, health checks excluded.
    pub fn hits(&self) -> usize {
        self.shared.hits.load(Ordering::SeqCst)
    }

    /// `host:port` for a config file.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }
}

fn serve(
    listener: tokio::net::TcpListener,
    shared: Shared,
) -> (oneshot::Sender<()>, tokio::task::JoinHandle<()>) {
    let (stop, stopped) = oneshot::channel::<()>();
    let app = Router::new()
        .route("/healthz", get(healthz))
        .route("/slow", get(slow))
        .route("/ws", get(ws))
        .route("/download", get(download))
        .route("/upload", any(upload))
        .route("/echo-body", any(echo_body))
        .route("/fixed", get(fixed))
        .route("/json", get(json_document))
        .fallback(describe)
        .with_state(shared);
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
            .expect("upstream server");
    });
    (stop, task)
}

impl Drop for Upstream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

async fn healthz(State(s): State<Shared>) -> StatusCode {
    if s.healthy.load(Ordering::SeqCst) {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    }
}

async fn slow(State(s): State<Shared>, Query(q): Query<BTreeMap<String, u64>>) -> String {
    s.hits.fetch_add(1, Ordering::SeqCst);
    tokio::time::sleep(Duration::from_millis(q.get("ms").copied().unwrap_or(1000))).await;
    format!("slow from {}", s.name)
}

async fn ws(State(s): State<Shared>, upgrade: WebSocketUpgrade) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    upgrade.on_upgrade(|mut socket| async move {
        while let Some(Ok(msg)) = socket.recv().await {
            if socket.send(msg).await.is_err() {
                break;
            }
        }
    })
}

async fn download(State(s): State<Shared>, Query(q): Query<BTreeMap<String, u64>>) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let total = q.get("bytes").copied().unwrap_or(0);
    const CHUNK: u64 = 64 * 1024;
    let chunks = total.div_ceil(CHUNK);
    let stream = futures_util::stream::iter(0..chunks).map(move |i| {
        let len = CHUNK.min(total - i * CHUNK) as usize;
        Ok::<_, std::io::Error>(Bytes::from(vec![b'x'; len]))
    });
    Response::builder()
        .header("content-length", total.to_string())
        .body(Body::from_stream(stream))
        .expect("download response")
}

async fn upload(State(s): State<Shared>, body: Body) -> String {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let mut stream = body.into_data_stream();
    let mut total = 0u64;
    while let Some(chunk) = stream.next().await {
        total += chunk.expect("upload chunk").len() as u64;
    }
    total.to_string()
}

async fn echo_body(State(s): State<Shared>, body: Bytes) -> Bytes {
    s.hits.fetch_add(1, Ordering::SeqCst);
    body
}

async fn fixed(State(s): State<Shared>, Query(q): Query<BTreeMap<String, usize>>) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let len = q.get("bytes").copied().unwrap_or(512);
    Response::builder()
        .header("content-type", "text/plain")
        .body(Body::from(vec![b'x'; len]))
        .expect("fixed response")
}

async fn json_document(
    State(s): State<Shared>,
    Query(q): Query<BTreeMap<String, u64>>,
) -> Response {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let len = q.get("bytes").copied().unwrap_or(10 * 1024);
    let body = s
        .json_bodies
        .lock()
        .expect("json body cache")
        .entry(len)
        .or_insert_with(|| json_of_len(len))
        .clone();
    Response::builder()
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("json response")
}

/// A JSON object of exactly `len` bytes when `len` leaves room for its fixed
/// members (padded with a `pad` string), or the smallest such object.
fn json_of_len(len: u64) -> Bytes {
    let items: Vec<serde_json::Value> = (0..len / 50)
        .map(|i| serde_json::json!({ "id": i, "name": format!("item {i}"), "price": i * 3 % 97 }))
        .collect();
    let mut doc = serde_json::json!({
        "user": { "id": 42, "name": "Ada", "email": "ada@example.com" },
        "debug": { "trace": "on", "node": "upstream-1" },
        "items": items,
        "pad": "",
    });
    let mut text = doc.to_string();
    // Drop items until the padding can make up the rest.
    while text.len() as u64 > len && doc["items"].as_array().is_some_and(|a| !a.is_empty()) {
        doc["items"].as_array_mut().expect("items").pop();
        text = doc.to_string();
    }
    let pad = len.saturating_sub(text.len() as u64) as usize;
    doc["pad"] = serde_json::Value::String("x".repeat(pad));
    Bytes::from(doc.to_string())
}

async fn describe(
    State(s): State<Shared>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> impl IntoResponse {
    s.hits.fetch_add(1, Ordering::SeqCst);
    let mut h: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in &headers {
        h.entry(name.to_string())
            .or_default()
            .push(String::from_utf8_lossy(value.as_bytes()).into_owned());
    }
    let out = serde_json::json!({
        "upstream": s.name,
        "method": method.as_str(),
        "path": uri.path(),
        "query": uri.query(),
        "headers": h,
        "body_len": body.len(),
        "body": String::from_utf8_lossy(&body),
    });
    (
        [
            ("content-type", "application/json".to_owned()),
            ("x-upstream", s.name.clone()),
        ],
        out.to_string(),
    )
}
