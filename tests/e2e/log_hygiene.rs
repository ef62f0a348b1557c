//! Log hygiene: a client closing its connection mid-request is not an ERROR;
//! SIGTERM with nothing in flight exits at once, and with a request in flight
//! still waits for it.

use std::io::Write;
use std::net::TcpStream;
use std::time::{Duration, Instant};

use weir_tests::{Gateway, Upstream, client, wait_until};

use crate::config;

fn gateway(up: &Upstream) -> Gateway {
    // grace_period is 5s (the harness's config).
    Gateway::start(&config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: svc\naccess_log:\n  path: access.log\n  fields: [request_id, status, error]\n",
        up.address()
    )))
}

/// The access-log line of `request_id`, once written.
fn logged(gw: &Gateway, request_id: &str) -> serde_json::Value {
    let path = gw.dir().join("access.log");
    let find = || {
        std::fs::read_to_string(&path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
            .find(|v| v["request_id"] == request_id)
    };
    wait_until(Duration::from_secs(15), request_id, || find().is_some());
    find().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_closing_mid_request_is_not_an_error() {
    let up = Upstream::start("svc").await;
    let gw = gateway(&up);
    let addr = format!("127.0.0.1:{}", gw.port);

    // Gone while sending its body.
    let mut conn = TcpStream::connect(&addr).unwrap();
    conn.write_all(
        b"POST /echo-body HTTP/1.1\r\nHost: x\r\nx-request-id: gone-body\r\ncontent-length: 1000\r\n\r\nabc",
    )
    .unwrap();
    conn.flush().unwrap();
    drop(conn);
    let line = logged(&gw, "gone-body");
    assert!(
        line["error"].is_string(),
        "the access log keeps the error: {line}"
    );

    // Gone while the upstream works on the answer.
    let hits = up.hits();
    let mut conn = TcpStream::connect(&addr).unwrap();
    conn.write_all(b"GET /slow?ms=300 HTTP/1.1\r\nHost: x\r\nx-request-id: gone-wait\r\n\r\n")
        .unwrap();
    wait_until(
        Duration::from_secs(10),
        "the upstream to get the request",
        || up.hits() > hits,
    );
    drop(conn);
    logged(&gw, "gone-wait");

    // Gone half-way through its request header (before any hook of weir's
    // runs). Its close reaches weir before the next connection is even
    // opened, and that request's line is written 20 ms later at the soonest.
    let mut conn = TcpStream::connect(&addr).unwrap();
    conn.write_all(b"GET / HTTP/1.1\r\nHo").unwrap();
    conn.flush().unwrap();
    drop(conn);
    let mut conn = TcpStream::connect(&addr).unwrap();
    conn.write_all(b"GET /after HTTP/1.1\r\nHost: x\r\nx-request-id: after-partial\r\n\r\n")
        .unwrap();
    logged(&gw, "after-partial");

    let logs = gw.logs();
    assert!(
        !logs.contains("ERROR"),
        "a client going away is not an error:\n{logs}"
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

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_still_waits_for_a_request_in_flight() {
    let up = Upstream::start("svc").await;
    let mut gw = gateway(&up);
    let url = gw.url("/slow?ms=1500");
    let started = Instant::now();
    let in_flight = tokio::spawn(async move { client().get(url).send().await.map(|r| r.status()) });
    wait_until(Duration::from_secs(10), "the slow request upstream", || {
        up.hits() == 1
    });
    gw.terminate();
    let status = in_flight
        .await
        .unwrap()
        .expect("the in-flight request completes");
    assert_eq!(status, 200);
    let exit = tokio::task::block_in_place(|| gw.wait_exit(Duration::from_secs(20)));
    let took = started.elapsed();
    assert!(exit.success());
    assert!(
        took >= Duration::from_millis(1500) && took < Duration::from_millis(4500),
        "exit {took:?} after the request started: after it, before the grace period"
    );
}
