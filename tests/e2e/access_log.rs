//! The access log: lines for known requests with the configured fields and
//! format, to a file or stdout; reopening after rotation (SIGUSR1, or the
//! file renamed) with no line lost; off means no lines.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use weir_tests::{Gateway, Upstream, client, wait_until};

use crate::config;

fn gateway(up: &Upstream, access_log: &str) -> Gateway {
    Gateway::start(&config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\nroutes:\n  - name: api\n    match: {{ path: {{ prefix: /api }} }}\n    upstream: svc\naccess_log:\n{access_log}",
        up.address()
    )))
}

fn lines(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .map(|text| text.lines().map(str::to_owned).collect())
        .unwrap_or_default()
}

fn wait_lines(path: &Path, n: usize) -> Vec<String> {
    wait_until(
        Duration::from_secs(10),
        &format!("{n} access-log lines"),
        || lines(path).len() >= n,
    );
    lines(path)
}

fn signal(gw: &Gateway, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &gw.pid().to_string()])
        .status()
        .expect("running kill");
    assert!(status.success());
}

async fn get(gw: &Gateway, path: &str, request_id: &str) -> u16 {
    client()
        .get(gw.url(path))
        .header("x-request-id", request_id)
        .send()
        .await
        .expect("weir answers")
        .status()
        .as_u16()
}

#[tokio::test(flavor = "multi_thread")]
async fn json_lines_carry_the_configured_fields() {
    let up = Upstream::start("svc").await;
    let gw = gateway(
        &up,
        "  format: json\n  path: access.log\n  fields: [request_id, trace_id, method, host, path, query, status, route, upstream, response_bytes, duration_ms, upstream_ms, error]\n",
    );
    let resp = client()
        .get(gw.url("/api/items?page=2"))
        .header("x-request-id", "known-1")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let body_len = resp.bytes().await.unwrap().len();
    assert_eq!(get(&gw, "/nowhere", "known-2").await, 404);

    let path = gw.dir().join("access.log");
    let lines = wait_lines(&path, 2);
    assert_eq!(lines.len(), 2, "{lines:?}");
    let first: serde_json::Value = serde_json::from_str(&lines[0]).expect("a JSON line");
    let keys: Vec<&String> = first.as_object().unwrap().keys().collect();
    let mut expected = [
        "request_id",
        "trace_id",
        "method",
        "host",
        "path",
        "query",
        "status",
        "route",
        "upstream",
        "response_bytes",
        "duration_ms",
        "upstream_ms",
        "error",
    ];
    expected.sort();
    assert_eq!(keys, expected, "exactly the configured fields: {first}");
    assert_eq!(first["request_id"], "known-1");
    assert_eq!(first["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(first["method"], "GET");
    assert_eq!(first["host"], format!("127.0.0.1:{}", gw.port));
    assert_eq!(first["path"], "/api/items");
    assert_eq!(first["query"], "page=2");
    assert_eq!(first["status"], 200);
    assert_eq!(first["route"], "api");
    assert_eq!(first["upstream"], up.address());
    assert_eq!(first["response_bytes"], body_len);
    assert!(first["error"].is_null());
    let total = first["duration_ms"].as_f64().unwrap();
    let upstream = first["upstream_ms"].as_f64().unwrap();
    assert!(upstream > 0.0 && upstream <= total, "{first}");

    let second: serde_json::Value = serde_json::from_str(&lines[1]).unwrap();
    assert_eq!(second["request_id"], "known-2");
    assert_eq!(second["status"], 404);
    assert!(second["route"].is_null() && second["upstream"].is_null());
    assert!(second["upstream_ms"].is_null());
    // A new trace for a request without `traceparent`: 32 hex digits.
    assert_eq!(
        second["trace_id"].as_str().map(str::len),
        Some(32),
        "{second}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn text_lines_go_to_stdout() {
    let up = Upstream::start("svc").await;
    let gw = gateway(
        &up,
        "  format: text\n  fields: [request_id, method, path, status, route, error]\n",
    );
    assert_eq!(get(&gw, "/api/x", "text-1").await, 200);
    let expected = "request_id=text-1 method=GET path=/api/x status=200 route=api error=\n";
    wait_until(Duration::from_secs(10), "the text line on stdout", || {
        gw.logs().contains(expected)
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn off_means_no_lines() {
    let up = Upstream::start("svc").await;
    let mut gw = gateway(&up, "  enabled: false\n  path: access.log\n");
    assert_eq!(get(&gw, "/api/x", "off-1").await, 200);
    // Exiting flushes whatever was queued: after it, nothing can come.
    gw.terminate();
    let exit = tokio::task::block_in_place(|| gw.wait_exit(Duration::from_secs(20)));
    assert!(exit.success());
    assert!(!gw.dir().join("access.log").exists());
    assert!(!gw.logs().contains("off-1"), "{}", gw.logs());
}

/// Requests until one lands in a new file at `path`; returns how many were sent.
async fn until_new_file(gw: &Gateway, path: &Path, prefix: &str) -> usize {
    for i in 0..500 {
        assert_eq!(get(gw, "/api/r", &format!("{prefix}-{i}")).await, 200);
        if !lines(path).is_empty() {
            return i + 1;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("no new access log at {}", path.display());
}

/// Every request id sent, each exactly once, across the files.
fn assert_all_logged(files: &[&Path], ids: &[String]) {
    let mut logged: Vec<String> = files
        .iter()
        .flat_map(|f| lines(f))
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(&l).unwrap();
            v["request_id"].as_str().unwrap().to_owned()
        })
        .collect();
    logged.sort();
    let mut ids = ids.to_vec();
    ids.sort();
    assert_eq!(logged, ids);
}

#[tokio::test(flavor = "multi_thread")]
async fn sigusr1_reopens_after_rotation_and_loses_nothing() {
    let up = Upstream::start("svc").await;
    let mut gw = gateway(&up, "  path: access.log\n  fields: [request_id, status]\n");
    let path = gw.dir().join("access.log");
    let rotated = gw.dir().join("access.log.1");
    let mut ids = Vec::new();
    for i in 0..20 {
        ids.push(format!("before-{i}"));
        assert_eq!(get(&gw, "/api/r", &ids[i]).await, 200);
    }
    wait_lines(&path, 20);
    std::fs::rename(&path, &rotated).unwrap();
    signal(&gw, "USR1");
    wait_until(Duration::from_secs(10), "weir to handle SIGUSR1", || {
        gw.logs().contains("SIGUSR1: reopening the access log")
    });
    let sent = until_new_file(&gw, &path, "after").await;
    ids.extend((0..sent).map(|i| format!("after-{i}")));
    assert!(gw.is_running(), "SIGUSR1 must not end weir");
    gw.terminate();
    let exit = tokio::task::block_in_place(|| gw.wait_exit(Duration::from_secs(20)));
    assert!(exit.success());
    assert_all_logged(&[&rotated, &path], &ids);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_renamed_file_is_reopened_without_a_signal() {
    let up = Upstream::start("svc").await;
    let mut gw = gateway(&up, "  path: access.log\n  fields: [request_id, status]\n");
    let path = gw.dir().join("access.log");
    let rotated = gw.dir().join("access.log.1");
    let mut ids = vec!["first".to_owned()];
    assert_eq!(get(&gw, "/api/r", "first").await, 200);
    wait_lines(&path, 1);
    std::fs::rename(&path, &rotated).unwrap();
    let sent = until_new_file(&gw, &path, "after").await;
    ids.extend((0..sent).map(|i| format!("after-{i}")));
    gw.terminate();
    let exit = tokio::task::block_in_place(|| gw.wait_exit(Duration::from_secs(20)));
    assert!(exit.success());
    assert_all_logged(&[&rotated, &path], &ids);
}
