//! `weir handler test` over weir's own handlers: a body posted to the echo
//! handler comes back whole (fed a chunk at a time, larger than the request
//! channel holds), a failing handler fails its case with the reason, an
//! outbound request is refused, and a typo in a fixture is an error rather
//! than a pass.

use std::process::Command;

use weir_tests::{filters, weir_bin, workspace_root};

/// `weir handler test` with these arguments: (exit code, stdout, stderr).
fn handler_test(args: &[&str]) -> (Option<i32>, String, String) {
    let out = Command::new(weir_bin())
        .args(["--log-level", "warn", "handler", "test"])
        .args(args)
        .arg("--cache-dir")
        .arg(workspace_root().join("target/weir-e2e-filter-cache"))
        .output()
        .expect("running weir handler test");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn the_echo_handler_sends_a_posted_body_back() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("echo.yaml");
    // 300 KiB: many more chunks than the request body's channel holds.
    let large: String = (0..300 * 1024)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    std::fs::write(
        &fixtures,
        format!(
            "handler:\n  module: {module}\n\
             cases:\n\
             \x20 - name: small\n\
             \x20   request: {{ method: POST, path: /echo, query: \"x=1\", headers: {{ content-type: text/plain }}, body: \"hello, handler\" }}\n\
             \x20   expect:\n      status: 200\n\
             \x20     headers: {{ content-type: text/plain, x-echo-method: POST, x-echo-path: \"/echo?x=1\" }}\n\
             \x20     body: \"hello, handler\"\n\
             \x20 - name: large\n\
             \x20   request: {{ method: PUT, path: /big, body: \"{large}\" }}\n\
             \x20   expect: {{ status: 200, headers: {{ x-echo-method: PUT }}, headers_absent: [content-type], body: \"{large}\" }}\n\
             \x20 - name: empty\n\
             \x20   request: {{ path: /nothing }}\n\
             \x20   expect: {{ status: 200, headers: {{ x-echo-method: GET }}, body: \"\" }}\n",
            module = filters::HANDLER_ECHO,
        ),
    )
    .unwrap();
    let (code, out, err) = handler_test(&[fixtures.to_str().unwrap()]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("echo.yaml: 3 passed, 0 failed"), "{out}");

    // The same through --module, with a wrong expectation: exit 1, a diff.
    std::fs::write(
        &fixtures,
        "cases:\n  - name: wrong\n    request: { method: POST, body: abc }\n\
         \x20   expect: { status: 201, headers: { x-echo-method: GET }, body: abd }\n",
    )
    .unwrap();
    let (code, out, err) = handler_test(&[
        fixtures.to_str().unwrap(),
        "--module",
        filters::HANDLER_ECHO,
    ]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    for block in [
        "  FAIL  wrong\n",
        "    status\n      expected: \"201\"\n      actual:   \"200\"\n",
        "    headers[x-echo-method]\n      expected: \"GET\"\n      actual:   \"POST\"\n",
        "    body\n      expected: \"abd\"\n      actual:   \"abc\"\n",
    ] {
        assert!(out.contains(block), "missing\n{block}in\n{out}");
    }
}

#[test]
fn a_trapping_handler_fails_its_case_with_the_reason() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("misbehave.yaml");
    std::fs::write(
        &fixtures,
        "cases:\n\
         \x20 - name: fine\n    request: { path: / }\n    expect: { status: 200, body: \"ok\\n\" }\n\
         \x20 - name: trap\n    request: { path: /trap }\n    expect: { status: 200 }\n",
    )
    .unwrap();
    let (code, out, err) = handler_test(&[
        fixtures.to_str().unwrap(),
        "--module",
        filters::HANDLER_MISBEHAVE,
    ]);
    assert_eq!(code, Some(1), "{out}\n{err}");
    assert!(out.contains("  ok    fine\n"), "{out}");
    assert!(
        out.contains("  FAIL  trap\n    error: the handler failed"),
        "{out}"
    );
}

/// Outbound HTTP is consented to with no origin allowed: refused, no network.
#[test]
fn an_outbound_request_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("fetch.yaml");
    std::fs::write(
        &fixtures,
        "cases:\n  - name: refused\n    request: { path: \"/?url=http://127.0.0.1:9/\" }\n\
         \x20   expect: { status: 502, body_contains: Denied }\n",
    )
    .unwrap();
    let (code, out, err) = handler_test(&[
        fixtures.to_str().unwrap(),
        "--module",
        filters::HANDLER_FETCH,
    ]);
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("outbound HTTP requests"), "{out}");
}

#[test]
fn a_misspelt_fixture_field_or_a_missing_module_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("typo.yaml");
    std::fs::write(
        &fixtures,
        "cases:\n  - name: typo\n    expect: { stauts: 200 }\n",
    )
    .unwrap();
    let (code, _, err) = handler_test(&[
        fixtures.to_str().unwrap(),
        "--module",
        filters::HANDLER_ECHO,
    ]);
    assert_eq!(code, Some(1));
    assert!(err.contains("stauts"), "{err}");

    std::fs::write(&fixtures, "cases:\n  - name: a\n").unwrap();
    let (code, _, err) = handler_test(&[fixtures.to_str().unwrap()]);
    assert_eq!(code, Some(1));
    assert!(err.contains("--module"), "{err}");
}
