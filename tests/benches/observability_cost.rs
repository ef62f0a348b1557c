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

use weir_tests::wrk::{Load, cpu_time, ms, pin, run};
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

/// One wrk run with weir's CPU time over it.
fn measure(gw: &Gateway, seconds: u32) -> (Load, Duration) {
    let before = cpu_time(gw.pid());
    let load = run(&gw.url("/w1"), 50, seconds, &[]);
    let cpu = cpu_time(gw.pid()) - before;
    assert_eq!(load.non_2xx, 0, "{} answers were not 2xx", load.non_2xx);
    (load, cpu)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn arg(name: &str, default: u32) -> u32 {
    std::env::args()
        .skip_while(|a| a != name)
        .nth(1)
        .map_or(default, |s| s.parse().expect("a number"))
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
            let run = measure(gw, seconds);
            served[i] += run.0.requests as usize;
            runs[i].push(run);
        }
    }
    let rps = |runs: &[(Load, Duration)]| median(runs.iter().map(|(l, _)| l.rps).collect());
    let cpu_us = |runs: &[(Load, Duration)]| {
        median(
            runs.iter()
                .map(|(l, cpu)| cpu.as_secs_f64() * 1e6 / l.requests as f64)
                .collect(),
        )
    };
    let p = |runs: &[(Load, Duration)], pick: fn(&Load) -> Duration| {
        let micros = median(
            runs.iter()
                .map(|(l, _)| pick(l).as_micros() as f64)
                .collect(),
        );
        ms(Duration::from_micros(micros as u64))
    };
    println!(
        "W1, {rounds} rounds of {seconds}s per weir, wrk -c50, weir on 1 thread pinned to CPU 0 (medians)\n"
    );
    println!("| observability | req/s | p50 | p99 | weir CPU µs/req |");
    println!("|---|---|---|---|---|");
    for ((name, ..), runs) in VARIANTS.iter().zip(&runs) {
        println!(
            "| {name} | {:.0} | {} | {} | {:.1} |",
            rps(runs),
            p(runs, |l| l.p50),
            p(runs, |l| l.p99),
            cpu_us(runs),
        );
    }
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
    let ratio = cpu_us(&runs[1]) / cpu_us(&runs[0]);
    println!(
        "\nboth on / both off: {:.3}× weir CPU per request ({:+.1}%, target ≤ +5%)",
        ratio,
        100.0 * (ratio - 1.0),
    );
    for i in 2..VARIANTS.len() {
        let r = cpu_us(&runs[i]) / cpu_us(&runs[0]);
        println!("{} / both off: {:+.1}%", VARIANTS[i].0, 100.0 * (r - 1.0));
    }
}
