//! The cost of observability on W1 (plain proxy, no filters): one weir with
//! Prometheus metrics (`admin.metrics`, on by default) and the access log (JSON,
//! every field, to a file) beside one with both off, side by side in one run;
//! and, to show where the cost goes, one with each alone. Target: at most 5%
//! more weir CPU time per request with both on.
//!
//! The weirs run on 1 thread pinned to CPU 0 (one loaded at a time), wrk and
//! the upstream on CPU 1. Each round loads every weir in turn for `--seconds`
//! each; the table gives the medians of `--rounds` rounds. Every answer must
//! be a 200, and the weirs with the access log must have written one line per
//! request (none dropped).
//!
//! ```sh
//! apt-get install wrk && cargo build --workspace --all-targets
//! cargo test --workspace --bench observability_cost -- --seconds 10 --rounds 3
//! ```

use std::time::Duration;

use weir_tests::wrk::{Load, Summary, arg, measure, pin, print_table, summarize};
use weir_tests::{Gateway, Upstream, client, free_port, wait_until};

/// (name, metrics, access log)
const VARIANTS: [(&str, bool, bool); 4] = [
    ("metrics off, access log off", false, false),
    (
        "metrics on, access log on (JSON, all fields, file)",
        true,
        true,
    ),
    ("metrics on, access log off", true, false),
    ("metrics off, access log on", false, true),
];

fn config(port: u16, admin: u16, up: &Upstream, metrics: bool, access_log: bool) -> String {
    let mut observability = format!("admin:\n  address: 127.0.0.1:{admin}\n  metrics: {metrics}\n");
    if access_log {
        observability.push_str("access_log:\n  format: json\n  path: access.log\n");
    }
    format!(
        "server:\n  threads: 1\nlisteners:\n  - name: main\n    address: 127.0.0.1:{port}\nupstreams:\n  app:\n    targets: [{{ address: {} }}]\nroutes:\n  - name: w1\n    match: {{ path: {{ prefix: / }} }}\n    upstream: app\n{observability}",
        up.address()
    )
}

fn start(up: &Upstream, metrics: bool, access_log: bool) -> (Gateway, u16) {
    let dir = tempfile::tempdir().unwrap();
    let (port, admin) = (free_port(), free_port());
    std::fs::write(
        dir.path().join("weir.yaml"),
        config(port, admin, up, metrics, access_log),
    )
    .unwrap();
    let gw = Gateway::spawn(dir, port);
    pin(gw.pid(), 0);
    (gw, admin)
}

fn access_lines(gw: &Gateway) -> usize {
    std::fs::read(gw.dir().join("access.log"))
        .map(|b| b.iter().filter(|&&c| c == b'\n').count())
        .unwrap_or(0)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let seconds = arg("--seconds", 10);
    let rounds = arg("--rounds", 3);
    pin(std::process::id(), 1);
    let up = Upstream::start("app").await;
    let weirs: Vec<(Gateway, u16)> = VARIANTS
        .iter()
        .map(|(_, metrics, access_log)| start(&up, *metrics, *access_log))
        .collect();

    // Each weir really records what it should: /metrics and the log.
    for ((gw, admin), (name, metrics, access_log)) in weirs.iter().zip(VARIANTS) {
        assert_eq!(
            client().get(gw.url("/w1")).send().await.unwrap().status(),
            200
        );
        let scrape = client()
            .get(format!("http://127.0.0.1:{admin}/metrics"))
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(scrape == 200, metrics, "{name}: /metrics answered {scrape}");
        if access_log {
            wait_until(Duration::from_secs(10), "the first access-log line", || {
                access_lines(gw) == 1
            });
        }
    }

    let mut runs: Vec<Vec<(Load, Duration)>> = vec![Vec::new(); VARIANTS.len()];
    let mut served = vec![1; VARIANTS.len()];
    for _ in 0..rounds {
        for (i, (gw, _)) in weirs.iter().enumerate() {
            let run = measure(gw.pid(), &gw.url("/w1"), seconds, &[]);
            served[i] += run.0.requests as usize;
            runs[i].push(run);
        }
    }
    let summaries: Vec<(&str, Summary)> = VARIANTS
        .iter()
        .zip(&runs)
        .map(|((name, ..), runs)| (*name, summarize(runs)))
        .collect();
    println!(
        "W1, {rounds} rounds of {seconds}s per weir, wrk -c50, weir on 1 thread pinned to CPU 0 (medians)\n"
    );
    print_table("observability", &summaries);
    // wrk counts completed requests; a few more may have been in flight when
    // it stopped, so the log may hold slightly more lines, never fewer.
    for ((gw, _), (i, (name, _, access_log))) in weirs.iter().zip(VARIANTS.iter().enumerate()) {
        if *access_log {
            wait_until(Duration::from_secs(20), "every access-log line", || {
                access_lines(gw) >= served[i]
            });
            println!(
                "{name}: {} access-log lines for {} requests",
                access_lines(gw),
                served[i]
            );
        }
    }
    let off = summaries[0].1.cpu_us;
    let ratio = summaries[1].1.cpu_us / off;
    println!(
        "\nboth on / both off: {:.3}× weir CPU per request ({:+.1}%, target ≤ +5%)",
        ratio,
        100.0 * (ratio - 1.0),
    );
    for (name, summary) in &summaries[2..] {
        let r = summary.cpu_us / off;
        println!("{name} / both off: {:+.1}%", 100.0 * (r - 1.0));
    }
}
