//! Malformed and oversized requests get a 4xx and the gateway keeps serving.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use weir_tests::{Gateway, Upstream, client};

use crate::config;

/// Sends raw bytes and returns the status line weir answered with.
fn raw_status(port: u16, request: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    // Read until the status line is complete or the server closes.
    while !buf.windows(2).any(|w| w == b"\r\n") {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    String::from_utf8_lossy(&buf)
        .lines()
        .next()
        .unwrap_or("")
        .to_owned()
}

/// Sends raw bytes and returns everything weir sent until it closed the connection.
fn raw_exchange(port: u16, request: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("weir closes the connection");
    String::from_utf8_lossy(&out).into_owned()
}

async fn still_serving(gw: &Gateway) {
    let resp = client().get(gw.url("/ok")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

fn status_code(line: &str) -> u16 {
    line.split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("no status in {line:?}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_requests_get_4xx_while_others_are_served() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&config(&format!(
        "    limits: {{ max_header_bytes: 8KiB, max_body_bytes: 1KiB }}\nupstreams:\n  svc:\n    targets: [{{ address: {} }}]\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: svc\n",
        up.address()
    )));
    let port = gw.port;

    let garbage = raw_status(port, b"THIS IS NOT HTTP\r\n\r\n");
    assert_eq!(status_code(&garbage), 400, "{garbage}");
    still_serving(&gw).await;

    let bad_header = raw_status(port, b"GET / HTTP/1.1\r\nHost: x\r\nNo-Colon-Here\r\n\r\n");
    assert_eq!(status_code(&bad_header), 400, "{bad_header}");
    still_serving(&gw).await;

    let big = format!(
        "GET / HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
        "a".repeat(16 * 1024)
    );
    let oversized = raw_status(port, big.as_bytes());
    assert_eq!(status_code(&oversized), 431, "{oversized}");
    still_serving(&gw).await;

    // Both Content-Length and Transfer-Encoding: refused with 400 and the
    // connection closed, so bytes hidden after the body are never read as a
    // second request.
    let hits_before = up.hits();
    let smuggle = raw_exchange(
        port,
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
    );
    assert!(smuggle.starts_with("HTTP/1.1 400 "), "{smuggle}");
    assert_eq!(
        smuggle.matches("HTTP/1.1 ").count(),
        1,
        "one response, then close:\n{smuggle}"
    );
    assert_eq!(up.hits(), hits_before, "nothing reached the upstream");
    still_serving(&gw).await;

    let too_long_body = raw_status(
        port,
        format!(
            "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{}",
            "b".repeat(5000)
        )
        .as_bytes(),
    );
    assert_eq!(status_code(&too_long_body), 413, "{too_long_body}");
    still_serving(&gw).await;
}
