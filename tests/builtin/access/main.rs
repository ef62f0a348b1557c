//! End-to-end tests of the built-in access filters (`key-auth`,
//! `basic-auth`, `ip-filter`, `cors`), through the real gateway in front of
//! a real upstream.

mod basic_auth;
mod cors;
mod ip_filter;
mod key_auth;

use weir_tests::{Upstream, config, filters, weir_check};

/// key-auth and basic-auth import `weir:filter/secrets` (for keys and hashes
/// kept in secrets); configs that keep everything in the config consent to
/// the import with an empty grant.
pub const NO_SECRETS_GRANT: &str = "    grants: { secrets: [] }\n";

/// A `filters:` entry for the built-in component `module` (a path from
/// `weir_tests::filters`) named `name`; `rest` holds its indented `config:`,
/// `grants:`, `limits:` lines.
pub fn filter(name: &str, module: &str, rest: &str) -> String {
    format!("  {name}:\n    module: {module}\n{rest}")
}

/// One upstream `svc`, the given filters, and a route per `(prefix, chain)`.
pub fn gateway_config(
    up: &Upstream,
    top: &str,
    filters: &[String],
    routes: &[(&str, &str)],
) -> String {
    let routes: String = routes
        .iter()
        .map(|(prefix, chain)| {
            format!(
                "  - match: {{ path: {{ prefix: {prefix} }} }}\n    upstream: svc\n    filters: [{chain}]\n"
            )
        })
        .collect();
    config(&format!(
        "{top}upstreams:\n  svc:\n    targets: [{{ address: {} }}]\nfilters:\n{}routes:\n{routes}",
        up.address(),
        filters.concat()
    ))
}

/// A `test-context` filter that copies context `key` into request header `to`.
pub fn context_probe(name: &str, key: &str, to: &str) -> String {
    format!(
        "  {name}:\n    module: {}\n    config: {{ mode: get, key: {key}, to_header: {to} }}\n",
        filters::TEST_CONTEXT
    )
}

/// What the upstream saw (its describe-JSON), asserting a 200.
pub async fn upstream_saw(resp: reqwest::Response) -> serde_json::Value {
    let status = resp.status();
    let body = resp.text().await.expect("a body");
    assert_eq!(status, 200, "body: {body}");
    serde_json::from_str(&body).expect("JSON from the upstream")
}

/// Runs `weir check` on a config whose only filter `name` has `filter_rest`
/// (a bad `config:`), and asserts it fails at `filters.NAME.config` with a
/// message containing `expected`.
pub fn assert_check_rejects(
    top: &str,
    name: &str,
    module: &str,
    filter_rest: &str,
    expected: &str,
) {
    let text = config(&format!(
        "{top}filters:\n{}routes:\n  - match: {{ path: {{ prefix: / }} }}\n    respond: {{ status: 204 }}\n    filters: [{name}]\n",
        filter(name, module, filter_rest)
    ))
    .replace("{port}", "18080");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weir.yaml");
    std::fs::write(&path, text).unwrap();
    let (ok, out) = weir_check(&path, false);
    assert!(!ok, "weir check accepted it:\n{out}");
    let at = format!("filters.{name}.config");
    assert!(out.contains(&at), "not reported at {at}:\n{out}");
    assert!(out.contains(expected), "no {expected:?} in:\n{out}");
}
