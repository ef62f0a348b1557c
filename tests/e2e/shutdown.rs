//! SIGTERM: in-flight requests finish, then weir exits; with nothing in
//! flight it exits at once instead of waiting the whole grace period.

use std::time::{Duration, Instant};

use weir_tests::{Gateway, Upstream, client, wait_until};

use crate::config;

/// A proxy route to `up`; the harness's grace period is 5 s.
fn gateway(up: &Upstream) -> Gateway {
    Gateway::start(&config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: svc\n",
        up.address()
    )))
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_in_flight_requests_finish_then_exits_before_the_grace_period() {
    let up = Upstream::start("svc").await;
    let mut gw = gateway(&up);
    let url = gw.url("/slow?ms=1500");
    let started = Instant::now();
    let in_flight = tokio::spawn(async move { client().get(url).send().await.map(|r| r.status()) });
    wait_until(
        Duration::from_secs(10),
        "the slow request to reach the upstream",
        || up.hits() == 1,
    );
    gw.terminate();
    let status = in_flight
        .await
        .unwrap()
        .expect("the in-flight request completes");
    assert_eq!(status, 200);
    let exit = tokio::task::block_in_place(|| gw.wait_exit(Duration::from_secs(20)));
    let took = started.elapsed();
    assert!(exit.success(), "weir exited with {exit}");
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_millis(4500),
        "exit {took:?} after the request started: after it, before the grace period"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_with_nothing_in_flight_exits_at_once() {
    let up = Upstream::start("svc").await;
    let mut gw = gateway(&up);
    assert_eq!(
        client().get(gw.url("/")).send().await.unwrap().status(),
        200
    );
    let sent = Instant::now();
    gw.terminate();
    let exit = tokio::task::block_in_place(|| gw.wait_exit(Duration::from_secs(20)));
    let took = sent.elapsed();
    assert!(exit.success(), "weir exited with {exit}");
    assert!(
        took < Duration::from_millis(2500),
        "idle weir took {took:?} to exit (grace period 5s)"
    );
}
