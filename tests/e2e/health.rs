//! Active health checks eject a dead target and readmit it when it returns;
//! passive ejection after consecutive failures.

use std::time::Duration;

use weir_tests::{Gateway, Upstream, client};

use crate::{config, upstream_of};

/// Two targets with fast active checks and no retries: only the health
/// checker can keep requests away from a dead target.
fn checked_pool(a: &Upstream, b: &Upstream) -> String {
    config(&format!(
        "upstreams:\n  pool:\n    targets: [{{ address: {} }}, {{ address: {} }}]\n    health_check: {{ path: /healthz, interval: 50ms, timeout: 500ms, unhealthy_threshold: 1, healthy_threshold: 1 }}\n    retries: {{ count: 0 }}\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: pool\n",
        a.address(),
        b.address()
    ))
}

/// Sends requests until `n` in a row came only from `only`, within a deadline.
async fn until_only(gw: &Gateway, only: &str, n: usize) {
    let c = client();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    let mut streak = 0;
    while streak < n {
        assert!(
            tokio::time::Instant::now() < deadline,
            "never got {n} responses in a row from {only}"
        );
        let from_only = match c.get(gw.url("/")).send().await {
            Ok(resp) if resp.status() == 200 => upstream_of(resp).await == only,
            _ => false,
        };
        streak = if from_only { streak + 1 } else { 0 };
    }
}

async fn until_seen(gw: &Gateway, name: &str) {
    let c = client();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(15);
    loop {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{name} never came back"
        );
        if let Ok(resp) = c.get(gw.url("/")).send().await
            && resp.status() == 200
            && upstream_of(resp).await == name
        {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn killed_target_is_ejected_and_readmitted() {
    let mut a = Upstream::start("a").await;
    let b = Upstream::start("b").await;
    let gw = Gateway::start(&checked_pool(&a, &b));
    until_seen(&gw, "a").await;

    a.stop().await;
    until_only(&gw, "b", 20).await;
    let logs = gw.logs();
    assert!(logs.contains("target failed health checks"), "{logs}");

    a.restart().await;
    until_seen(&gw, "a").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn failing_health_endpoint_ejects_until_it_recovers() {
    let a = Upstream::start("a").await;
    let b = Upstream::start("b").await;
    let gw = Gateway::start(&checked_pool(&a, &b));
    a.set_healthy(false);
    until_only(&gw, "b", 20).await;
    a.set_healthy(true);
    until_seen(&gw, "a").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn passive_ejection_after_consecutive_failures() {
    let live = Upstream::start("live").await;
    let dead_port = weir_tests::free_port();
    let gw = Gateway::start(&config(&format!(
        "upstreams:\n  pool:\n    targets: [{{ address: 127.0.0.1:{dead_port} }}, {{ address: {} }}]\n    passive_health: {{ max_failures: 2, ejection_time: 60s }}\n    retries: {{ count: 0 }}\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: pool\n",
        live.address()
    )));
    let c = client();
    let mut failures = 0;
    for _ in 0..20 {
        let resp = c.get(gw.url("/")).send().await.unwrap();
        if resp.status() == 502 {
            failures += 1;
        }
    }
    // Round robin sends every other request to the dead target until two
    // failures in a row on it eject it; after that only the live one serves.
    assert_eq!(
        failures, 2,
        "dead target should fail exactly max_failures times"
    );
    assert!(
        gw.logs()
            .contains("target ejected after consecutive failures")
    );
}
