//! `weir filter test`: the reference filter's shared fixture file against
//! every language's build that exists, a wrong expectation reported as a
//! readable diff with exit code 1, and a route's whole chain from a config,
//! outbound HTTP refused, all without network or upstream.

use std::path::{Path, PathBuf};
use std::process::Command;

use weir_tests::{filters, weir_bin, workspace_root};

/// The reference filter's builds: (LANG, component). Rust's is built with
/// this crate; the other languages' are tested when
/// `scripts/build-language-filters.sh` had built them when it was compiled.
fn reference_builds() -> Vec<(&'static str, &'static str)> {
    let mut builds = vec![("rust", filters::REFERENCE_RUST)];
    for lang in ["js", "python", "c", "go"] {
        if let Some(module) = filters::optional_language_filter(&format!("reference-{lang}")) {
            builds.push((lang, module));
        }
    }
    builds
}

/// Shared with the other end-to-end tests: compiled JavaScript and Python
/// components take seconds to compile.
fn cache_dir() -> PathBuf {
    workspace_root().join("target/weir-e2e-filter-cache")
}

/// `weir filter test` with these arguments: (exit success, stdout, stderr).
fn filter_test(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(weir_bin())
        .args(["--log-level", "warn", "filter", "test"])
        .args(args)
        .arg("--cache-dir")
        .arg(cache_dir())
        .output()
        .expect("running weir filter test");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn reference_test(fixtures: &Path, module: &str, lang: &str) -> (bool, String, String) {
    filter_test(&[
        fixtures.to_str().unwrap(),
        "--module",
        module,
        "--config",
        r#"{"store": "counters"}"#,
        "--kv",
        "counters",
        "--var",
        &format!("lang={lang}"),
    ])
}

#[test]
fn the_reference_fixtures_pass_in_every_built_language() {
    let fixtures = workspace_root().join("filters/reference/fixtures.yaml");
    for (lang, module) in reference_builds() {
        let (ok, out, err) = reference_test(&fixtures, module, lang);
        assert!(ok, "{lang}:\n{out}\n{err}");
        assert!(out.contains(" passed, 0 failed"), "{lang}:\n{out}");
        assert!(!out.contains("FAIL"), "{lang}:\n{out}");
    }
}

#[test]
fn a_wrong_expectation_fails_with_a_field_by_field_diff() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("wrong.yaml");
    std::fs::write(
        &fixtures,
        "cases:\n\
         \x20 - name: right\n    request: { path: /a }\n    expect: { decision: continue }\n\
         \x20 - name: wrong\n    request: { path: /a, headers: { x-ref-deny: \"yes\" } }\n\
         \x20   expect:\n      decision: continue\n\
         \x20     response:\n        status: 200\n        headers: { x-ref-lang: cobol, x-ref-name: eve }\n\
         \x20     context: { ref-name: eve }\n",
    )
    .unwrap();
    let (ok, out, err) = reference_test(&fixtures, filters::REFERENCE_RUST, "rust");
    assert!(!ok, "a wrong expectation passed:\n{out}\n{err}");
    assert!(out.contains("  ok    right\n"), "{out}");
    assert!(out.contains("  FAIL  wrong\n"), "{out}");
    for block in [
        "    decision\n      expected: \"continue\"\n      actual:   \"respond\"\n",
        "    response.status\n      expected: \"200\"\n      actual:   \"403\"\n",
        "    response.headers[x-ref-lang]\n      expected: \"cobol\"\n      actual:   \"rust\"\n",
        "    response.headers[x-ref-name]\n      expected: \"eve\"\n      actual:   (absent)\n",
        "    context[ref-name]\n      expected: \"eve\"\n      actual:   (absent)\n",
    ] {
        assert!(out.contains(block), "missing\n{block}in\n{out}");
    }
    assert!(out.contains(": 1 passed, 1 failed"), "{out}");
}

#[test]
fn a_misspelt_fixture_field_is_an_error_not_a_pass() {
    let dir = tempfile::tempdir().unwrap();
    let fixtures = dir.path().join("typo.yaml");
    std::fs::write(
        &fixtures,
        "cases:\n  - name: typo\n    expect: { respone: { status: 500 } }\n",
    )
    .unwrap();
    let (ok, out, err) = reference_test(&fixtures, filters::REFERENCE_RUST, "rust");
    assert!(!ok, "{out}");
    assert!(err.contains("respone"), "{err}");
}

/// A route's chain: the global filter first on the way in, last on the way
/// out; the route's stores in memory; a filter's outbound request refused.
#[test]
fn a_routes_chain_runs_from_the_config_without_network() {
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("weir.yaml");
    std::fs::write(
        &config,
        format!(
            "listeners:\n  - name: main\n    address: 127.0.0.1:8080\n\
             upstreams:\n  api:\n    targets: [{{ address: \"127.0.0.1:9\" }}]\n\
             key_value:\n  counters:\n    memory: {{}}\n\
             filters:\n\
             \x20 outer:\n    module: {tag}\n    config: {{ name: outer }}\n\
             \x20 inner:\n    module: {tag}\n    config: {{ name: inner }}\n\
             \x20 ref:\n    module: {reference}\n    config: {{ store: counters }}\n    grants: {{ key_value: [counters] }}\n\
             \x20 fetch:\n    module: {fetch}\n    grants: {{ http: {{ allow: [\"http://127.0.0.1:9\"] }} }}\n\
             global_filters: [outer]\n\
             routes:\n\
             \x20 - name: api\n    match: {{ path: {{ prefix: /api }} }}\n    upstream: api\n    filters: [ref, inner]\n\
             \x20 - name: fetching\n    match: {{ path: {{ prefix: / }} }}\n    upstream: api\n    filters: [fetch]\n",
            tag = filters::TEST_TAG,
            reference = filters::REFERENCE_RUST,
            fetch = filters::TEST_FETCH,
        ),
    )
    .unwrap();
    let chain = dir.path().join("chain.yaml");
    std::fs::write(
        &chain,
        "cases:\n\
         \x20 - name: in chain order, out in reverse\n\
         \x20   request: { path: /api/x, headers: { x-ref-name: ada } }\n\
         \x20   expect:\n\
         \x20     upstream_request: { headers: { x-chain: \"outer, inner\", x-ref-greeting: \"hello, ada\" } }\n\
         \x20     response: { headers: { x-chain-resp: \"inner, outer\", x-ref-count: \"1\", x-ref-lang: rust } }\n",
    )
    .unwrap();
    let config_arg = config.to_str().unwrap();
    let (ok, out, err) = filter_test(&[
        chain.to_str().unwrap(),
        "--config",
        config_arg,
        "--route",
        "api",
    ]);
    assert!(ok, "{out}\n{err}");

    // The grant allows the address, but a test has no network: refused.
    let fetching = dir.path().join("fetch.yaml");
    std::fs::write(
        &fetching,
        "cases:\n\
         \x20 - name: outbound refused\n\
         \x20   request: { path: /, headers: { x-fetch-url: \"http://127.0.0.1:9/\" } }\n\
         \x20   expect: { decision: respond, response: { status: 403, body: denied } }\n",
    )
    .unwrap();
    let (ok, out, err) = filter_test(&[
        fetching.to_str().unwrap(),
        "--config",
        config_arg,
        "--route",
        "fetching",
    ]);
    assert!(ok, "{out}\n{err}");
    assert!(out.contains("outbound HTTP"), "{out}");

    let (ok, _, err) = filter_test(&[
        fetching.to_str().unwrap(),
        "--config",
        config_arg,
        "--route",
        "nope",
    ]);
    assert!(!ok);
    assert!(
        err.contains("no route \"nope\"") && err.contains("api, fetching"),
        "{err}"
    );
}
