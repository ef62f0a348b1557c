//! W7: routes answered by `wasi:http` handlers (docs/handlers.md). The same
//! hello-world component (filters/handlers/handler-hello) answered by weir (a
//! route with `handler: hello`) and by `wasmtime serve`, each pinned to CPU 0
//! like the other proxies; the hello handlers in JavaScript, Python and Go
//! likewise when scripts/build-language-filters.sh built them. Then weir's
//! own histogram of a handler's time to its response head
//! (`weir_handler_answer_duration_seconds`: a fresh instance and the call
//! until the head), scraped from its admin endpoint.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use weir_tests::{Upstream, filters, free_port, metrics_text};

use crate::checks;
use crate::proxy::Proxy;
use crate::report::{Row, Section};
use crate::weir;
use crate::workloads::{Opts, Target, measure_all};

/// What every hello handler answers when `GREETING` is not set.
pub const HELLO: &str = "hello from a weir handler\n";

/// The histogram scraped after the load.
const ANSWER: &str = "weir_handler_answer_duration_seconds";

/// A hello handler: its name in weir's config (its route is `/<name>`), what
/// the rows call it, the component.
struct Hello {
    name: &'static str,
    what: &'static str,
    module: &'static str,
}

/// handler-hello, and those of hello-js, hello-py and hello-go that were
/// built when this benchmark was compiled, with a note for the others.
fn hellos() -> (Vec<Hello>, Vec<String>) {
    let mut hellos = vec![Hello {
        name: "hello",
        what: "hello (Rust)",
        module: filters::HANDLER_HELLO,
    }];
    let mut notes = Vec::new();
    for (name, component, what) in [
        ("js", "hello-js", "hello-js (JavaScript)"),
        ("py", "hello-py", "hello-py (Python)"),
        ("go", "hello-go", "hello-go (Go)"),
    ] {
        match filters::optional_language_filter(component) {
            Some(module) => hellos.push(Hello { name, what, module }),
            None => notes.push(format!(
                "{component} skipped: not built when this benchmark was compiled \
                 (scripts/build-language-filters.sh, then build again)."
            )),
        }
    }
    (hellos, notes)
}

/// `wasmtime` for the `wasmtime serve` rows: `WASMTIME_BIN`, which
/// bench/run.sh sets (bench/wasmtime.sh builds it from crates.io), or why
/// those rows cannot run.
fn wasmtime_bin() -> Result<(PathBuf, String), String> {
    let bin = std::env::var_os("WASMTIME_BIN")
        .map(PathBuf::from)
        .ok_or("WASMTIME_BIN is not set (bench/run.sh sets it, from bench/wasmtime.sh)")?;
    let out = Command::new(&bin)
        .arg("--version")
        .output()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let version = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    Ok((bin, version))
}

pub async fn w7(up: &Upstream, opts: Opts) -> Section {
    let mut section = Section::new(
        "W7",
        "wasi:http handlers: hello world answered by weir and by wasmtime serve",
    );
    let (hellos, mut notes) = hellos();
    let rust = &hellos[0];

    // weir: the Rust hello alone, no admin endpoint (no metrics), as W1's
    // first weir row; and every hello behind one weir with metrics on.
    let port = free_port();
    let bare = Proxy::weir(
        weir::handlers(port, None, up, &[(rust.name, rust.module)]),
        port,
        &[],
    );
    let (port, admin) = (free_port(), free_port());
    let all: Vec<(&str, &str)> = hellos.iter().map(|h| (h.name, h.module)).collect();
    let observed = Proxy::weir(weir::handlers(port, Some(admin), up, &all), port, &[]);

    let wasmtime = wasmtime_bin();
    let mut served: Vec<Option<Proxy>> = Vec::new();
    match &wasmtime {
        Ok((bin, version)) => {
            for hello in &hellos {
                served.push(Some(Proxy::wasmtime_serve(bin, hello.module).await));
            }
            notes.push(format!(
                "wasmtime serve: `{version}` (crates.io `wasmtime-cli`, bench/wasmtime.sh), \
                 `wasmtime serve -S cli --addr 127.0.0.1:PORT COMPONENT` (`-S cli`: the components import `wasi:cli/environment`, which serve links only with it), its defaults otherwise \
                 (pooling allocator, a fresh instance per request), pinned to CPU 0 from its \
                 start, so its tokio runtime has one worker thread."
            ));
        }
        Err(why) => {
            println!("W7: the wasmtime serve rows skipped: {why}");
            notes.push(format!("wasmtime serve rows skipped: {why}."));
            served.extend(hellos.iter().map(|_| None));
        }
    }

    // The rows, and which weir row each wasmtime serve row compares with.
    let mut targets: Vec<Target> = Vec::new();
    let mut pairs: Vec<(usize, usize, &str)> = Vec::new();
    targets.push(Target::new(
        "weir: handler hello (Rust); no metrics",
        &bare,
        "/hello",
    ));
    for (hello, wasmtime) in hellos.iter().zip(&served) {
        let path = format!("/{}", hello.name);
        targets.push(Target::new(
            &format!("weir: handler {}; metrics on", hello.what),
            &observed,
            &path,
        ));
        if let Some(wasmtime) = wasmtime {
            targets.push(Target::new(
                &format!("wasmtime serve: {}", hello.what),
                wasmtime,
                &path,
            ));
            let w = targets.len() - 1;
            if hello.name == rust.name {
                pairs.push((0, w, hello.what));
            }
            pairs.push((w - 1, w, hello.what));
        }
    }
    for target in &targets {
        checks::hello(target).await;
    }

    let proxies: Vec<&Proxy> = targets.iter().map(|t| t.proxy).collect();
    let before: Vec<(Duration, Duration)> = proxies.iter().map(|p| p.cpu_user_system()).collect();
    section.rows = measure_all(&targets, opts);
    let after: Vec<(Duration, Duration)> = proxies.iter().map(|p| p.cpu_user_system()).collect();

    for &(weir_row, wasmtime_row, what) in &pairs {
        let (weir, wasmtime) = (&section.rows[weir_row], &section.rows[wasmtime_row]);
        section.notes.push(format!(
            "{what}, {} / wasmtime serve: {:.2}× the requests/s, {:.2}× the CPU time per request.",
            weir.setup,
            weir.summary.rps / wasmtime.summary.rps,
            weir.summary.cpu_us / wasmtime.summary.cpu_us,
        ));
    }
    section
        .notes
        .push(cpu_split(&section.rows, &before, &after));

    let metrics = metrics_text(admin).await;
    for hello in &hellos {
        section
            .notes
            .push(match answer_histogram(&metrics, hello.name) {
                Some(h) => h.describe(hello.name),
                None => format!(
                    "no `{ANSWER}{{handler=\"{}\"}}` in weir's /metrics",
                    hello.name
                ),
            });
    }
    section.notes.extend(notes);
    section
}

/// Each row's CPU time per request split into user and system time, in
/// the shares its process used over the whole workload (warm-up included;
/// the weir with metrics serves several rows, so its split is theirs
/// together).
fn cpu_split(
    rows: &[Row],
    before: &[(Duration, Duration)],
    after: &[(Duration, Duration)],
) -> String {
    let mut parts = Vec::new();
    for (i, row) in rows.iter().enumerate() {
        let user = (after[i].0 - before[i].0).as_secs_f64();
        let system = (after[i].1 - before[i].1).as_secs_f64();
        if user + system == 0.0 {
            continue;
        }
        let share = user / (user + system);
        parts.push(format!(
            "{}: {:.1} user + {:.1} system",
            row.setup,
            row.summary.cpu_us * share,
            row.summary.cpu_us * (1.0 - share)
        ));
    }
    format!(
        "CPU µs per request split into user and system time (/proc/PID/stat, in the \
         shares of each process's CPU time over the whole workload): {}.",
        parts.join("; ")
    )
}

/// One handler's `weir_handler_answer_duration_seconds`: cumulative
/// buckets (upper bound in seconds, count), `+Inf` last.
struct Histogram {
    buckets: Vec<(f64, f64)>,
    sum: f64,
}

/// `handler`'s histogram in the Prometheus text `metrics`.
fn answer_histogram(metrics: &str, handler: &str) -> Option<Histogram> {
    let label = format!("handler=\"{handler}\"");
    let mut buckets = Vec::new();
    let mut sum = None;
    for line in metrics.lines() {
        let Some((series, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Some((name, labels)) = series.split_once('{') else {
            continue;
        };
        let labels = labels.trim_end_matches('}');
        if !labels.split(',').any(|l| l == label) {
            continue;
        }
        let value: f64 = value.parse().ok()?;
        if name == format!("{ANSWER}_bucket") {
            let le = labels
                .split(',')
                .find_map(|l| l.strip_prefix("le=\""))?
                .trim_end_matches('"');
            let le = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().ok()?
            };
            buckets.push((le, value));
        } else if name == format!("{ANSWER}_sum") {
            sum = Some(value);
        }
    }
    buckets.sort_by(|a, b| a.0.total_cmp(&b.0));
    let total = buckets.last()?.1;
    (total > 0.0).then_some(Histogram { buckets, sum: sum? })
}

impl Histogram {
    fn total(&self) -> f64 {
        self.buckets.last().map_or(0.0, |b| b.1)
    }

    /// The `q` quantile as Prometheus' `histogram_quantile` computes it: the
    /// bucket holding the rank, linear interpolation within it (from 0 for
    /// the first bucket); in the `+Inf` bucket, the highest finite bound.
    fn quantile(&self, q: f64) -> f64 {
        let rank = q * self.total();
        let (mut lower, mut below) = (0.0, 0.0);
        for &(le, count) in &self.buckets {
            if count >= rank {
                if le.is_infinite() {
                    return lower;
                }
                let inside = count - below;
                if inside == 0.0 {
                    return le;
                }
                return lower + (le - lower) * (rank - below) / inside;
            }
            (lower, below) = (le, count);
        }
        lower
    }

    /// The share of answers within `le` seconds (a bucket bound: exact).
    fn share(&self, le: f64) -> f64 {
        let count = self
            .buckets
            .iter()
            .find(|b| (b.0 - le).abs() < 1e-12)
            .map_or(f64::NAN, |b| b.1);
        count / self.total()
    }

    fn describe(&self, handler: &str) -> String {
        let us = |s: f64| format!("{:.0} µs", s * 1e6);
        let pct = |le: f64| format!("{:.1}%", 100.0 * self.share(le));
        let p50_met = if self.share(50e-6) >= 0.5 {
            "met"
        } else {
            "not met"
        };
        let p99 = if self.share(100e-6) >= 0.99 {
            "met (99% within 100 µs)"
        } else if self.share(250e-6) < 0.99 {
            "not met (under 99% within 250 µs)"
        } else {
            "not decided by the buckets (99% within 250 µs, not within 100 µs)"
        };
        format!(
            "`{ANSWER}{{handler=\"{handler}\"}}` (weir with metrics, every answer since it \
             started: {total:.0}): p50 {p50}, p99 {p99q} (interpolated within the buckets as \
             Prometheus' histogram_quantile does), mean {mean}; within 25 µs {s25}, 50 µs {s50}, \
             100 µs {s100}, 250 µs {s250}, 500 µs {s500}, 1 ms {s1000} (exact: bucket bounds). \
             Target p50 ≤ 50 µs: {p50_met}; p99 ≤ 200 µs: {p99}.",
            total = self.total(),
            p50 = us(self.quantile(0.5)),
            p99q = us(self.quantile(0.99)),
            mean = us(self.sum / self.total()),
            s25 = pct(25e-6),
            s50 = pct(50e-6),
            s100 = pct(100e-6),
            s250 = pct(250e-6),
            s500 = pct(500e-6),
            s1000 = pct(1e-3),
        )
    }
}
