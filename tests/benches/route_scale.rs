//! W6: routing that scales. One weir with 1 route beside one with 10,000 (a
//! mix of exact and wildcard hosts, exact and prefix paths, methods and
//! headers; see `weir_tests::many_routes`), side by side in one run, each
//! asked for the route that comes last in evaluation order; the 10,000-route
//! weir also for routes of the mix. Target: 10,000 routes within 10% of 1
//! route's requests/s. Then `--reloads` reloads of the 10,000 routes: the
//! time from the file in place to the new generation serving (through the
//! file watcher, with its debounce) and the reload's own duration
//! (`weir_config_last_reload_duration_seconds`). Target: under 1 s.
//!
//! The weirs run on 1 thread pinned to CPU 0 (one loaded at a time), wrk and
//! the upstream on CPU 1. Each round loads every row in turn for `--seconds`;
//! the table gives the medians of `--rounds` rounds. Every answer must be a
//! 200, and before the load each row's request is checked to reach its route.
//!
//! ```sh
//! apt-get install wrk && cargo build --workspace --all-targets
//! cargo test -p weir-tests --bench route_scale -- --seconds 10 --rounds 3 --reloads 5
//! ```

use std::time::{Duration, Instant};

use weir_tests::many_routes::{
    self, MixRequest, last_reload_seconds, last_request, mix_request, routed_host,
};
use weir_tests::wrk::{Load, Summary, arg, measure, pin, print_table, summarize};
use weir_tests::{Gateway, Upstream, free_port};

const ROUTES: usize = 10_000;

struct Weir {
    gw: Gateway,
    admin: u16,
}

fn start(up: &Upstream, routes: usize) -> Weir {
    let (port, admin) = (free_port(), free_port());
    let gw = Gateway::start_on(many_routes::config(port, admin, up, routes, 0), port);
    pin(gw.pid(), 0);
    Weir { gw, admin }
}

fn median(mut values: Vec<Duration>) -> Duration {
    values.sort();
    values[values.len() / 2]
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let seconds = arg("--seconds", 10);
    let rounds = arg("--rounds", 3);
    let reloads = arg("--reloads", 5);
    pin(std::process::id(), 1);
    let up = Upstream::start("app").await;
    let one = start(&up, 1);
    let many = start(&up, ROUTES);

    let rows: [(&str, &Weir, MixRequest); 4] = [
        ("1 route", &one, last_request(0)),
        (
            "10,000 routes, the last in evaluation order",
            &many,
            last_request(0),
        ),
        (
            "10,000 routes, an exact host + prefix in the mix (r5001)",
            &many,
            mix_request(5001),
        ),
        (
            "10,000 routes, host + prefix + header in the mix (r9994)",
            &many,
            mix_request(9994),
        ),
    ];
    for (name, weir, req) in &rows {
        assert_eq!(
            routed_host(weir.gw.port, req).await.as_deref(),
            Ok(req.routed_host.as_str()),
            "{name}: the request reaches its route"
        );
    }

    let mut runs: Vec<Vec<(Load, Duration)>> = vec![Vec::new(); rows.len()];
    for _ in 0..rounds {
        for (i, (_, weir, req)) in rows.iter().enumerate() {
            // wrk adds its own `Host` unless given one spelt so.
            let mut headers = vec![format!("Host: {}", req.host)];
            if let Some((name, value)) = &req.header {
                headers.push(format!("{name}: {value}"));
            }
            let headers: Vec<&str> = headers.iter().map(String::as_str).collect();
            runs[i].push(measure(
                weir.gw.pid(),
                &weir.gw.url(&req.path),
                seconds,
                &headers,
            ));
        }
    }
    let summaries: Vec<(&str, Summary)> = rows
        .iter()
        .zip(&runs)
        .map(|((name, _, _), runs)| (*name, summarize(runs)))
        .collect();
    println!(
        "W6, {rounds} rounds of {seconds}s per row, wrk -c50, weir on 1 thread pinned to CPU 0 (medians)\n"
    );
    print_table("routes, request", &summaries);
    let (base, last) = (summaries[0].1, summaries[1].1);
    println!(
        "\n10,000 routes (last) / 1 route: {:.0}% of the requests/s (target ≥ 90%), {:+.1} µs CPU per request",
        100.0 * last.rps / base.rps,
        last.cpu_us - base.cpu_us
    );

    // Reloads of the 10,000 routes; each generation changes `last`.
    let (mut served, mut reload) = (Vec::new(), Vec::new());
    for generation in 1..=u64::from(reloads) {
        let started = Instant::now();
        let port = many.gw.port;
        many.gw.replace_config(&many_routes::config(
            port, many.admin, &up, ROUTES, generation,
        ));
        let expected = last_request(generation);
        loop {
            let host = routed_host(port, &expected).await;
            assert!(host.is_ok(), "no request fails during a reload: {host:?}");
            if host.as_deref() == Ok(expected.routed_host.as_str()) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "generation {generation} never served"
            );
        }
        served.push(started.elapsed());
        reload.push(Duration::from_secs_f64(
            last_reload_seconds(many.admin).await,
        ));
    }
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "\nreload of {ROUTES} routes, {reloads} rounds: file in place -> new generation serving \
         median {:.0} ms, max {:.0} ms (with the watcher's debounce); the reload itself \
         (read, parse, check, build; weir_config_last_reload_duration_seconds) median {:.0} ms, \
         max {:.0} ms (target < 1000 ms)",
        ms(median(served.clone())),
        ms(*served.iter().max().unwrap()),
        ms(median(reload.clone())),
        ms(*reload.iter().max().unwrap()),
    );
}
