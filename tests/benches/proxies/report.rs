//! The results as markdown: one table per workload with CPU ratios to bare
//! Pingora and to nginx, the machine, the versions and the command; printed,
//! and written between the markers of docs/benchmarks.md.

use std::fmt::Write as _;
use std::process::Command;

use std::time::Duration;

use weir_tests::wrk::{Load, Summary, ms, summarize};
use weir_tests::{weir_bin, workspace_root};

use crate::proxy::Kind;

pub struct Row {
    pub setup: String,
    pub kind: Kind,
    pub summary: Summary,
    /// Summed over the rounds.
    pub non_2xx: u64,
    pub socket_errors: u64,
}

impl Row {
    pub fn new(setup: &str, kind: Kind, runs: &[(Load, Duration)]) -> Row {
        Row {
            setup: setup.to_owned(),
            kind,
            summary: summarize(runs),
            non_2xx: runs.iter().map(|(l, _)| l.non_2xx).sum(),
            socket_errors: runs.iter().map(|(l, _)| l.socket_errors).sum(),
        }
    }

    pub fn failed(&self) -> u64 {
        self.non_2xx + self.socket_errors
    }

    fn failed_cell(&self) -> String {
        match self.failed() {
            0 => "0".into(),
            n => format!(
                "**{n}** ({} non-2xx, {} socket errors)",
                self.non_2xx, self.socket_errors
            ),
        }
    }
}

pub struct Section {
    pub id: &'static str,
    pub title: &'static str,
    pub rows: Vec<Row>,
    pub notes: Vec<String>,
}

impl Section {
    pub fn new(id: &'static str, title: &'static str) -> Section {
        Section {
            id,
            title,
            rows: Vec::new(),
            notes: Vec::new(),
        }
    }
}

/// The first row of `kind` in `section`, else in W1 (the ratios' baseline).
fn baseline<'a>(sections: &'a [Section], section: &'a Section, kind: Kind) -> Option<&'a Row> {
    let first = |s: &'a Section| s.rows.iter().find(|r| r.kind == kind);
    first(section).or_else(|| sections.iter().find(|s| s.id == "W1").and_then(first))
}

fn ratio(cpu_us: f64, base: Option<&Row>) -> String {
    base.map_or("–".into(), |b| {
        format!("{:.2}×", cpu_us / b.summary.cpu_us)
    })
}

/// `37920.4` as `37,920`.
fn thousands(value: f64) -> String {
    let digits = format!("{value:.0}");
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Every section's table and notes.
pub fn tables(sections: &[Section]) -> String {
    let mut out = String::new();
    for section in sections {
        writeln!(out, "**{}: {}**\n", section.id, section.title).unwrap();
        if !section.rows.is_empty() {
            out.push_str(
                "| proxy | req/s | p50 | p99 | CPU µs/req | CPU vs bare Pingora | CPU vs nginx | errors |\n\
                 |---|---|---|---|---|---|---|---|\n",
            );
        }
        let (pingora, nginx) = (
            baseline(sections, section, Kind::Pingora),
            baseline(sections, section, Kind::Nginx),
        );
        for row in &section.rows {
            let s = &row.summary;
            writeln!(
                out,
                "| {} | {} | {} | {} | {:.1} | {} | {} | {} |",
                row.setup,
                thousands(s.rps),
                ms(s.p50),
                ms(s.p99),
                s.cpu_us,
                ratio(s.cpu_us, pingora),
                ratio(s.cpu_us, nginx),
                row.failed_cell()
            )
            .unwrap();
        }
        for note in &section.notes {
            writeln!(out, "\n{note}").unwrap();
        }
        out.push('\n');
    }
    out
}

/// Output of a command (stdout, else stderr), first line, or why not.
fn first_line(program: &str, args: &[&str]) -> String {
    match Command::new(program).args(args).output() {
        Ok(out) => {
            let text = if out.stdout.is_empty() {
                out.stderr
            } else {
                out.stdout
            };
            String::from_utf8_lossy(&text)
                .lines()
                .next()
                .unwrap_or("")
                .trim()
                .to_owned()
        }
        Err(e) => format!("{program}: {e}"),
    }
}

/// The version of a package in Cargo.lock.
fn locked_version(package: &str) -> String {
    let lock = std::fs::read_to_string(workspace_root().join("Cargo.lock")).unwrap_or_default();
    let header = format!("name = \"{package}\"\nversion = \"");
    lock.split_once(&header)
        .and_then(|(_, rest)| rest.split('"').next())
        .unwrap_or("?")
        .to_owned()
}

/// What ran where: date, command, machine, load, versions.
pub fn machine(load_before: &str) -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("model name"))
        .map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
        .unwrap_or_default();
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    // Not available_parallelism: this process is pinned to one CPU.
    let cores = std::fs::read_to_string("/proc/cpuinfo")
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count();
    let load_after = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let loads = |text: &str| {
        text.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    };
    let command = std::env::var("BENCH_COMMAND").unwrap_or_else(|_| {
        "cargo test -p weir-tests --bench proxies -- (see bench/run.sh)".into()
    });
    format!(
        "Run of {date}: `{command}`\n\n\
         - machine: {cores} cores ({cpu}), kernel {kernel}; load average (1, 5, 15 min) {before} at the start, {after} at the end\n\
         - {weir} (dev profile: weir's hot crates and every dependency at opt-level 3, dependencies without debug assertions), Pingora {pingora} + mimalloc (bare), \
         {nginx} with njs {njs}, {haproxy}, {wrk}, {rustc}\n",
        date = first_line("date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        kernel = kernel.trim(),
        before = loads(load_before),
        after = loads(&load_after),
        weir = first_line(&weir_bin().display().to_string(), &["--version"]),
        pingora = locked_version("pingora"),
        nginx = first_line("nginx", &["-v"]).replace("nginx version: ", ""),
        njs = first_line(
            "dpkg-query",
            &["-W", "-f=${Version}", "libnginx-mod-http-js"]
        ),
        haproxy = first_line("haproxy", &["-v"])
            .replace(" version", "")
            .split(' ')
            .take(2)
            .collect::<Vec<_>>()
            .join(" "),
        wrk = first_line("wrk", &["-v"])
            .split(" [")
            .next()
            .unwrap_or("")
            .replace("debian/", ""),
        rustc = first_line("rustc", &["--version"]),
    )
}

pub const START: &str = "<!-- bench/run.sh writes below this line -->";
pub const END: &str = "<!-- bench/run.sh writes above this line -->";

/// Replaces what lies between the markers of docs/benchmarks.md.
pub fn write_doc(results: &str) {
    let path = workspace_root().join("docs/benchmarks.md");
    let doc = std::fs::read_to_string(&path).expect("reading docs/benchmarks.md");
    let (Some((head, _)), Some((_, tail))) = (doc.split_once(START), doc.split_once(END)) else {
        panic!("docs/benchmarks.md lacks the markers {START:?} and {END:?}");
    };
    let doc = format!("{head}{START}\n\n{results}{END}{tail}");
    std::fs::write(&path, doc).expect("writing docs/benchmarks.md");
    println!("written into {}", path.display());
}
