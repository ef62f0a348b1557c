//! `--profile`: where weir's CPU goes under W1 load, beside bare Pingora's.
//! `perf record` (cpu-clock sampling, DWARF call graphs) on each in turn,
//! then `perf report`: the inclusive share of each area, in µs per request
//! too, and weir's top symbols.

use std::process::Command;

use weir_tests::wrk::{parse, wrk};
use weir_tests::{Upstream, free_port, workspace_root};

use crate::proxy::Proxy;
use crate::workloads::{FIXED, Target};
use crate::{checks, weir};

/// Areas of a proxy's CPU time: each the sum of the inclusive time of its
/// frames (frames that do not nest in one another), a frame being the symbol
/// a pattern names that has the most time. Pingora names the phases
/// `<Proxy as ProxyHttp>::phase` for weir and bare Pingora alike. On
/// loopback the sender's `sendto` also runs the receiving peer's TCP receive
/// and wake-up.
const AREAS: [(&str, &[&str]); 12] = [
    (
        "kernel: send (sendto; on loopback includes the peer's receive and wake-up)",
        &["[k] __sys_sendto"],
    ),
    ("kernel: receive (recvfrom)", &["[k] __sys_recvfrom"]),
    ("kernel: epoll_wait", &["[k] do_epoll_wait"]),
    (
        "kernel: getpeername (Pingora's pooled-connection check)",
        &["[k] __sys_getpeername"],
    ),
    (
        "Pingora: read and parse the request",
        &["HttpSession::read_request"],
    ),
    (
        "Pingora: upstream connection pool (reuse, release)",
        &[
            "TransportConnector::reused_stream",
            "Connector<C>::release_http_session",
        ],
    ),
    (
        "phase request_filter (weir: checks, routing)",
        &["ProxyHttp>::request_filter"],
    ),
    ("phase upstream_peer", &["ProxyHttp>::upstream_peer"]),
    (
        "phase upstream_request_filter (weir: forwarding headers, trace context)",
        &["ProxyHttp>::upstream_request_filter"],
    ),
    ("phase response_filter", &["ProxyHttp>::response_filter"]),
    (
        "phase logging (weir: metrics, access log)",
        &["ProxyHttp>::logging"],
    ),
    ("mimalloc (self time)", &[]),
];

/// `(inclusive %, self %, symbol)` of each line of a `perf report --children`.
fn parse_report(report: &str) -> Vec<(f64, f64, &str)> {
    report
        .lines()
        .filter_map(|line| {
            let mut fields = line.split_whitespace();
            let children = fields.next()?.strip_suffix('%')?.parse().ok()?;
            let own = fields.next()?.strip_suffix('%')?.parse().ok()?;
            // `[k] name` or `[.] name`; unresolved addresses are no area.
            let symbol = line[line.find("  [")? + 2..].trim();
            (!symbol.starts_with("[.] 0x")).then_some((children, own, symbol))
        })
        .collect()
}

/// Each area's share of the samples, in %.
fn area_shares(lines: &[(f64, f64, &str)]) -> Vec<f64> {
    AREAS
        .iter()
        .map(|(_, frames)| {
            if frames.is_empty() {
                return lines
                    .iter()
                    .filter(|(_, _, symbol)| symbol.contains("mi_"))
                    .map(|(_, own, _)| own)
                    .sum();
            }
            frames
                .iter()
                .map(|frame| {
                    lines
                        .iter()
                        .filter(|(_, _, symbol)| symbol.contains(frame))
                        .map(|(children, _, _)| *children)
                        .fold(0.0, f64::max)
                })
                .sum()
        })
        .collect()
}

fn perf(args: &[&str]) -> String {
    let out = Command::new("taskset")
        .args(["-c", "1", "perf"])
        .args(args)
        .output()
        .expect("running perf (Debian package linux-perf)");
    assert!(
        out.status.success(),
        "perf {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

struct Profiled {
    /// CPU µs per request over the profiled load (perf's own cost included).
    cpu_us: f64,
    /// The `perf report` lines.
    report: String,
}

/// `perf record` on `proxy` for `seconds` of W1 load.
async fn record(proxy: &Proxy, name: &str, seconds: u32) -> Profiled {
    let target = Target::new(name, proxy, FIXED);
    checks::fixed(&target).await;
    target.measure(1);
    let data = workspace_root().join(format!("target/bench-{name}-w1.perf.data"));
    let data = data.display().to_string();
    let cpu_before = proxy.cpu_time();
    let load = wrk(&proxy.url(FIXED), 50, seconds + 2, &[]);
    let (pid, secs) = (proxy.pid().to_string(), seconds.to_string());
    perf(&[
        "record",
        "-q",
        "-e",
        "cpu-clock",
        "-F",
        "999",
        "--call-graph",
        "dwarf,16384",
        "-p",
        &pid,
        "-o",
        &data,
        "--",
        "sleep",
        &secs,
    ]);
    let load = parse(load.wait_with_output().expect("wrk's report"));
    let cpu = proxy.cpu_time() - cpu_before;
    let report = perf(&[
        "report",
        "-i",
        &data,
        "--stdio",
        "--no-inline",
        "--children",
        "--sort",
        "symbol",
        "-g",
        "none",
        "--percent-limit",
        "0.05",
    ]);
    Profiled {
        cpu_us: cpu.as_secs_f64() * 1e6 / load.requests as f64,
        report,
    }
}

/// Profiles bare Pingora and weir under W1 for `seconds` each; prints the
/// areas side by side and weir's top symbols.
pub async fn profile(up: &Upstream, seconds: u32) {
    let pingora = Proxy::pingora(up).await;
    let bare = record(&pingora, "pingora-bare", seconds).await;
    drop(pingora);
    let port = free_port();
    let proxy = Proxy::weir(weir::plain(port, up), port, &[]);
    let weir = record(&proxy, "weir", seconds).await;

    let (bare_lines, weir_lines) = (parse_report(&bare.report), parse_report(&weir.report));
    let (bare_shares, weir_shares) = (area_shares(&bare_lines), area_shares(&weir_lines));
    let mut out = format!(
        "perf record -e cpu-clock --call-graph dwarf, {seconds} s of W1 load on each; inclusive \
         share of each proxy's samples, and that share of its CPU µs per request \
         ({:.1} for bare Pingora, {:.1} for weir, perf's own cost included):\n\n\
         | area | bare Pingora | µs/req | weir | µs/req |\n|---|---|---|---|---|\n",
        bare.cpu_us, weir.cpu_us
    );
    let row = |name: &str, b: f64, w: f64| {
        format!(
            "| {name} | {b:.1}% | {:.1} | {w:.1}% | {:.1} |\n",
            b * bare.cpu_us / 100.0,
            w * weir.cpu_us / 100.0
        )
    };
    for (((name, _), b), w) in AREAS.iter().zip(&bare_shares).zip(&weir_shares) {
        out.push_str(&row(name, *b, *w));
    }
    out.push_str(&row(
        "the rest (tokio, Pingora's response path, ...)",
        100.0 - bare_shares.iter().sum::<f64>(),
        100.0 - weir_shares.iter().sum::<f64>(),
    ));
    out.push_str("\nweir's top symbols by inclusive share (children, self):\n\n```\n");
    for (children, own, symbol) in weir_lines.iter().take(40) {
        let symbol: String = symbol.chars().take(140).collect();
        out.push_str(&format!(
            "{children:6.2}% {own:6.2}%  {}\n",
            symbol.trim_end_matches([' ', '-'])
        ));
    }
    out.push_str("```\n");
    println!("{out}");
}
