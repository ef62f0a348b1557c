//! Concurrency: the reference filter (`filters/reference`) alone on a route,
//! built from Rust, Python and JavaScript, under 5, 10, 20 and 50 connections
//! (`wrk -t1`, pinned to CPU 1; weir on CPU 0 with two worker threads):
//! requests/s, p99, requests not answered 2xx, and the share of the best of
//! 5 to 20 connections that 50 keeps. Then weir's resident memory. Each
//! build runs with `isolation: pooled` (a request holds an instance for all
//! five phases) and `isolation: shared` (an instance per call; the reference
//! filter keeps its per-request values in the context bag, so it may).
//!
//! ```sh
//! apt-get install wrk && scripts/build-filters.sh && scripts/build-language-filters.sh
//! cargo test --workspace --bench concurrency -- --seconds 5
//! ```
//!
//! It runs through `cargo test` so that it reuses the test suite's build.

use weir_tests::wrk::{ms, pin, run};
use weir_tests::{Gateway, Upstream, filters};

const CONNECTIONS: [u32; 4] = [5, 10, 20, 50];

fn config(up: &Upstream, module: &str, isolation: &str) -> String {
    format!(
        "server:\n  threads: 2\nlisteners:\n  - name: main\n    address: 127.0.0.1:{{port}}\n\
         key_value:\n  counters:\n    memory: {{}}\n\
         upstreams:\n  svc:\n    targets: [{{ address: {up} }}]\n\
         filters:\n  reference:\n    module: {module}\n    config: {{ store: counters }}\n    grants: {{ key_value: [counters] }}\n    isolation: {isolation}\n\
         routes:\n  - match: {{ path: {{ prefix: /ref }} }}\n    upstream: svc\n    filters: [reference]\n",
        up = up.address(),
    )
}

fn rss_mb(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let seconds: u32 = std::env::args()
        .skip_while(|a| a != "--seconds")
        .nth(1)
        .map_or(5, |s| s.parse().expect("--seconds N"));
    pin(std::process::id(), 1);
    let up = Upstream::start("svc").await;
    let builds = [
        ("Rust", Some(filters::REFERENCE_RUST)),
        (
            "Python",
            filters::optional_language_filter("reference-python"),
        ),
        (
            "JavaScript",
            filters::optional_language_filter("reference-js"),
        ),
    ];
    println!(
        "Reference filter alone on a route, wrk -t1, {seconds} s per step, weir on 2 worker threads pinned to CPU 0\n"
    );
    println!(
        "| filter | isolation | c5 | c10 | c20 | c50 | c50 ÷ best of 5–20 | p99 at c50 | not 2xx (all steps) | RSS after |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    let runs = builds
        .iter()
        .flat_map(|&(language, module)| ["pooled", "shared"].map(|i| (language, module, i)));
    for (language, module, isolation) in runs {
        let Some(module) = module else {
            println!(
                "| {language} | {isolation} | not built (scripts/build-language-filters.sh) |"
            );
            continue;
        };
        let gw = Gateway::start(&config(&up, module, isolation));
        pin(gw.pid(), 0);
        let url = gw.url("/ref/hello");
        // Warm the instances and the compiled code.
        run(&url, 5, 1, &["x-ref-name: alice"]);
        let loads: Vec<_> = CONNECTIONS
            .iter()
            .map(|&c| run(&url, c, seconds, &["x-ref-name: alice"]))
            .collect();
        let best = loads[..3].iter().map(|l| l.rps).fold(0.0, f64::max);
        let last = &loads[3];
        let failed: u64 = loads.iter().map(|l| l.non_2xx + l.socket_errors).sum();
        println!(
            "| {language} | {isolation} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | {} | {failed} | {:.0} MB |",
            loads[0].rps,
            loads[1].rps,
            loads[2].rps,
            last.rps,
            last.rps / best,
            ms(last.p99),
            rss_mb(gw.pid()),
        );
    }
}
