//! Start-up fails fast: an address that is taken ends `weir run` at once
//! with a non-zero exit that names it, so an orchestrator sees the failure.

use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::Duration;

use weir_tests::{config, wait_until, weir_bin};

#[test]
fn a_taken_listener_address_ends_start_up_with_an_error() {
    // Held by this test for as long as weir tries to start.
    let taken = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weir.yaml");
    let cfg = config("routes:\n  - match: { path: { prefix: / } }\n    respond: { status: 200 }\n")
        .replace("{port}", &port.to_string());
    std::fs::write(&path, cfg).unwrap();

    let mut child = Command::new(weir_bin())
        .args(["run", "--config"])
        .arg(&path)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("starting weir");
    let mut status = None;
    // Pingora alone would retry for about 30 s; weir must give up at once.
    wait_until(Duration::from_secs(10), "weir to exit", || {
        status = child.try_wait().expect("waiting for weir");
        status.is_some()
    });
    let output = child.wait_with_output().expect("weir's stderr");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!status.unwrap().success(), "weir exited 0: {stderr}");
    assert!(
        stderr.contains(&format!(
            "listener \"main\": cannot listen on 127.0.0.1:{port}"
        )),
        "the error names the listener and its address: {stderr}"
    );
    assert!(
        stderr.contains("Address already in use"),
        "the error says why: {stderr}"
    );
    drop(taken);
}
