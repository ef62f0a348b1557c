//! `GET /metrics` on the admin listener: known traffic gives exact values,
//! the scrape passes `promtool check metrics`, a reload drops the series of
//! the routes it removed, and every metric the Grafana dashboard queries
//! exists in a scrape.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::net::TcpListener;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use weir_tests::{Gateway, Upstream, admin_reload, client, filters, free_port, workspace_root};

use crate::config;

/// One sample: metric name and its labels.
type Series = (String, BTreeMap<String, String>);

/// Parses the text exposition into samples (enough for what weir writes:
/// no escaped quotes or commas in label values).
fn parse(text: &str) -> BTreeMap<Series, f64> {
    let mut samples = BTreeMap::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line.rsplit_once(' ').expect("sample has a value");
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.trim_end_matches('}')),
            None => (series, ""),
        };
        let labels = labels
            .split(',')
            .filter(|p| !p.is_empty())
            .map(|pair| {
                let (k, v) = pair.split_once('=').expect("label pair");
                (k.to_owned(), v.trim_matches('"').to_owned())
            })
            .collect();
        let value = value.parse().unwrap_or_else(|_| panic!("number in {line}"));
        samples.insert((name.to_owned(), labels), value);
    }
    samples
}

struct Scrape {
    text: String,
    samples: BTreeMap<Series, f64>,
}

impl Scrape {
    async fn take(admin_port: u16) -> Scrape {
        let resp = client()
            .get(format!("http://127.0.0.1:{admin_port}/metrics"))
            .send()
            .await
            .expect("admin answers /metrics");
        assert_eq!(resp.status(), 200);
        let content_type = resp.headers()["content-type"].to_str().unwrap().to_owned();
        assert!(
            content_type.starts_with("text/plain; version=0.0.4"),
            "{content_type}"
        );
        let text = resp.text().await.expect("metrics text");
        let samples = parse(&text);
        Scrape { text, samples }
    }

    /// The sample with exactly these labels, if any.
    fn find(&self, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
        let labels: BTreeMap<String, String> = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        self.samples.get(&(name.to_owned(), labels)).copied()
    }

    fn get(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        self.find(name, labels)
            .unwrap_or_else(|| panic!("no {name} {labels:?} in the scrape:\n{}", self.text))
    }

    /// Sum over every sample of `name`.
    fn sum(&self, name: &str) -> f64 {
        self.samples
            .iter()
            .filter(|((n, _), _)| n == name)
            .map(|(_, v)| v)
            .sum()
    }

    /// Metric families declared by `# TYPE` lines.
    fn families(&self) -> BTreeSet<String> {
        self.text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .map(str::to_owned)
            .collect()
    }
}

/// Scrapes until all `total` requests were counted (requests are counted
/// after their response went out, so a scrape can be a moment early).
async fn scrape_after(admin_port: u16, total: f64) -> Scrape {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let scrape = Scrape::take(admin_port).await;
        let counted = scrape.sum("weir_requests_total");
        if counted >= total {
            assert_eq!(counted, total, "more requests counted than sent");
            return scrape;
        }
        assert!(
            Instant::now() < deadline,
            "only {counted} of {total} requests counted:\n{}",
            scrape.text
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn promtool_check(text: &str) {
    let mut child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("promtool runs (scripts/setup.sh installs the Debian package prometheus)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().expect("promtool finishes");
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Routes: `a` proxies to a live upstream, `b` answers 404 itself, `trap`
/// runs the misbehaving filter, `mixed` has a dead and a live target (a
/// connect failure is retried on the other), `down` one dead target that
/// passive health ejects, `silent` a target that accepts and never answers.
fn metrics_config(
    up: &Upstream,
    dead: &str,
    silent: &str,
    admin_port: u16,
    with_b: bool,
) -> String {
    let b = if with_b {
        "  - name: b\n    match: { path: { prefix: /b } }\n    respond: { status: 404 }\n"
    } else {
        ""
    };
    config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {live} }}]\n  mixed:\n    targets: [{{ address: {dead} }}, {{ address: {live} }}]\n  down:\n    targets: [{{ address: {dead} }}]\n    passive_health: {{ max_failures: 1, ejection_time: 60s }}\n    retries: {{ count: 0 }}\n  silent:\n    targets: [{{ address: {silent} }}]\n    timeouts: {{ read: 300ms }}\n    retries: {{ count: 0 }}\n\
         filters:\n  misbehave:\n    module: {module}\n\
         routes:\n  - name: a\n    match: {{ path: {{ prefix: /a }} }}\n    upstream: svc\n{b}\
         \x20 - name: trap\n    match: {{ path: {{ prefix: /trap }} }}\n    upstream: svc\n    filters: [misbehave]\n\
         \x20 - name: mixed\n    match: {{ path: {{ prefix: /mixed }} }}\n    upstream: mixed\n\
         \x20 - name: down\n    match: {{ path: {{ prefix: /down }} }}\n    upstream: down\n\
         \x20 - name: silent\n    match: {{ path: {{ prefix: /silent }} }}\n    upstream: silent\n\
         admin:\n  address: 127.0.0.1:{admin_port}\n",
        live = up.address(),
        module = filters::TEST_MISBEHAVE,
    ))
}

async fn send(url: String, method: &str, header: Option<(&str, &str)>, expect: u16) {
    let mut req = client().request(method.parse().unwrap(), url);
    if let Some((name, value)) = header {
        req = req.header(name, value);
    }
    let resp = req.send().await.expect("weir answers");
    assert_eq!(resp.status(), expect);
}

#[tokio::test(flavor = "multi_thread")]
async fn known_traffic_gives_exact_metrics_and_a_valid_scrape() {
    let up = Upstream::start("svc").await;
    // Bound and never accepting: the kernel completes connections, nobody answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap().to_string();
    let dead = format!("127.0.0.1:{}", free_port());
    let admin_port = free_port();
    let gw = Gateway::start(&metrics_config(&up, &dead, &silent_addr, admin_port, true));

    for _ in 0..7 {
        send(gw.url("/a"), "GET", None, 200).await;
    }
    for _ in 0..3 {
        send(gw.url("/b"), "GET", None, 404).await;
    }
    send(gw.url("/nowhere"), "PROPFIND", None, 404).await;
    for _ in 0..4 {
        send(gw.url("/trap"), "GET", Some(("x-misbehave", "trap")), 503).await;
    }
    for _ in 0..2 {
        send(gw.url("/trap"), "POST", None, 200).await;
    }
    for _ in 0..6 {
        send(gw.url("/mixed"), "GET", None, 200).await;
    }
    send(gw.url("/down"), "GET", None, 502).await;
    send(gw.url("/silent"), "GET", None, 504).await;

    let s = scrape_after(admin_port, 25.0).await;
    promtool_check(&s.text);

    let req = |route, method, class| {
        s.get(
            "weir_requests_total",
            &[
                ("route", route),
                ("method", method),
                ("status_class", class),
            ],
        )
    };
    assert_eq!(req("a", "GET", "2xx"), 7.0);
    assert_eq!(req("a", "GET", "5xx"), 0.0);
    assert_eq!(req("b", "GET", "4xx"), 3.0);
    assert_eq!(req("(unmatched)", "OTHER", "4xx"), 1.0);
    assert_eq!(req("trap", "GET", "5xx"), 4.0);
    assert_eq!(req("trap", "POST", "2xx"), 2.0);
    assert_eq!(req("mixed", "GET", "2xx"), 6.0);
    assert_eq!(req("down", "GET", "5xx"), 1.0);
    assert_eq!(req("silent", "GET", "5xx"), 1.0);
    let count = |route| s.get("weir_request_duration_seconds_count", &[("route", route)]);
    assert_eq!(count("a"), 7.0);
    assert_eq!(count("b"), 3.0);
    // The silent target is given up on after its 300 ms read timeout.
    assert!(s.get("weir_request_duration_seconds_sum", &[("route", "silent")]) >= 0.3);

    let target =
        |name, upstream, address: &str| s.get(name, &[("upstream", upstream), ("target", address)]);
    let live = up.address();
    assert_eq!(target("weir_upstream_requests_total", "svc", &live), 9.0);
    // `mixed`: every attempt at the dead target failed to connect and was
    // retried on the live one, which took all six requests.
    let dead_attempts = target("weir_upstream_requests_total", "mixed", &dead);
    assert!(dead_attempts >= 1.0, "round robin reaches the dead target");
    assert_eq!(
        target("weir_upstream_connect_failures_total", "mixed", &dead),
        dead_attempts
    );
    assert_eq!(
        target("weir_upstream_retries_total", "mixed", &dead),
        dead_attempts
    );
    assert_eq!(target("weir_upstream_requests_total", "mixed", &live), 6.0);
    assert_eq!(
        target("weir_upstream_connect_failures_total", "mixed", &live),
        0.0
    );
    assert_eq!(target("weir_upstream_requests_total", "down", &dead), 1.0);
    assert_eq!(
        target("weir_upstream_connect_failures_total", "down", &dead),
        1.0
    );
    assert_eq!(target("weir_upstream_retries_total", "down", &dead), 0.0);
    assert_eq!(
        target("weir_upstream_timeouts_total", "silent", &silent_addr),
        1.0
    );
    assert_eq!(target("weir_upstream_timeouts_total", "svc", &live), 0.0);
    assert_eq!(target("weir_upstream_target_healthy", "svc", &live), 1.0);
    assert_eq!(target("weir_upstream_target_healthy", "down", &dead), 0.0);

    let failures = |phase, kind| {
        s.get(
            "weir_filter_failures_total",
            &[("filter", "misbehave"), ("phase", phase), ("kind", kind)],
        )
    };
    assert_eq!(failures("request_headers", "trap"), 4.0);
    assert_eq!(failures("request_headers", "deadline"), 0.0);
    assert_eq!(failures("log", "trap"), 0.0);
    let calls = |phase| {
        s.get(
            "weir_filter_call_duration_seconds_count",
            &[("filter", "misbehave"), ("phase", phase)],
        )
    };
    // Every call is timed, the trapped ones too; only the requests that got
    // past the filter reached its log phase.
    assert_eq!(calls("request_headers"), 6.0);
    assert_eq!(calls("log"), 2.0);
    // The filter declares no body phases: no series for them.
    assert_eq!(
        s.find(
            "weir_filter_call_duration_seconds_count",
            &[("filter", "misbehave"), ("phase", "request_body")]
        ),
        None
    );
    // Four failures in six calls stay under the default min_calls (10).
    assert_eq!(
        s.get(
            "weir_filter_circuit_breaker_state",
            &[("filter", "misbehave")]
        ),
        0.0
    );
    assert!(s.get("weir_filter_idle_instances", &[("filter", "misbehave")]) >= 1.0);
    assert_eq!(s.get("weir_config_generation", &[]), 1.0);
    assert_eq!(
        s.get("weir_config_reloads_total", &[("result", "success")]),
        0.0
    );
    drop(silent);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_counts_and_drops_the_series_of_removed_routes() {
    let up = Upstream::start("svc").await;
    let dead = format!("127.0.0.1:{}", free_port());
    let silent = format!("127.0.0.1:{}", free_port());
    let admin_port = free_port();
    let gw = Gateway::start(&metrics_config(&up, &dead, &silent, admin_port, true));
    send(gw.url("/b"), "GET", None, 404).await;
    let before = scrape_after(admin_port, 1.0).await;
    assert!(before.text.contains("route=\"b\""));

    let reload = |expect: u16| async move {
        let (code, outcome) = admin_reload(admin_port).await;
        assert_eq!(code, expect, "{outcome}");
    };
    let config = std::fs::read_to_string(gw.dir().join("weir.yaml")).unwrap();
    let port_line = format!("127.0.0.1:{}", gw.port);
    let without_b = metrics_config(&up, &dead, &silent, admin_port, false)
        .replace("127.0.0.1:{port}", &port_line);
    assert!(config.contains("name: b") && !without_b.contains("name: b"));
    gw.replace_config(&without_b);
    reload(200).await;
    gw.replace_config("routes: [");
    reload(422).await;

    let after = Scrape::take(admin_port).await;
    promtool_check(&after.text);
    assert!(
        !after.text.contains("route=\"b\""),
        "route b's series outlived its removal:\n{}",
        after.text
    );
    assert!(
        after
            .find("weir_request_duration_seconds_count", &[("route", "a")])
            .is_some()
    );
    // The file watcher may reload the same files too: at least ours counted.
    assert!(after.get("weir_config_reloads_total", &[("result", "success")]) >= 1.0);
    assert!(after.get("weir_config_reloads_total", &[("result", "failure")]) >= 1.0);
    assert!(after.get("weir_config_generation", &[]) >= 2.0);
    assert!(after.get("weir_config_last_reload_duration_seconds", &[]) > 0.0);
}

/// The metric names a PromQL expression uses: `weir_` identifiers, with a
/// histogram's `_bucket`, `_sum` and `_count` suffix taken back to its family.
fn metric_names(expr: &str) -> Vec<String> {
    let mut names = Vec::new();
    let bytes = expr.as_bytes();
    let mut i = 0;
    while let Some(at) = expr[i..].find("weir_") {
        let start = i + at;
        let boundary =
            start == 0 || !(bytes[start - 1].is_ascii_alphanumeric() || bytes[start - 1] == b'_');
        let end = expr[start..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(expr.len(), |n| start + n);
        if boundary {
            let name = &expr[start..end];
            let family = ["_bucket", "_sum", "_count"]
                .iter()
                .find_map(|s| name.strip_suffix(s))
                .unwrap_or(name);
            names.push(family.to_owned());
        }
        i = end;
    }
    names
}

fn collect_exprs(value: &serde_json::Value, out: &mut Vec<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("expr" | "query", serde_json::Value::String(e)) => out.push(e.clone()),
                    _ => collect_exprs(v, out),
                }
            }
        }
        serde_json::Value::Array(items) => items.iter().for_each(|v| collect_exprs(v, out)),
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_metric_the_dashboard_queries_exists() {
    let path = workspace_root().join("docs/grafana/weir.json");
    let dashboard: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&path).expect("the dashboard")).expect("JSON");
    let mut exprs = Vec::new();
    collect_exprs(&dashboard, &mut exprs);
    let queried: BTreeSet<String> = exprs.iter().flat_map(|e| metric_names(e)).collect();
    assert!(queried.len() >= 10, "the dashboard queries {queried:?}");

    let up = Upstream::start("svc").await;
    let dead = format!("127.0.0.1:{}", free_port());
    let silent = format!("127.0.0.1:{}", free_port());
    let admin_port = free_port();
    let _gw = Gateway::start(&metrics_config(&up, &dead, &silent, admin_port, true));
    let families = Scrape::take(admin_port).await.families();
    let missing: Vec<_> = queried.difference(&families).collect();
    assert!(
        missing.is_empty(),
        "the dashboard queries metrics weir does not export: {missing:?}"
    );
}

#[test]
fn metric_names_are_found_in_expressions() {
    assert_eq!(
        metric_names(
            "histogram_quantile(0.99, sum by (le, route) (rate(weir_request_duration_seconds_bucket[5m]))) / weir_x_total"
        ),
        ["weir_request_duration_seconds", "weir_x_total"]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_can_be_turned_off() {
    let admin_port = free_port();
    let gw = Gateway::start(&config(&format!(
        "routes:\n  - respond: {{ status: 204 }}\nadmin:\n  address: 127.0.0.1:{admin_port}\n  metrics: false\n"
    )));
    send(gw.url("/"), "GET", None, 204).await;
    let resp = client()
        .get(format!("http://127.0.0.1:{admin_port}/metrics"))
        .send()
        .await
        .expect("admin answers");
    assert_eq!(resp.status(), 404);
}
