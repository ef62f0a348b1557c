//! SIGTERM: in-flight requests finish, then weir exits.

use std::time::Duration;

use weir_tests::{Gateway, Upstream, client, wait_until};

use crate::config;

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_lets_in_flight_requests_finish() {
    let up = Upstream::start("svc").await;
    let mut gw = Gateway::start(&config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: svc\n",
        up.address()
    )));
    let url = gw.url("/slow?ms=1500");
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
    assert!(exit.success(), "weir exited with {exit}");
}
