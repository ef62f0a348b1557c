//! Soak: minutes of load through a chain that counts every client in Redis
//! (`client-counter`, key-value capability) and then runs a filter that traps
//! on 1% of requests (`test-misbehave`, fail-closed), with a config reload
//! every 3 seconds. It counts every answer and samples weir's resident memory
//! every 10 seconds.
//!
//! Pass: no failed request other than the trapping filter's own 503s, every
//! trap answered 503, and resident memory flat (the last sample within 10% of
//! the one after warm-up). Prints the memory curve as a table.
//!
//! ```sh
//! scripts/setup.sh && scripts/build-filters.sh && cargo build --workspace --all-targets
//! cargo test --workspace --bench soak -- --minutes 10
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use weir_tests::{Gateway, RedisServer, Upstream, client, filters, free_port};

const CLIENTS: usize = 8;
const RELOAD_EVERY: Duration = Duration::from_secs(3);
const SAMPLE_EVERY: Duration = Duration::from_secs(10);

fn config(port: u16, up: &Upstream, redis: &RedisServer, generation: u64) -> String {
    format!(
        "server:\n  threads: 2\nlisteners:\n  - name: main\n    address: 127.0.0.1:{port}\n\
         upstreams:\n  svc:\n    targets: [{{ address: {} }}]\n\
         key_value:\n  counters:\n    redis: {{ url: \"{}\" }}\n\
         filters:\n  counter:\n    module: {}\n    config: {{ store: counters, limit: 1000000000, window_secs: 3600 }}\n    grants: {{ key_value: [counters] }}\n\
         \x20 misbehave:\n    module: {}\n\
         routes:\n  - name: soak-{generation}\n    match: {{ path: {{ prefix: / }} }}\n    upstream: svc\n    filters: [counter, misbehave]\n",
        up.address(),
        redis.url(),
        filters::CLIENT_COUNTER,
        filters::TEST_MISBEHAVE,
    )
}

#[derive(Default)]
struct Counts {
    ok: AtomicU64,
    traps_answered_503: AtomicU64,
    traps_other: AtomicU64,
    failed: AtomicU64,
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let minutes: f64 = std::env::args()
        .skip_while(|a| a != "--minutes")
        .nth(1)
        .map_or(10.0, |s| s.parse().expect("--minutes N"));
    let duration = Duration::from_secs_f64(minutes * 60.0);
    let redis = RedisServer::start();
    let up = Upstream::start("svc").await;
    let port = free_port();
    let gw = Arc::new(Gateway::start_on(config(port, &up, &redis, 0), port));

    let stop = Arc::new(AtomicBool::new(false));
    let counts = Arc::new(Counts::default());
    let clients: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (url, stop, counts) = (gw.url("/soak"), stop.clone(), counts.clone());
            tokio::spawn(async move {
                let http = client();
                let mut n: u64 = 0;
                while !stop.load(Ordering::Relaxed) {
                    n += 1;
                    // 1 request in 100 asks the second filter to trap.
                    let trap = (n + c as u64).is_multiple_of(100);
                    let mut req = http.get(&url);
                    if trap {
                        req = req.header("x-misbehave", "trap");
                    }
                    let status = req.send().await.map(|r| r.status().as_u16());
                    let counter = match (trap, status) {
                        (false, Ok(200)) => &counts.ok,
                        (true, Ok(503)) => &counts.traps_answered_503,
                        (true, _) => &counts.traps_other,
                        (false, _) => &counts.failed,
                    };
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    let started = Instant::now();
    let mut samples = vec![(Duration::ZERO, gw.rss_kib())];
    let (mut next_reload, mut next_sample, mut generation) = (RELOAD_EVERY, SAMPLE_EVERY, 0u64);
    while started.elapsed() < duration {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let now = started.elapsed();
        if now >= next_reload {
            generation += 1;
            gw.replace_config(&config(port, &up, &redis, generation));
            next_reload += RELOAD_EVERY;
        }
        if now >= next_sample {
            samples.push((now, gw.rss_kib()));
            next_sample += SAMPLE_EVERY;
        }
    }
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.expect("a client task failed");
    }
    samples.push((started.elapsed(), gw.rss_kib()));

    let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let reloads = gw.logs().matches("config reloaded").count();
    println!(
        "soak: {:.1} min, {} reloads written, {} applied",
        started.elapsed().as_secs_f64() / 60.0,
        generation,
        reloads
    );
    println!(
        "requests: {} ok, {} traps answered 503, {} traps answered otherwise, {} failed",
        get(&counts.ok),
        get(&counts.traps_answered_503),
        get(&counts.traps_other),
        get(&counts.failed)
    );
    println!("\n| elapsed | RSS (KiB) |\n|---|---|");
    for (at, rss) in &samples {
        println!("| {:.0} s | {rss} |", at.as_secs_f64());
    }
    // After warm-up: instance pools filled, Redis connected, allocator settled.
    let warm = samples[samples.len().min(3) - 1].1 as f64;
    let last = samples.last().expect("samples").1 as f64;
    println!(
        "\nRSS after warm-up {warm:.0} KiB, at the end {last:.0} KiB ({:+.1}%)",
        100.0 * (last - warm) / warm
    );
    assert_eq!(get(&counts.failed), 0, "requests failed:\n{}", gw.logs());
    assert_eq!(get(&counts.traps_other), 0);
    assert!(get(&counts.ok) > 0);
    assert!(last <= warm * 1.10, "resident memory grew");
}
