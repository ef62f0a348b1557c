//! `weir check` lists every error with its path and line, in text and JSON.

use weir_tests::weir_check;

#[test]
fn check_reports_every_error_and_fails() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("bad.yaml");
    std::fs::write(
        &path,
        "listeners:\n  - name: main\n    address: 127.0.0.1:8080\nroutes:\n  - match: { path: { prefix: / } }\n    upstream: billing\n  - match: { path: { regex: \"([\" } }\n    respond: { status: 200 }\n",
    )
    .unwrap();
    let (ok, text) = weir_check(&path, false);
    assert!(!ok);
    assert!(
        text.contains("routes[0].upstream (line 6): unknown upstream \"billing\""),
        "{text}"
    );
    assert!(text.contains("routes[1].match.path.regex"), "{text}");

    let (ok, json) = weir_check(&path, true);
    assert!(!ok);
    let parsed: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed["valid"], false);
    assert_eq!(parsed["errors"].as_array().unwrap().len(), 2, "{json}");
    assert_eq!(parsed["errors"][0]["line"], 6);
}

#[test]
fn check_accepts_a_valid_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ok.yaml");
    std::fs::write(&path, "listeners:\n  - name: main\n    address: 127.0.0.1:8080\nroutes:\n  - respond: { status: 204 }\n").unwrap();
    let (ok, text) = weir_check(&path, false);
    assert!(ok, "{text}");
    assert!(text.ends_with(": ok\n"), "{text}");
}
