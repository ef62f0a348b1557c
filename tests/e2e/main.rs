//! End-to-end tests: the real `weir` binary, real upstreams on ephemeral
//! loopback ports, real clients. See `weir_tests` for the harness.

mod access_log;
mod admin_views;
mod bad_input;
mod balancing;
mod capabilities;
mod check;
mod demo;
mod errors;
mod examples_c_go;
mod fast_path;
mod filter_scaffold;
mod filter_test_cli;
mod filters;
mod forwarding;
mod handler_scaffold;
mod handler_test_cli;
mod handlers;
mod health;
mod hostile_http;
mod instance_slots;
mod isolation;
mod languages;
mod log_hygiene;
mod many_routes;
mod metrics;
mod protocols;
mod reload;
mod routing;
mod shutdown;
mod startup;
mod streaming;
mod tls;
mod tls_rotation;
mod tracing;
mod upgrade;

pub use weir_tests::config;

/// The upstream name a describe-response came from.
pub async fn upstream_of(resp: reqwest::Response) -> String {
    let status = resp.status();
    let body: serde_json::Value = resp.json().await.expect("JSON from the upstream");
    assert_eq!(status, 200, "unexpected status, body: {body}");
    body["upstream"]
        .as_str()
        .expect("upstream field")
        .to_owned()
}
