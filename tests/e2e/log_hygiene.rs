//! Log hygiene: a client closing its connection mid-request, or sending a
//! malformed body, is not an ERROR.
//! (SIGTERM's behaviour is in shutdown.rs.)

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use weir_tests::{Gateway, Upstream, wait_until};

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

    // A bad chunk in its body: a 400 for the client, not an ERROR for
    // the operator (a hostile client could otherwise fill the log).
    let mut conn = TcpStream::connect(&addr).unwrap();
    conn.write_all(
        b"POST /echo-body HTTP/1.1\r\nHost: x\r\nx-request-id: bad-chunk\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
    )
    .unwrap();
    let line = logged(&gw, "bad-chunk");
    assert_eq!(line["status"], 400, "{line}");
    drop(conn);

    let logs = gw.logs();
    assert!(
        !logs.contains("ERROR"),
        "a client going away or sending a malformed body is not an error:\n{logs}"
    );
}
