//! Filter chains end to end: every phase and decision, onion order, the
//! shared context, limits and failure policies, with real filters built from
//! `filters/testing`.

use std::time::{Duration, Instant};

use weir_tests::{Gateway, Upstream, client, filters, wait_until};

use crate::config;

/// A `filters:` entry for the component `module` (a path from
/// `weir_tests::filters`).
fn filter(name: &str, module: &str, extra: &str) -> String {
    format!("  {name}:\n    module: {module}\n{extra}")
}

/// Config with one upstream `svc` and the given filters and routes.
fn with_filters(up: &Upstream, filters: &[String], routes: &str) -> String {
    config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\nfilters:\n{}routes:\n{routes}",
        up.address(),
        filters.concat()
    ))
}

fn route(prefix: &str, chain: &str) -> String {
    format!(
        "  - match: {{ path: {{ prefix: {prefix} }} }}\n    upstream: svc\n    filters: [{chain}]\n"
    )
}

async fn upstream_headers(resp: reqwest::Response) -> serde_json::Value {
    assert_eq!(resp.status(), 200);
    resp.json::<serde_json::Value>().await.unwrap()["headers"].clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn request_and_response_headers_in_onion_order() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&with_filters(
        &up,
        &[
            filter("a", filters::TEST_TAG, "    config: { name: a }\n"),
            filter("b", filters::TEST_TAG, "    config: { name: b }\n"),
        ],
        &route("/", "a, b"),
    ));
    let resp = client().get(gw.url("/")).send().await.unwrap();
    let resp_chain: Vec<String> = resp
        .headers()
        .get_all("x-chain-resp")
        .iter()
        .map(|v| v.to_str().unwrap().to_owned())
        .collect();
    // Responses travel back through the chain: b first, then a.
    assert_eq!(resp_chain, ["b", "a"]);
    let seen = upstream_headers(resp).await;
    assert_eq!(seen["x-chain"], serde_json::json!(["a", "b"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn global_chain_runs_before_the_route_chain() {
    let up = Upstream::start("svc").await;
    let cfg = with_filters(
        &up,
        &[
            filter("outer", filters::TEST_TAG, "    config: { name: outer }\n"),
            filter("inner", filters::TEST_TAG, "    config: { name: inner }\n"),
        ],
        &route("/", "inner"),
    )
    .replace("routes:\n", "global_filters: [outer]\nroutes:\n");
    let gw = Gateway::start(&cfg);
    let seen = upstream_headers(client().get(gw.url("/")).send().await.unwrap()).await;
    assert_eq!(seen["x-chain"], serde_json::json!(["outer", "inner"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_filter_answers_from_request_and_response_headers() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&with_filters(
        &up,
        &[filter(
            "deny",
            filters::TEST_DENY,
            "    config: { status: 401, body: denied, unless_header: x-api-key }\n",
        )],
        &route("/", "deny"),
    ));
    let c = client();
    let denied = c.get(gw.url("/")).send().await.unwrap();
    assert_eq!(denied.status(), 401);
    assert!(denied.headers().contains_key("x-request-id"));
    assert_eq!(denied.text().await.unwrap(), "denied");
    assert_eq!(
        up.hits(),
        0,
        "a request-headers answer never reaches the upstream"
    );

    let allowed = c
        .get(gw.url("/"))
        .header("x-api-key", "k")
        .send()
        .await
        .unwrap();
    assert_eq!(allowed.status(), 200);

    let replaced = c
        .get(gw.url("/"))
        .header("x-api-key", "k")
        .header("x-deny-response", "1")
        .send()
        .await
        .unwrap();
    assert_eq!(replaced.status(), 418);
    assert_eq!(replaced.text().await.unwrap(), "replaced by filter");
}

#[tokio::test(flavor = "multi_thread")]
async fn context_passes_from_one_filter_to_the_next() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&with_filters(
        &up,
        &[
            filter(
                "auth",
                filters::TEST_CONTEXT,
                "    config: { mode: set, key: subject, from_header: x-user }\n",
            ),
            filter(
                "stamp",
                filters::TEST_CONTEXT,
                "    config: { mode: get, key: subject, to_header: x-subject }\n",
            ),
        ],
        &route("/", "auth, stamp"),
    ));
    let resp = client()
        .get(gw.url("/"))
        .header("x-user", "alice")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.headers()["x-subject"], "alice");
    assert_eq!(
        upstream_headers(resp).await["x-subject"],
        serde_json::json!(["alice"])
    );
    // The bag is per request: the next request without x-user sees nothing.
    let resp = client().get(gw.url("/")).send().await.unwrap();
    assert_eq!(resp.headers()["x-subject"], "<none>");
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_are_replaced_with_framing_kept_right() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&with_filters(
        &up,
        &[filter(
            "body",
            filters::TEST_BODY,
            "    config: { prefix: \"[\", suffix: \"]\" }\n",
        )],
        &route("/", "body"),
    ));
    let c = client();
    let resp = c
        .post(gw.url("/echo-body"))
        .body("hello body")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    // The new body's length is unknown when the header goes out: chunked,
    // not a body ended by closing the connection.
    assert_eq!(resp.headers()["transfer-encoding"], "chunked");
    assert!(!resp.headers().contains_key("content-length"));
    // The request body was upper-cased on the way in, wrapped on the way out.
    assert_eq!(resp.text().await.unwrap(), "[HELLO BODY]");

    let answered = c
        .post(gw.url("/echo-body"))
        .header("x-body-respond", "1")
        .body("12345")
        .send()
        .await
        .unwrap();
    assert_eq!(answered.status(), 422);
    assert_eq!(answered.text().await.unwrap(), "got 5 bytes");

    // A request without a body passes the body phase with nothing sent
    // upstream (an empty write used to log a WARN per request).
    let get = c.get(gw.url("/echo-body")).send().await.unwrap();
    assert_eq!(get.status(), 200);
    let logs = gw.logs();
    assert!(!logs.contains("already finished"), "{logs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn log_phase_sees_the_outcome() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&with_filters(
        &up,
        &[filter("log", filters::TEST_LOG, "")],
        &route("/", "log"),
    ));
    let resp = client()
        .post(gw.url("/logged"))
        .body("abc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    wait_until(Duration::from_secs(10), "the log filter's line", || {
        gw.logs().contains("request done: status=200 req_bytes=3")
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn a_runaway_filter_is_stopped_at_its_deadline_while_others_flow() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&with_filters(
        &up,
        &[filter(
            "wild",
            filters::TEST_MISBEHAVE,
            "    limits: { call_deadline: 1s }\n",
        )],
        &format!(
            "{}  - match: {{ path: {{ prefix: /calm }} }}\n    upstream: svc\n",
            route("/wild", "wild")
        ),
    ));
    let url = gw.url("/wild");
    let started = Instant::now();
    let looping = tokio::spawn(async move {
        client()
            .get(url)
            .header("x-misbehave", "loop")
            .send()
            .await
            .unwrap()
            .status()
    });
    // While the guest spins, other requests are served.
    let c = client();
    for _ in 0..20 {
        assert_eq!(c.get(gw.url("/calm")).send().await.unwrap().status(), 200);
    }
    let status = looping.await.unwrap();
    let elapsed = started.elapsed();
    assert_eq!(status, 503);
    assert!(
        elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(5),
        "failed after {elapsed:?}"
    );
    assert!(gw.logs().contains("exceeded its call deadline"));
    // The next request gets a healthy instance.
    assert_eq!(c.get(gw.url("/wild")).send().await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn unbounded_allocation_stops_at_the_memory_cap() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&with_filters(
        &up,
        &[filter(
            "hog",
            filters::TEST_MISBEHAVE,
            "    limits: { memory: 16MiB }\n",
        )],
        &route("/", "hog"),
    ));
    let c = client();
    let rss_before = gw.rss_kib();
    let resp = c
        .get(gw.url("/"))
        .header("x-misbehave", "alloc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert!(
        gw.logs().contains("exceeded its memory limit"),
        "{}",
        gw.logs()
    );
    assert!(
        gw.rss_kib() < rss_before + 64 * 1024,
        "the cap held weir's memory"
    );
    assert_eq!(c.get(gw.url("/")).send().await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trap_fails_closed_or_open_as_configured() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&with_filters(
        &up,
        &[
            filter("closed", filters::TEST_MISBEHAVE, ""),
            filter("open", filters::TEST_MISBEHAVE, "    on_error: fail_open\n"),
        ],
        &format!("{}{}", route("/closed", "closed"), route("/open", "open")),
    ));
    let c = client();
    let closed = c
        .get(gw.url("/closed"))
        .header("x-misbehave", "trap")
        .send()
        .await
        .unwrap();
    assert_eq!(closed.status(), 503);
    let body: serde_json::Value = closed.json().await.unwrap();
    assert_eq!(body["error"], "filter \"closed\" failed");
    assert_eq!(
        c.get(gw.url("/closed")).send().await.unwrap().status(),
        200,
        "the next request succeeds"
    );

    let open = c
        .get(gw.url("/open"))
        .header("x-misbehave", "trap")
        .send()
        .await
        .unwrap();
    assert_eq!(open.status(), 200, "fail-open skips the broken filter");
    assert!(gw.logs().contains("trapped"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_header_value_with_crlf_is_refused() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&with_filters(
        &up,
        &[filter("crlf", filters::TEST_MISBEHAVE, "")],
        &route("/", "crlf"),
    ));
    let seen = upstream_headers(
        client()
            .get(gw.url("/"))
            .header("x-misbehave", "crlf")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let result = seen["x-crlf-result"][0].as_str().unwrap();
    assert!(result.starts_with("refused: "), "{result}");
    let result = seen["x-crlf-response-result"][0].as_str().unwrap();
    assert!(result.starts_with("refused: "), "{result}");
    assert!(
        seen.get("x-injected").is_none() && seen.get("x-evil").is_none(),
        "{seen}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn response_edits_from_the_request_are_refused_once_the_response_is_out() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&with_filters(
        &up,
        &[filter("late", filters::TEST_MISBEHAVE, "")],
        &route("/", "late"),
    ));
    let resp = client().get(gw.url("/")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("x-late"), None);
    // The log phase runs after the response went out.
    wait_until(Duration::from_secs(10), "the log phase", || {
        gw.logs().contains("late response edit")
    });
    let logs = gw.logs();
    assert!(
        logs.contains("late response edit refused: the response has arrived"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn header_only_chains_leave_bodies_streaming() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&with_filters(
        &up,
        &[filter(
            "tag",
            filters::TEST_TAG,
            "    config: { name: t }\n",
        )],
        &route("/", "tag"),
    ));
    let body = vec![b'z'; 2 * 1024 * 1024];
    let resp = client()
        .post(gw.url("/describe"))
        .body(body)
        .send()
        .await
        .unwrap();
    let seen: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(seen["body_len"], 2 * 1024 * 1024);
    // No body phase: the Content-Length framing went through untouched.
    assert_eq!(
        seen["headers"]["content-length"],
        serde_json::json!(["2097152"])
    );
    assert!(seen["headers"].get("transfer-encoding").is_none());
}

#[test]
fn a_filter_refusing_its_config_is_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weir.yaml");
    std::fs::write(
        &path,
        format!(
            "listeners:\n  - name: main\n    address: 127.0.0.1:1\nfilters:\n  picky:\n    module: {}\n    config: {{ reject: \"setting x must be positive\" }}\nroutes:\n  - respond: {{ status: 200 }}\n    filters: [picky]\n",
            filters::TEST_NOOP
        ),
    )
    .unwrap();
    let (ok, out) = weir_tests::weir_check(&path, false);
    assert!(!ok);
    assert!(
        out.contains("filters.picky.config (line") && out.contains("setting x must be positive"),
        "{out}"
    );
}

/// The SDK's `Config::deserialize` names the field a type error is about,
/// and says so when the filter was given no `config` at all.
#[test]
fn config_errors_name_the_field_or_the_missing_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weir.yaml");
    let check = |config: &str| {
        std::fs::write(
            &path,
            format!(
                "listeners:\n  - name: main\n    address: 127.0.0.1:1\nkey_value:\n  c:\n    memory: {{}}\n\
                 filters:\n  counter:\n    module: {}\n{config}    grants: {{ key_value: [c] }}\n\
                 routes:\n  - respond: {{ status: 200 }}\n    filters: [counter]\n",
                filters::CLIENT_COUNTER
            ),
        )
        .unwrap();
        weir_tests::weir_check(&path, false)
    };
    let (ok, out) = check("    config: { store: c, limit: five, window_secs: 60 }\n");
    assert!(!ok);
    assert!(
        out.contains("filters.counter.config (line") && out.contains("config field \"limit\""),
        "{out}"
    );
    let (ok, out) = check("");
    assert!(!ok);
    assert!(out.contains("no `config` given: missing field"), "{out}");
    let (ok, out) = check("    config: { store: c, limit: 5, window_secs: 60 }\n");
    assert!(ok, "{out}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restart_loads_compiled_filters_from_the_cache_dir() {
    let up = Upstream::start("svc").await;
    let cache = tempfile::tempdir().unwrap();
    let cfg = with_filters(
        &up,
        &[filter(
            "tag",
            filters::TEST_TAG,
            "    config: { name: cached }\n",
        )],
        &route("/", "tag"),
    )
    .replace(
        "  grace_period: 5s\n",
        &format!(
            "  grace_period: 5s\n  cache_dir: {}\n",
            cache.path().display()
        ),
    );
    let first = Gateway::start(&cfg);
    assert!(
        first.logs().contains("compiled filter component"),
        "{}",
        first.logs()
    );
    drop(first);

    let second = Gateway::start(&cfg);
    let logs = second.logs();
    assert!(
        logs.contains("loaded precompiled filter component"),
        "{logs}"
    );
    assert!(
        !logs.contains("compiled filter component module="),
        "nothing compiled again:\n{logs}"
    );
    let resp = client().get(second.url("/")).send().await.unwrap();
    assert_eq!(resp.headers()["x-chain-resp"], "cached");
}
