//! The noisy neighbour: how much of a route's throughput survives while 20
//! connections hammer another route of the same weir whose filter runs to its
//! 100 ms deadline on every call (`test-misbehave`, `x-misbehave: loop`).
//!
//! For each setting of the runaway filter, and for a baseline where `/slow`
//! has no filter and answers 503 directly, it measures the other route alone,
//! then under the hammering, side by side in one run, with `wrk` (Debian
//! package `wrk`), and prints a markdown table: requests/s, p50 and p99, and
//! the share of its solo throughput the other route kept. weir is pinned to
//! CPU 0 and everything else (wrk, the upstream) to CPU 1, so the clients'
//! own work does not come out of weir's share (on a machine with 2 CPUs).
//!
//! ```sh
//! apt-get install wrk && scripts/build-filters.sh
//! cargo test --workspace --bench noisy_neighbour -- --seconds 10
//! ```
//!
//! It runs through `cargo test` so that it reuses the test suite's build.

use weir_tests::wrk::{Load, ms, parse, pin, wrk};
use weir_tests::{Gateway, Upstream, filters};

/// `runaway`: the filter's settings, or `None` for the baseline where
/// `/slow` has no filter and answers a direct 503.
fn config(up: &Upstream, runaway: Option<&str>) -> String {
    let (filters, slow) = match runaway {
        Some(settings) => (
            format!(
                "filters:\n  runaway:\n    module: {}\n{settings}",
                filters::TEST_MISBEHAVE
            ),
            "upstream: svc\n    filters: [runaway]".to_owned(),
        ),
        None => (String::new(), "respond: { status: 503 }".to_owned()),
    };
    format!(
        "server:\n  threads: 2\nlisteners:\n  - name: main\n    address: 127.0.0.1:{{port}}\n\
         upstreams:\n  svc:\n    targets: [{{ address: {} }}]\n{filters}\
         routes:\n  - match: {{ path: {{ prefix: /slow }} }}\n    {slow}\n  - match: {{ path: {{ prefix: /fast }} }}\n    upstream: svc\n",
        up.address(),
    )
}

fn measure(gw: &Gateway, seconds: u32) -> (Load, Load, Load) {
    let alone = parse(
        wrk(&gw.url("/fast"), 20, seconds, &[])
            .wait_with_output()
            .unwrap(),
    );
    let hammer = wrk(&gw.url("/slow"), 20, seconds, &["x-misbehave: loop"]);
    let shared = parse(
        wrk(&gw.url("/fast"), 20, seconds, &[])
            .wait_with_output()
            .unwrap(),
    );
    let runaway = parse(hammer.wait_with_output().unwrap());
    (alone, shared, runaway)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let seconds: u32 = std::env::args()
        .skip_while(|a| a != "--seconds")
        .nth(1)
        .map_or(10, |s| s.parse().expect("--seconds N"));
    pin(std::process::id(), 1);
    let up = Upstream::start("svc").await;
    let settings = [
        (
            "defaults (breaker on, 100 concurrent calls)",
            Some("    limits: { call_deadline: 100ms }\n"),
        ),
        (
            "breaker off (epoch yields only)",
            Some("    limits: { call_deadline: 100ms }\n    circuit_breaker: { enabled: false }\n"),
        ),
        (
            "breaker off, max_concurrent_calls: 2",
            Some(
                "    limits: { call_deadline: 100ms, max_concurrent_calls: 2 }\n    circuit_breaker: { enabled: false }\n",
            ),
        ),
        // The same traffic with no filter at all: the most isolation can give.
        ("baseline: no filter, /slow answers 503 directly", None),
    ];
    println!(
        "| runaway filter | other route alone | with 20 conns on the runaway route | kept | p50 alone / shared | p99 alone / shared | runaway route answered |"
    );
    println!("|---|---|---|---|---|---|---|");
    for (name, runaway) in settings {
        let gw = Gateway::start(&config(&up, runaway));
        pin(gw.pid(), 0);
        let (alone, shared, runaway) = measure(&gw, seconds);
        println!(
            "| {name} | {:.0} req/s | {:.0} req/s | {:.0}% | {} / {} | {} / {} | {:.0} req/s |",
            alone.rps,
            shared.rps,
            100.0 * shared.rps / alone.rps,
            ms(alone.p50),
            ms(shared.p50),
            ms(alone.p99),
            ms(shared.p99),
            runaway.rps,
        );
    }
}
