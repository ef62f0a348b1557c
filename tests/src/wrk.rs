//! Load for the benchmarks: `wrk` (Debian package `wrk`) pinned to a CPU,
//! and its figures. Benchmarks pin weir to CPU 0 and everything else to CPU
//! 1, so the clients' own work does not come out of weir's share.

use std::process::{Child, Command, Output, Stdio};
use std::time::Duration;

/// One wrk run's figures.
#[derive(Debug, Clone, Copy)]
pub struct Load {
    pub requests: u64,
    pub rps: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// Answers that were not 2xx or 3xx.
    pub non_2xx: u64,
    /// Connections that failed to connect, read or write, or timed out
    /// (wrk's `Socket errors`, all kinds summed).
    pub socket_errors: u64,
}

/// Pins every thread of a process to `cpu` (util-linux `taskset`).
pub fn pin(pid: u32, cpu: u32) {
    let status = Command::new("taskset")
        .args(["-a", "-p", "-c", &cpu.to_string(), &pid.to_string()])
        .stdout(Stdio::null())
        .status()
        .expect("running taskset");
    assert!(status.success(), "taskset failed");
}

/// Starts wrk on CPU 1: one thread, `connections`, for `seconds`, with
/// extra request headers (`name: value`).
pub fn wrk(url: &str, connections: u32, seconds: u32, headers: &[&str]) -> Child {
    let mut cmd = Command::new("taskset");
    cmd.args(["-c", "1", "wrk"])
        .args(["-t1", &format!("-c{connections}"), &format!("-d{seconds}s")])
        .args(["--latency", "--timeout", "5s"]);
    for header in headers {
        cmd.args(["-H", header]);
    }
    cmd.arg(url)
        .stdout(Stdio::piped())
        .spawn()
        .expect("running wrk (apt-get install wrk)")
}

/// Runs wrk to the end and parses its report.
pub fn run(url: &str, connections: u32, seconds: u32, headers: &[&str]) -> Load {
    parse(
        wrk(url, connections, seconds, headers)
            .wait_with_output()
            .unwrap(),
    )
}

pub fn parse(out: Output) -> Load {
    let text = String::from_utf8_lossy(&out.stdout);
    let find = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find_map(|l| l.strip_prefix(prefix))
            .map(|rest| rest.trim().to_owned())
    };
    let field = |prefix: &str| {
        find(prefix).unwrap_or_else(|| panic!("no {prefix:?} in wrk output:\n{text}"))
    };
    // "123456 requests in 10.00s, 45.67MB read"
    let requests = text
        .lines()
        .find(|l| l.contains(" requests in "))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no request count in wrk output:\n{text}"));
    Load {
        requests,
        rps: field("Requests/sec:").parse().expect("a rate"),
        p50: duration(&field("50%")),
        p99: duration(&field("99%")),
        non_2xx: find("Non-2xx or 3xx responses:").map_or(0, |n| n.parse().expect("a count")),
        socket_errors: find("Socket errors:").map_or(0, |errors| socket_errors(&errors)),
    }
}

/// wrk's `connect 0, read 3, write 0, timeout 1`, summed.
fn socket_errors(text: &str) -> u64 {
    text.split(',')
        .filter_map(|kind| kind.split_whitespace().nth(1))
        .map(|n| n.parse::<u64>().expect("a count"))
        .sum()
}

/// wrk's `12.34ms`, `850.00us`, `1.20s`.
fn duration(text: &str) -> Duration {
    let split = text
        .find(|c: char| c.is_ascii_alphabetic())
        .expect("a unit");
    let (value, unit) = text.split_at(split);
    let value: f64 = value.parse().expect("a number");
    let micros = match unit {
        "us" => value,
        "ms" => value * 1e3,
        "s" => value * 1e6,
        "m" => value * 60e6,
        other => panic!("unknown unit {other}"),
    };
    Duration::from_micros(micros as u64)
}

/// CPU time (user + system) a process has used so far, from
/// `/proc/PID/stat` (in clock ticks of 10 ms on Linux).
pub fn cpu_time(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).expect("reading /proc stat");
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').expect("a command name") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 11 and 12 here.
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    Duration::from_millis(ticks * 10)
}

pub fn ms(d: Duration) -> String {
    format!("{:.1} ms", d.as_secs_f64() * 1e3)
}

/// One wrk run (50 connections, `seconds`) against `pid`'s `url`, with the
/// CPU time `pid` used meanwhile. Every answer must be a 2xx: a gateway
/// refusing requests would look fast.
pub fn measure(pid: u32, url: &str, seconds: u32, headers: &[&str]) -> (Load, Duration) {
    let before = cpu_time(pid);
    let load = run(url, 50, seconds, headers);
    let cpu = cpu_time(pid) - before;
    assert_eq!(
        load.non_2xx, 0,
        "{url}: {} answers were not 2xx",
        load.non_2xx
    );
    (load, cpu)
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The medians of several runs of one setup.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub rps: f64,
    pub p50: Duration,
    pub p99: Duration,
    /// The gateway's CPU time per request, in µs.
    pub cpu_us: f64,
}

pub fn summarize(runs: &[(Load, Duration)]) -> Summary {
    let latency = |pick: fn(&Load) -> Duration| {
        let micros = median(
            runs.iter()
                .map(|(l, _)| pick(l).as_micros() as f64)
                .collect(),
        );
        Duration::from_micros(micros as u64)
    };
    Summary {
        rps: median(runs.iter().map(|(l, _)| l.rps).collect()),
        p50: latency(|l| l.p50),
        p99: latency(|l| l.p99),
        cpu_us: median(
            runs.iter()
                .map(|(l, cpu)| cpu.as_secs_f64() * 1e6 / l.requests as f64)
                .collect(),
        ),
    }
}

/// Prints a markdown table, one row per named setup.
pub fn print_table(first_column: &str, rows: &[(&str, Summary)]) {
    println!("| {first_column} | req/s | p50 | p99 | weir CPU µs/req |");
    println!("|---|---|---|---|---|");
    for (name, s) in rows {
        println!(
            "| {name} | {:.0} | {} | {} | {:.1} |",
            s.rps,
            ms(s.p50),
            ms(s.p99),
            s.cpu_us
        );
    }
}

/// `--name N` from the benchmark's arguments, or `default`.
pub fn arg(name: &str, default: u32) -> u32 {
    std::env::args()
        .skip_while(|a| a != name)
        .nth(1)
        .map_or(default, |s| s.parse().expect("a number"))
}
