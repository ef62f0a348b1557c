//! W3C trace context and OTLP/HTTP span export: a real OTLP receiver (axum,
//! protobuf decoded with opentelemetry-proto) gets weir's spans; the real
//! upstream shows the `traceparent` it was sent.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::routing::post;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value::Value;
use opentelemetry_proto::tonic::trace::v1::Span;
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use prost::Message;
use tokio::sync::watch;
use weir_tests::{Gateway, Upstream, client, filters};

use crate::config;

/// An OTLP/HTTP receiver on an ephemeral port, keeping every span.
struct Receiver {
    port: u16,
    spans: Arc<Mutex<Vec<Span>>>,
    count: watch::Receiver<usize>,
}

impl Receiver {
    async fn start() -> Receiver {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let (tx, count) = watch::channel(0);
        let state = (spans.clone(), Arc::new(tx));
        let app = Router::new()
            .route("/v1/traces", post(receive))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Receiver { port, spans, count }
    }

    /// Waits (bounded) until `ready` holds over the spans received so far.
    async fn wait_for(&mut self, what: &str, ready: impl Fn(&[Span]) -> bool) -> Vec<Span> {
        let spans = self.spans.clone();
        let waited = tokio::time::timeout(
            Duration::from_secs(10),
            self.count.wait_for(|_| ready(&spans.lock().unwrap())),
        )
        .await;
        let got = self.spans.lock().unwrap().clone();
        assert!(waited.is_ok(), "timed out waiting for {what}; got {got:#?}");
        got
    }
}

type Shared = (Arc<Mutex<Vec<Span>>>, Arc<watch::Sender<usize>>);

async fn receive(State((spans, tx)): State<Shared>, body: Bytes) -> Vec<u8> {
    let request = ExportTraceServiceRequest::decode(body).expect("OTLP protobuf");
    let mut all = spans.lock().unwrap();
    for resource in request.resource_spans {
        for scope in resource.scope_spans {
            all.extend(scope.spans);
        }
    }
    let count = all.len();
    // Unlocked first: the waiter locks `spans` while holding the watch.
    drop(all);
    tx.send_replace(count);
    // An empty ExportTraceServiceResponse.
    Vec::new()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn attr(span: &Span, key: &str) -> Option<String> {
    let value = span.attributes.iter().find(|kv| kv.key == key)?;
    match value.value.as_ref()?.value.as_ref()? {
        Value::StringValue(s) => Some(s.clone()),
        Value::IntValue(i) => Some(i.to_string()),
        other => Some(format!("{other:?}")),
    }
}

/// Gateway with one upstream and a `test-context` filter that copies the
/// `trace_id` context key into `x-trace-id` (request and response).
fn gateway(up: &Upstream, otlp_port: u16) -> Gateway {
    Gateway::start(&config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\n\
         filters:\n  reader:\n    module: {}\n    config: {{ mode: get, key: trace_id, to_header: x-trace-id }}\n\
         routes:\n  - name: api\n    match: {{ path: {{ prefix: / }} }}\n    upstream: svc\n    filters: [reader]\n\
         tracing:\n  service_name: weir-e2e\n  otlp:\n    endpoint: http://127.0.0.1:{otlp_port}\n    export_interval: 50ms\n    timeout: 2s\n",
        up.address(),
        filters::TEST_CONTEXT,
    )))
}

/// The upstream's view of a request: its `traceparent` split into parts.
async fn sent_upstream(resp: reqwest::Response) -> (String, String, String) {
    assert_eq!(resp.status(), 200);
    let body: serde_json::Value = resp.json().await.unwrap();
    let headers = &body["headers"];
    let traceparent = headers["traceparent"][0]
        .as_str()
        .expect("traceparent sent");
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    assert_eq!(parts[0], "00");
    (parts[1].into(), parts[2].into(), parts[3].into())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_trace_is_exported_with_a_span_per_filter_phase() {
    let mut otlp = Receiver::start().await;
    let up = Upstream::start("svc").await;
    let gw = gateway(&up, otlp.port);

    let resp = client().get(gw.url("/hello")).send().await.unwrap();
    let seen_by_filter = resp.headers()["x-trace-id"].to_str().unwrap().to_owned();
    let (trace_id, parent, flags) = sent_upstream(resp).await;
    assert_eq!(seen_by_filter, trace_id, "filters read the trace id");
    assert_eq!(trace_id.len(), 32);
    assert_eq!(flags, "01", "recorded, so sampled");

    let spans = otlp
        .wait_for("the request span and 2 filter spans", |s| s.len() >= 3)
        .await;
    let server = spans
        .iter()
        .find(|s| s.kind == SpanKind::Server as i32)
        .expect("a server span");
    assert_eq!(hex(&server.trace_id), trace_id);
    assert_eq!(
        hex(&server.span_id),
        parent,
        "upstream's parent is weir's span"
    );
    assert!(
        server.parent_span_id.is_empty(),
        "a new trace has no parent"
    );
    assert_eq!(server.name, "GET api");
    assert_eq!(attr(server, "http.request.method").unwrap(), "GET");
    assert_eq!(attr(server, "http.route").unwrap(), "api");
    assert_eq!(attr(server, "url.path").unwrap(), "/hello");
    assert_eq!(attr(server, "http.response.status_code").unwrap(), "200");

    let mut phases: Vec<String> = spans
        .iter()
        .filter(|s| s.kind == SpanKind::Internal as i32)
        .map(|s| {
            assert_eq!(s.trace_id, server.trace_id);
            assert_eq!(
                s.parent_span_id, server.span_id,
                "child of the request span"
            );
            assert_eq!(attr(s, "weir.filter.name").unwrap(), "reader");
            assert_eq!(attr(s, "weir.filter.outcome").unwrap(), "ok");
            attr(s, "weir.filter.phase").unwrap()
        })
        .collect();
    phases.sort();
    assert_eq!(phases, ["request_headers", "response_headers"]);
}

/// weir's trace entries in the context bag are written only when a filter
/// asks for one: what it reads is what the upstream is sent, with tracing
/// export off too.
#[tokio::test(flavor = "multi_thread")]
async fn a_filter_reads_the_traceparent_weir_sends_upstream() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\n\
         filters:\n  reader:\n    module: {}\n    config: {{ mode: get, key: traceparent, to_header: x-context-traceparent }}\n\
         routes:\n  - name: api\n    match: {{ path: {{ prefix: / }} }}\n    upstream: svc\n    filters: [reader]\n",
        up.address(),
        filters::TEST_CONTEXT,
    )));
    let client_trace = "0af7651916cd43dd8448eb211c80319c";
    for continued in [false, true] {
        let mut request = client().get(gw.url("/hello"));
        if continued {
            request = request.header(
                "traceparent",
                format!("00-{client_trace}-b7ad6b7169203331-01"),
            );
        }
        let resp = request.send().await.unwrap();
        let seen_by_filter = resp.headers()["x-context-traceparent"]
            .to_str()
            .unwrap()
            .to_owned();
        let (trace_id, parent, flags) = sent_upstream(resp).await;
        assert_eq!(seen_by_filter, format!("00-{trace_id}-{parent}-{flags}"));
        assert_eq!(continued, trace_id == client_trace, "{seen_by_filter}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_trace_is_continued_and_an_invalid_one_replaced() {
    let mut otlp = Receiver::start().await;
    let up = Upstream::start("svc").await;
    let gw = gateway(&up, otlp.port);
    let client_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let client_span = "00f067aa0ba902b7";

    let resp = client()
        .get(gw.url("/continued"))
        .header("traceparent", format!("00-{client_trace}-{client_span}-01"))
        .header("tracestate", "vendor=abc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-trace-id"], client_trace);
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(body["headers"]["tracestate"][0], "vendor=abc");
    let traceparent = body["headers"]["traceparent"][0].as_str().unwrap();
    assert!(traceparent.starts_with(&format!("00-{client_trace}-")));
    assert!(
        !traceparent.contains(client_span),
        "weir's span is the parent"
    );

    // Upper-case hex is invalid: ignored, and a new trace started.
    let upper = client_trace.to_uppercase();
    let resp = client()
        .get(gw.url("/invalid"))
        .header("traceparent", format!("00-{upper}-{client_span}-01"))
        .send()
        .await
        .unwrap();
    let (new_trace, _, _) = sent_upstream(resp).await;
    assert_ne!(new_trace, client_trace);

    let spans = otlp
        .wait_for("both request spans", |s| {
            s.iter()
                .filter(|s| s.kind == SpanKind::Server as i32)
                .count()
                >= 2
        })
        .await;
    let server = |path: &str| {
        spans
            .iter()
            .find(|s| attr(s, "url.path").as_deref() == Some(path))
            .unwrap_or_else(|| panic!("no span for {path}"))
            .clone()
    };
    let continued = server("/continued");
    assert_eq!(hex(&continued.trace_id), client_trace);
    assert_eq!(hex(&continued.parent_span_id), client_span);
    let fresh = server("/invalid");
    assert_eq!(hex(&fresh.trace_id), new_trace);
    assert!(fresh.parent_span_id.is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hung_collector_never_delays_or_fails_a_request() {
    // Accepts connections (the kernel's backlog) but never answers: every
    // export waits out its 30s timeout while requests keep coming.
    let hung = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let hung_port = hung.local_addr().unwrap().port();
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\n\
         routes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: svc\n\
         tracing:\n  otlp:\n    endpoint: http://127.0.0.1:{hung_port}\n    export_interval: 10ms\n    timeout: 30s\n    max_queue_size: 2\n",
        up.address(),
    )));
    let c = client();
    for i in 0..40 {
        let resp = tokio::time::timeout(Duration::from_secs(5), c.get(gw.url("/")).send())
            .await
            .unwrap_or_else(|_| panic!("request {i} waited on the collector"))
            .unwrap();
        // Trace context works without the collector.
        let (trace_id, _, _) = sent_upstream(resp).await;
        assert_eq!(trace_id.len(), 32);
    }
    drop(hung);
}

#[tokio::test(flavor = "multi_thread")]
async fn sampling_follows_the_ratio_and_the_clients_flag() {
    let mut otlp = Receiver::start().await;
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\n\
         routes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: svc\n\
         tracing:\n  otlp:\n    endpoint: http://127.0.0.1:{}/v1/traces\n    export_interval: 50ms\n    sample_ratio: 0\n",
        up.address(),
        otlp.port,
    )));
    // A trace weir starts is not recorded at ratio 0, and says so upstream.
    let resp = client().get(gw.url("/new")).send().await.unwrap();
    let (_, _, flags) = sent_upstream(resp).await;
    assert_eq!(flags, "00");
    // A client's unsampled trace stays unsampled; its sampled one is recorded.
    let unsampled = "11111111111111111111111111111111";
    let sampled = "22222222222222222222222222222222";
    for (trace, flags) in [(unsampled, "00"), (sampled, "01")] {
        let resp = client()
            .get(gw.url("/client"))
            .header(
                "traceparent",
                format!("00-{trace}-00f067aa0ba902b7-{flags}"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(sent_upstream(resp).await.2, flags);
    }
    // Spans are queued in order: once the sampled one arrived, an earlier
    // recorded one would have too.
    let spans = otlp.wait_for("the sampled trace", |s| !s.is_empty()).await;
    let traces: Vec<String> = spans.iter().map(|s| hex(&s.trace_id)).collect();
    assert_eq!(traces, [sampled]);
}
