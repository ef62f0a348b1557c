//! W2: a route behind the built-in chain jwt-auth (HS256) + rate-limit
//! (memory store) + headers, beside the same route with no filters, in one
//! weir, side by side in one run. Target: the chain keeps at least 85% of
//! the plain route's requests/s.
//!
//! weir is pinned to CPU 0, wrk and the upstream to CPU 1. Each round loads
//! the plain route, then the chained one, for `--seconds` each; the table
//! gives the median of `--rounds` rounds: requests/s, p50/p99 and weir's
//! CPU time per request (user + system from /proc, over the whole run).
//! Every answer must be a 200: a chain answering 401 or 429 would look fast.
//!
//! ```sh
//! apt-get install wrk && scripts/build-filters.sh && cargo build --workspace --all-targets
//! cargo test --workspace --bench builtin_chain -- --seconds 10 --rounds 3
//! ```
//!
//! With `--no-work-stealing` weir runs with `server.work_stealing: false`.

use std::time::Duration;

use weir_tests::wrk::{Load, Summary, arg, measure, pin, print_table, summarize};
use weir_tests::{Gateway, Upstream, client, filters, free_port};

#[path = "common/w2.rs"]
mod w2;

fn config(port: u16, up: &Upstream, work_stealing: bool) -> String {
    format!(
        r#"server:
  threads: 1
  work_stealing: {work_stealing}
listeners:
  - name: main
    address: 127.0.0.1:{port}
upstreams:
  app:
    targets: [{{ address: {up} }}]
{sections}filters:
{filters}  tag:
    module: {tag}
    config:
      request: {{ set: {{ x-user-id: "${{ctx.sub}}" }} }}
      response: {{ set: {{ x-served-by: weir }} }}
routes:
  - match: {{ path: {{ prefix: /plain }} }}
    upstream: app
  - match: {{ path: {{ prefix: /chain }} }}
    upstream: app
    filters: [auth, limit, tag]
  - match: {{ path: {{ prefix: /auth }} }}
    upstream: app
    filters: [auth]
  - match: {{ path: {{ prefix: /limit }} }}
    upstream: app
    filters: [auth, limit]
  - match: {{ path: {{ prefix: /tag }} }}
    upstream: app
    filters: [tag]
"#,
        up = up.address(),
        sections = w2::sections(),
        filters = w2::auth_and_limit(),
        tag = filters::HEADERS,
    )
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let seconds = arg("--seconds", 10);
    let rounds = arg("--rounds", 3);
    let work_stealing = !std::env::args().any(|a| a == "--no-work-stealing");
    pin(std::process::id(), 1);
    let up = Upstream::start("app").await;
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    std::fs::write(
        dir.path().join("weir.yaml"),
        config(port, &up, work_stealing),
    )
    .unwrap();
    let gw = Gateway::spawn_with_env(dir, port, &[(w2::SECRET_ENV, w2::SECRET)]);
    pin(gw.pid(), 0);

    // The chain really runs: the upstream sees the claim, the client the tag.
    let bearer = format!("authorization: Bearer {}", w2::token());
    let resp = client()
        .get(gw.url("/chain"))
        .header("authorization", format!("Bearer {}", w2::token()))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-served-by"], "weir");
    let seen: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(seen["headers"]["x-user-id"][0], "user-1");

    // Each filter on its own too (rate-limit after jwt-auth, which gives it
    // its key), to show where the chain's cost goes.
    let routes = [
        ("no filters", "/plain"),
        ("jwt-auth (HS256) + rate-limit (memory) + headers", "/chain"),
        ("jwt-auth alone", "/auth"),
        ("jwt-auth + rate-limit", "/limit"),
        ("headers alone (request and response)", "/tag"),
    ];
    let mut runs: Vec<Vec<(Load, Duration)>> = vec![Vec::new(); routes.len()];
    for _ in 0..rounds {
        for (i, (_, path)) in routes.iter().enumerate() {
            runs[i].push(measure(
                gw.pid(),
                &gw.url(path),
                seconds,
                &[bearer.as_str()],
            ));
        }
    }
    let summaries: Vec<(&str, Summary)> = routes
        .iter()
        .zip(&runs)
        .map(|((name, _), runs)| (*name, summarize(runs)))
        .collect();
    println!(
        "W2, {rounds} rounds of {seconds}s per route, wrk -c50, weir on 1 thread pinned to CPU 0, work_stealing: {work_stealing} (medians)\n"
    );
    print_table("route", &summaries);
    let (plain, chain) = (summaries[0].1, summaries[1].1);
    println!(
        "\nchain / plain: {:.0}% of the requests/s (target ≥ 85%), +{:.1} µs CPU per request",
        100.0 * chain.rps / plain.rps,
        chain.cpu_us - plain.cpu_us
    );
}
