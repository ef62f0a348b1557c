//! A config with many routes, for the routing-scale test and benchmark (W6):
//! a mix of host and path routes, then `last`, which comes last in
//! evaluation order. Every route proxies to one upstream with its own
//! `host_rewrite`, so the `Host` the upstream saw tells which route served.

use std::fmt::Write as _;

use crate::{Upstream, client};

/// One request of the mix and the `Host` the upstream sees for it.
pub struct MixRequest {
    pub host: String,
    pub path: String,
    pub header: Option<(String, String)>,
    /// `r<i>.route`.
    pub routed_host: String,
}

/// The route `r<i>` of the mix: five kinds in turn.
fn mix_match(i: usize) -> String {
    match i % 5 {
        0 => format!("{{ path: {{ prefix: /svc{i} }} }}"),
        1 => format!("{{ hosts: [h{i}.example.com], path: {{ prefix: /api }} }}"),
        2 => format!("{{ path: {{ exact: /exact/{i} }}, methods: [GET] }}"),
        3 => format!("{{ hosts: [\"*.w{i}.example.com\"], path: {{ prefix: /w }} }}"),
        _ => format!(
            "{{ hosts: [api.example.com], path: {{ prefix: /v{i} }}, headers: [{{ name: x-tenant, exact: t{i} }}] }}"
        ),
    }
}

/// A request that route `r<i>` of the mix answers.
pub fn mix_request(i: usize) -> MixRequest {
    let (host, path, header) = match i % 5 {
        0 => ("any.test".to_owned(), format!("/svc{i}/x"), None),
        1 => (format!("h{i}.example.com"), "/api/x".to_owned(), None),
        2 => ("any.test".to_owned(), format!("/exact/{i}"), None),
        3 => (format!("a.b.w{i}.example.com"), "/w/x".to_owned(), None),
        _ => (
            "api.example.com".to_owned(),
            format!("/v{i}/x"),
            Some(("x-tenant".to_owned(), format!("t{i}"))),
        ),
    };
    MixRequest {
        host,
        path,
        header,
        routed_host: format!("r{i}.route"),
    }
}

/// The `Host` the upstream sees from `last` in config `generation`.
pub fn last_routed_host(generation: u64) -> String {
    format!("last-gen{generation}.route")
}

/// A whole config: one listener on `port` (1 worker thread), an admin
/// listener on `admin`, upstream `app`, and `count` routes (at least 1):
/// `count - 1` of the mix, then `last` (`prefix: /last`, priority -1, so last
/// in evaluation order). `generation` goes into `last`'s `host_rewrite`.
pub fn config(port: u16, admin: u16, upstream: &Upstream, count: usize, generation: u64) -> String {
    let mut text = format!(
        "server:\n  threads: 1\nlisteners:\n  - name: main\n    address: 127.0.0.1:{port}\n\
         admin:\n  address: 127.0.0.1:{admin}\n\
         upstreams:\n  app:\n    targets: [{{ address: {} }}]\nroutes:\n",
        upstream.address()
    );
    for i in 0..count.saturating_sub(1) {
        writeln!(
            text,
            "  - name: r{i}\n    match: {}\n    upstream: app\n    host_rewrite: r{i}.route",
            mix_match(i)
        )
        .unwrap();
    }
    writeln!(
        text,
        "  - name: last\n    priority: -1\n    match: {{ path: {{ prefix: /last }} }}\n    upstream: app\n    host_rewrite: {}",
        last_routed_host(generation)
    )
    .unwrap();
    text
}

/// Sends `req` to the weir listening on `port`; the `Host` the upstream saw,
/// or the status when weir did not proxy it.
pub async fn routed_host(port: u16, req: &MixRequest) -> Result<String, u16> {
    let mut builder = client()
        .get(format!("http://127.0.0.1:{port}{}", req.path))
        .header("host", &req.host);
    if let Some((name, value)) = &req.header {
        builder = builder.header(name, value);
    }
    let resp = builder.send().await.expect("weir answers");
    if resp.status() != 200 {
        return Err(resp.status().as_u16());
    }
    let seen: serde_json::Value = resp.json().await.expect("the upstream's JSON");
    Ok(seen["headers"]["host"][0]
        .as_str()
        .expect("a Host header upstream")
        .to_owned())
}

/// The request `last` answers, in config `generation`.
pub fn last_request(generation: u64) -> MixRequest {
    MixRequest {
        host: "any.test".to_owned(),
        path: "/last/x".to_owned(),
        header: None,
        routed_host: last_routed_host(generation),
    }
}

/// `weir_config_last_reload_duration_seconds` from the admin listener's
/// `/metrics`.
pub async fn last_reload_seconds(admin: u16) -> f64 {
    let text = crate::metrics_text(admin).await;
    text.lines()
        .find_map(|l| l.strip_prefix("weir_config_last_reload_duration_seconds "))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("no reload duration in /metrics:\n{text}"))
}
