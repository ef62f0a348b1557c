//! Reload latency: from the moment a new config file is in place to the
//! moment the new generation answers requests, through the file watcher.
//! The config has 100 routes and 10 filters (compiles are cache hits after
//! the first). Prints p50, p90, p99 and max over the rounds.
//!
//! ```sh
//! scripts/build-filters.sh
//! cargo test --workspace --bench reload_latency -- --rounds 50
//! ```
//!
//! It runs through `cargo test` so that it reuses the test suite's build.

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use weir_tests::{Gateway, Upstream, client, filters, free_port};

const ROUTES: usize = 100;
const FILTERS: usize = 10;

fn config(port: u16, upstream: &Upstream, generation: usize) -> String {
    let module = filters::TEST_TAG;
    let mut text = format!(
        "server:\n  threads: 2\nlisteners:\n  - name: main\n    address: 127.0.0.1:{port}\n\
         upstreams:\n  svc:\n    targets: [{{ address: {} }}]\nfilters:\n",
        upstream.address()
    );
    for f in 0..FILTERS {
        writeln!(
            text,
            "  f{f}:\n    module: {module}\n    config: {{ name: gen-{generation}-f{f} }}",
        )
        .unwrap();
    }
    text.push_str("routes:\n");
    let chain: Vec<String> = (0..FILTERS).map(|f| format!("f{f}")).collect();
    writeln!(
        text,
        "  - name: probe\n    match: {{ path: {{ prefix: /probe }} }}\n    upstream: svc\n    filters: [{}]",
        chain.join(", ")
    )
    .unwrap();
    for r in 1..ROUTES {
        writeln!(
            text,
            "  - name: r{r}\n    match: {{ path: {{ exact: /r{r} }}, methods: [GET] }}\n    respond: {{ status: 200, body: \"gen {generation} route {r}\" }}"
        )
        .unwrap();
    }
    text
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let rounds: usize = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(50);

    let upstream = Upstream::start("svc").await;
    let port = free_port();
    let gw = Gateway::start_on(config(port, &upstream, 0), port);
    let http = client();
    let url = gw.url("/probe");
    let mut samples = Vec::with_capacity(rounds);
    for generation in 1..=rounds {
        let expected = format!("gen-{generation}-f0");
        let started = Instant::now();
        gw.replace_config(&config(port, &upstream, generation));
        loop {
            let resp = http
                .get(&url)
                .send()
                .await
                .expect("the gateway answers during reloads");
            assert_eq!(resp.status(), 200, "no request fails during a reload");
            let served = resp
                .headers()
                .get_all("x-chain-resp")
                .iter()
                .any(|v| v.as_bytes() == expected.as_bytes());
            if served {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "generation {generation} never served"
            );
        }
        samples.push(started.elapsed());
    }
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "reload latency, file in place -> new generation serving ({rounds} rounds, {ROUTES} routes, {FILTERS} filters): \
         p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        ms(percentile(&samples, 0.50)),
        ms(percentile(&samples, 0.90)),
        ms(percentile(&samples, 0.99)),
        ms(*samples.last().unwrap()),
    );
}
