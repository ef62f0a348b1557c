//! End-to-end tests of the built-in filters (transform): `headers`,
//! `rewrite` and `json-transform`, through the real gateway in front of real
//! upstreams.

mod headers;
mod json_transform;
mod rewrite;

use std::path::Path;

use weir_tests::{Upstream, config, free_port, weir_check};

/// A `filters:` entry for the built-in component `module` (a path from
/// `weir_tests::filters`) with `config` (flow YAML).
pub fn filter(name: &str, module: &str, config: &str) -> String {
    format!("  {name}:\n    module: {module}\n    config: {config}\n")
}

/// A `filters:` entry with extra lines (limits, on_error) after its config.
pub fn filter_with(name: &str, module: &str, config: &str, extra: &str) -> String {
    format!("{}{extra}", filter(name, module, config))
}

/// A route on `prefix` to upstream `svc` through `chain`.
pub fn route(prefix: &str, chain: &str) -> String {
    format!(
        "  - match: {{ path: {{ prefix: {prefix} }} }}\n    upstream: svc\n    filters: [{chain}]\n"
    )
}

/// A gateway config: upstream `svc` at `upstream`, these filters and routes.
pub fn gateway_config(upstream: &str, filters: &[String], routes: &[String]) -> String {
    config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {upstream} }}]\nfilters:\n{}routes:\n{}",
        filters.concat(),
        routes.concat()
    ))
}

/// The same, in front of the describing test upstream.
pub fn describe_config(up: &Upstream, filters: &[String], routes: &[String]) -> String {
    gateway_config(&up.address(), filters, routes)
}

/// Runs `weir check` on a config; asserts it fails and returns its report.
pub fn check_fails(config: &str) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("weir.yaml");
    std::fs::write(&path, config.replace("{port}", &free_port().to_string())).unwrap();
    let (ok, out) = weir_check(Path::new(&path), false);
    assert!(!ok, "weir check accepted the config:\n{config}\n{out}");
    out
}

/// What the describing upstream saw: its JSON report of the request.
pub async fn described(resp: reqwest::Response) -> serde_json::Value {
    let status = resp.status();
    let body = resp.text().await.expect("a body");
    assert_eq!(status, 200, "body: {body}");
    serde_json::from_str(&body).expect("the upstream's JSON report")
}
