//! weir beside bare Pingora, nginx and HAProxy on loopback: workloads W1-W6
//! (docs/benchmarks.md); W7, routes answered by `wasi:http` handlers, beside
//! `wasmtime serve`. Each proxy runs with one worker pinned to CPU 0; wrk
//! (`-c50`, one thread) and the upstream (the test upstream, in this process:
//! a fixed 512-byte answer, or a 10 KB JSON document for W4) share CPU 1.
//! Per proxy and workload: requests/s, p50/p99 latency (medians of the
//! rounds) and the proxy's CPU time per request (user + system from /proc
//! over the run, divided by the requests), with ratios to bare Pingora and to
//! nginx. Not part of CI's pass/fail; it fails only when a proxy does not do
//! the work it is measured for, or when W5 loses a request.
//!
//! Run through bench/run.sh, which installs the packages and builds the
//! binaries this needs:
//!
//! ```sh
//! bench/run.sh [--seconds N] [--rounds N] [--only W1,W2] [--profile] [--no-write] [--no-work-stealing]
//! ```

mod checks;
mod handlers;
mod haproxy;
mod nginx;
mod profile;
mod proxy;
mod reload;
mod report;
#[path = "../common/w2.rs"]
mod w2;
mod weir;
mod workloads;

use weir_tests::Upstream;
use weir_tests::wrk::{arg, pin};

use report::Section;
use workloads::Opts;

const WORKLOADS: [&str; 7] = ["W1", "W2", "W3", "W4", "W5", "W6", "W7"];

fn flag(name: &str) -> bool {
    std::env::args().any(|a| a == name)
}

/// `--no-work-stealing`: weir with `server.work_stealing: false` and bare
/// Pingora without work stealing either.
pub fn work_stealing() -> bool {
    !flag("--no-work-stealing")
}

/// `--only W1,W3`, or every workload.
fn selected() -> Vec<&'static str> {
    let only = std::env::args().skip_while(|a| a != "--only").nth(1);
    let Some(only) = only else {
        return WORKLOADS.to_vec();
    };
    let wanted: Vec<String> = only.split(',').map(|w| w.trim().to_uppercase()).collect();
    for w in &wanted {
        assert!(
            WORKLOADS.contains(&w.as_str()),
            "unknown workload {w}: one of {WORKLOADS:?}"
        );
    }
    WORKLOADS
        .into_iter()
        .filter(|w| wanted.iter().any(|x| x == w))
        .collect()
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let opts = Opts {
        seconds: arg("--seconds", 10),
        rounds: arg("--rounds", 3),
    };
    let workloads = selected();
    let load_before = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    pin(std::process::id(), 1);
    let up = Upstream::start("app").await;

    let mut sections: Vec<Section> = Vec::new();
    for workload in &workloads {
        println!(
            "{workload}: {} round(s) of {} s per proxy",
            opts.rounds, opts.seconds
        );
        let section = match *workload {
            "W1" => workloads::w1(&up, opts).await,
            "W2" => workloads::w2(&up, opts).await,
            "W3" => workloads::w3(&up, opts).await,
            "W4" => workloads::w4(&up, opts).await,
            "W5" => reload::w5(&up, opts).await,
            "W6" => workloads::w6(&up, opts).await,
            _ => handlers::w7(&up, opts).await,
        };
        println!("{}", report::tables(std::slice::from_ref(&section)));
        sections.push(section);
    }

    let mut results = report::machine(&load_before);
    if !work_stealing() {
        results.push_str(
            "\nRun with `--no-work-stealing`: weir with `server.work_stealing: false`, bare Pingora without work stealing.\n",
        );
    }
    results.push('\n');
    results.push_str(&report::tables(&sections));
    println!("\n{results}");
    let partial = workloads.len() < WORKLOADS.len();
    if flag("--no-write") || ((partial || !work_stealing()) && !flag("--write")) {
        println!("(not written into docs/benchmarks.md)");
    } else {
        report::write_doc(&results);
    }
    if flag("--profile") {
        profile::profile(&up, opts.seconds.max(5)).await;
    }
    let lost: u64 = sections
        .iter()
        .filter(|s| s.id == "W5")
        .flat_map(|s| &s.rows)
        .map(|r| r.failed())
        .sum();
    if lost > 0 {
        eprintln!("W5: {lost} failed requests under reloads (must be 0)");
        std::process::exit(1);
    }
}
