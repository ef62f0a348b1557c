//! The workloads: each starts its proxies, checks that every one does the
//! work it is measured for (a proxy that skipped it would look fast), then
//! loads them in turn, round after round.

use std::time::Duration;

use weir_tests::wrk::{Load, run};
use weir_tests::{Upstream, free_port};

use crate::proxy::Proxy;
use crate::report::{Row, Section};
use crate::w2::{AUDIENCE, ISSUER, SECRET, token};
use crate::weir::{self, Tail};
use crate::{checks, haproxy, nginx};

/// The 512-byte answer every workload but W4 asks for.
pub const FIXED: &str = "/fixed?bytes=512";
/// W4's 10 KB JSON document.
pub const JSON: &str = "/json?bytes=10240";

#[derive(Clone, Copy)]
pub struct Opts {
    pub seconds: u32,
    pub rounds: u32,
}

/// One row: a proxy, the request wrk sends it, extra request headers.
pub struct Target<'a> {
    pub setup: String,
    pub proxy: &'a Proxy,
    pub path: String,
    pub headers: Vec<String>,
}

impl<'a> Target<'a> {
    pub fn new(setup: &str, proxy: &'a Proxy, path: &str) -> Target<'a> {
        Target {
            setup: setup.to_owned(),
            proxy,
            path: path.to_owned(),
            headers: Vec::new(),
        }
    }

    pub fn header(mut self, header: String) -> Target<'a> {
        self.headers.push(header);
        self
    }

    /// One wrk run (`-c50`) and the CPU time the proxy used meanwhile.
    pub fn measure(&self, seconds: u32) -> (Load, Duration) {
        let headers: Vec<&str> = self.headers.iter().map(String::as_str).collect();
        let before = self.proxy.cpu_time();
        let load = run(&self.proxy.url(&self.path), 50, seconds, &headers);
        (load, self.proxy.cpu_time() - before)
    }
}

/// Loads every target for `opts.seconds`, `opts.rounds` times in turn
/// (after one second each to warm up), into rows of medians.
pub fn measure_all(targets: &[Target], opts: Opts) -> Vec<Row> {
    for target in targets {
        target.measure(1);
    }
    let mut runs: Vec<Vec<(Load, Duration)>> = vec![Vec::new(); targets.len()];
    for _ in 0..opts.rounds {
        for (target, runs) in targets.iter().zip(&mut runs) {
            runs.push(target.measure(opts.seconds));
        }
    }
    let rows: Vec<Row> = targets
        .iter()
        .zip(runs)
        .map(|(target, runs)| Row::new(&target.setup, target.proxy.kind, &runs))
        .collect();
    for (target, row) in targets.iter().zip(&rows) {
        if row.failed() > 0 {
            target.proxy.print_log_tail(&target.setup);
        }
    }
    rows
}

/// bare Pingora, nginx and HAProxy, each forwarding everything to `up`.
async fn others(up: &Upstream) -> [Proxy; 3] {
    [
        Proxy::pingora(up).await,
        Proxy::nginx(nginx::plain(up.address()), &[]).await,
        Proxy::haproxy(haproxy::plain(up.address())).await,
    ]
}

const OTHERS: [&str; 3] = [
    "bare Pingora (1 thread, mimalloc)",
    "nginx (1 worker, keepalive upstream)",
    "HAProxy (nbthread 1, http-reuse always)",
];

pub async fn w1(up: &Upstream, opts: Opts) -> Section {
    let mut section = Section::new("W1", "plain proxy, 512 B responses");
    let others = others(up).await;
    let port = free_port();
    let weir = Proxy::weir(weir::plain(port, up), port, &[]);
    let (port, admin) = (free_port(), free_port());
    let observed = Proxy::weir(weir::observed(port, admin, up), port, &[]);
    let mut targets: Vec<Target> = others
        .iter()
        .zip(OTHERS)
        .map(|(proxy, setup)| Target::new(setup, proxy, FIXED))
        .collect();
    targets.push(Target::new(
        "weir (no filters; no metrics, no access log)",
        &weir,
        FIXED,
    ));
    targets.push(Target::new(
        "weir (no filters; metrics on, access log JSON to a file)",
        &observed,
        FIXED,
    ));
    for target in &targets {
        checks::fixed(target).await;
    }
    section.rows = measure_all(&targets, opts);
    section
}

fn chain_weir(up: &Upstream, tail: &Tail) -> Proxy {
    let port = free_port();
    Proxy::weir(
        weir::chain(port, up, tail),
        port,
        &[(crate::w2::SECRET_ENV, SECRET)],
    )
}

pub async fn w2(up: &Upstream, opts: Opts) -> Section {
    let mut section = Section::new("W2", "JWT (HS256) + rate limit + headers, 512 B responses");
    let nginx = Proxy::nginx(
        nginx::jwt(up.address()),
        &[("jwt.js", nginx::njs_module(SECRET, ISSUER, AUDIENCE))],
    )
    .await;
    let haproxy = Proxy::haproxy(haproxy::jwt(
        up.address(),
        SECRET.into(),
        ISSUER.into(),
        AUDIENCE.into(),
    ))
    .await;
    let weir = chain_weir(up, &Tail::Headers);
    let bearer = format!("Authorization: Bearer {}", token());
    let targets = [
        Target::new(
            "nginx + njs (crypto.createHmac) + limit_req + headers",
            &nginx,
            FIXED,
        ),
        Target::new(
            "HAProxy (jwt_verify) + stick-table counter + headers",
            &haproxy,
            FIXED,
        ),
        Target::new(
            "weir: jwt-auth + rate-limit (memory) + headers",
            &weir,
            FIXED,
        ),
    ]
    .map(|t| t.header(bearer.clone()));
    for target in &targets {
        checks::jwt(target.proxy, "x-user-id", Some("x-served-by")).await;
    }
    section.rows = measure_all(&targets, opts);
    section
}

pub async fn w3(up: &Upstream, opts: Opts) -> Section {
    let mut section = Section::new(
        "W3",
        "W2 with filters in JavaScript and Python in place of headers, 512 B responses",
    );
    let tail = match weir::language_filters() {
        Ok(tail) => tail,
        Err(why) => {
            println!("W3 skipped: {why}");
            section.notes.push(format!("skipped: {why}"));
            return section;
        }
    };
    let weir = chain_weir(up, &tail);
    checks::jwt(&weir, "x-ref-greeting", Some("x-ref-lang")).await;
    let bearer = format!("Authorization: Bearer {}", token());
    let targets = [Target::new(
        "weir: jwt-auth + rate-limit + reference filter in JS + in Python",
        &weir,
        FIXED,
    )
    .header(bearer)];
    section.rows = measure_all(&targets, opts);
    section.notes.push(
        "The reference filter (filters/reference) sets a request header and response headers, \
         counts each request in a memory key-value store and logs one line per request at info."
            .into(),
    );
    section
}

pub async fn w4(up: &Upstream, opts: Opts) -> Section {
    let mut section = Section::new(
        "W4",
        "10 KB JSON responses: passed through, and transformed by weir",
    );
    let others = others(up).await;
    let port = free_port();
    let weir = Proxy::weir(weir::transform(port, up), port, &[]);
    let mut targets: Vec<Target> = others
        .iter()
        .zip(OTHERS)
        .map(|(proxy, setup)| Target::new(setup, proxy, JSON))
        .collect();
    targets.push(Target::new("weir (no filters)", &weir, JSON));
    for target in &targets {
        checks::json_passed(target).await;
    }
    let transformed = Target::new(
        "weir: json-transform (remove, redact, rename, add)",
        &weir,
        &format!("/t{JSON}"),
    );
    checks::json_transformed(&transformed).await;
    targets.push(transformed);
    section.rows = measure_all(&targets, opts);
    section
}

pub async fn w6(up: &Upstream, opts: Opts) -> Section {
    let mut section = Section::new(
        "W6",
        "W1 with 10,000 routes, the request matching the last one in evaluation order",
    );
    let start = |routes| {
        let (port, admin) = (free_port(), free_port());
        Proxy::weir(weir::many_routes(port, admin, up, routes), port, &[])
    };
    let (one, many) = (start(1), start(10_000));
    let request = weir_tests::many_routes::last_request(0);
    for proxy in [&one, &many] {
        assert_eq!(
            weir_tests::many_routes::routed_host(proxy.port, &request)
                .await
                .as_deref(),
            Ok(request.routed_host.as_str()),
            "the request reaches the last route"
        );
    }
    let host = format!("Host: {}", request.host);
    let path = format!("/last{FIXED}");
    let targets = [
        Target::new("weir, 1 route", &one, &path).header(host.clone()),
        Target::new("weir, 10,000 routes (the last)", &many, &path).header(host),
    ];
    for target in &targets {
        checks::fixed(target).await;
    }
    section.rows = measure_all(&targets, opts);
    let (base, last) = (&section.rows[0].summary, &section.rows[1].summary);
    section.notes.push(format!(
        "10,000 routes / 1 route: {:.0}% of the requests/s (target at least 90%).",
        100.0 * last.rps / base.rps
    ));
    section
}
