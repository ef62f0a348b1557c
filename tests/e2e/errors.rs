//! Errors a client sees (ARCHITECTURE §7) and retries on connect failure.

use std::time::Duration;

use weir_tests::{Gateway, Upstream, client, free_port};

use crate::config;

async fn json_error(resp: reqwest::Response, status: u16) -> serde_json::Value {
    assert_eq!(resp.status(), status);
    assert_eq!(resp.headers()["content-type"], "application/json");
    let id = resp.headers()["x-request-id"].to_str().unwrap().to_owned();
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["request_id"],
        id.as_str(),
        "body carries the request id"
    );
    assert!(body["error"].is_string());
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn no_route_is_404_json() {
    let gw = Gateway::start(&config(
        "routes:\n  - match: { path: { exact: /only } }\n    respond: { status: 200 }\n",
    ));
    let body = json_error(
        client().get(gw.url("/elsewhere")).send().await.unwrap(),
        404,
    )
    .await;
    assert_eq!(body["error"], "no route");
}

#[tokio::test(flavor = "multi_thread")]
async fn unreachable_upstream_is_502() {
    let gw = Gateway::start(&config(&format!(
        "upstreams:\n  gone:\n    targets: [{{ address: 127.0.0.1:{} }}]\n    retries: {{ count: 0 }}\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: gone\n",
        free_port()
    )));
    json_error(client().get(gw.url("/")).send().await.unwrap(), 502).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_upstream_is_504_after_read_timeout() {
    let up = Upstream::start("slow").await;
    let gw = Gateway::start(&config(&format!(
        "upstreams:\n  slow:\n    targets: [{{ address: {} }}]\n    timeouts: {{ read: 200ms }}\n    retries: {{ count: 0 }}\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: slow\n",
        up.address()
    )));
    let started = std::time::Instant::now();
    let body = json_error(
        client().get(gw.url("/slow?ms=5000")).send().await.unwrap(),
        504,
    )
    .await;
    assert_eq!(body["error"], "upstream timed out");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "504 must come at the read timeout, took {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn connect_failures_are_retried_on_another_target() {
    let live = Upstream::start("live").await;
    let dead = free_port();
    let targets = format!(
        "[{{ address: 127.0.0.1:{dead} }}, {{ address: {} }}]",
        live.address()
    );
    let with_retry = Gateway::start(&config(&format!(
        "upstreams:\n  pool:\n    targets: {targets}\n    retries: {{ count: 1 }}\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: pool\n"
    )));
    let c = client();
    for _ in 0..10 {
        // POST too: nothing was sent to the dead target, so any method may move.
        let resp = c.post(with_retry.url("/")).body("x").send().await.unwrap();
        assert_eq!(resp.status(), 200);
    }
    drop(with_retry);

    let without = Gateway::start(&config(&format!(
        "upstreams:\n  pool:\n    targets: {targets}\n    retries: {{ count: 0 }}\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: pool\n"
    )));
    let mut failed = 0;
    for _ in 0..10 {
        if c.get(without.url("/")).send().await.unwrap().status() == 502 {
            failed += 1;
        }
    }
    assert_eq!(
        failed, 5,
        "without retries, round robin lands on the dead target every other time"
    );
}
