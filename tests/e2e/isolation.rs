//! Isolation from a runaway filter: while clients hammer a route whose filter
//! runs to its deadline on every call, another route keeps being served, and
//! the filter's circuit breaker trips and shows on the admin endpoint. And
//! instances are held no longer than a filter's phases need them.
//! (Throughput and latency figures live in the `noisy_neighbour` benchmark.)

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use weir_tests::{Gateway, Upstream, admin_reload, client, filters, free_port, wait_until};

use crate::config;

fn runaway_config(up: &Upstream, admin_port: u16) -> String {
    config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\nfilters:\n  runaway:\n    module: {}\n    limits: {{ call_deadline: 100ms }}\n    circuit_breaker: {{ min_calls: 10, failure_ratio: 0.5, window: 10s, cool_down: 3s }}\n\
         routes:\n  - match: {{ path: {{ prefix: /slow }} }}\n    upstream: svc\n    filters: [runaway]\n  - match: {{ path: {{ prefix: /fast }} }}\n    upstream: svc\n\
         admin:\n  address: 127.0.0.1:{admin_port}\n",
        up.address(),
        filters::TEST_MISBEHAVE
    ))
}

async fn filter_status(admin_port: u16) -> Value {
    weir_tests::admin_filters(admin_port).await
}

#[tokio::test(flavor = "multi_thread")]
async fn other_routes_are_served_while_a_runaway_filter_is_hammered() {
    let up = Upstream::start("svc").await;
    let admin_port = free_port();
    let gw = Gateway::start(&runaway_config(&up, admin_port));

    // 20 clients on the runaway route, each stopping after 200 requests or
    // when told to.
    let stop = Arc::new(AtomicBool::new(false));
    let slow_answers = Arc::new(AtomicU64::new(0));
    let hammers: Vec<_> = (0..20)
        .map(|_| {
            let (url, stop, answers) = (gw.url("/slow"), stop.clone(), slow_answers.clone());
            tokio::spawn(async move {
                let c = client();
                for _ in 0..200 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let resp = c.get(&url).header("x-misbehave", "loop").send().await;
                    let status = resp.expect("weir answers the runaway route").status();
                    assert_eq!(status, 503, "the fail-closed runaway filter answers 503");
                    answers.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();

    // Meanwhile the other route answers every request.
    wait_until(
        Duration::from_secs(30),
        "the runaway route to be hammered",
        || slow_answers.load(Ordering::Relaxed) >= 20,
    );
    let c = client();
    let started = Instant::now();
    for _ in 0..100 {
        let resp = c.get(gw.url("/fast")).send().await.expect("weir answers");
        assert_eq!(resp.status(), 200);
    }
    let fast_time = started.elapsed();

    let status = filter_status(admin_port).await;
    let runaway = &status["filters"]["runaway"];
    assert!(
        runaway["circuit_breaker"]["trips"].as_u64().unwrap() >= 1,
        "{runaway}"
    );
    assert!(runaway["failures"].as_u64().unwrap() >= 10, "{runaway}");
    assert!(
        runaway["refused"]["circuit_open"].as_u64().unwrap() > 0,
        "{runaway}"
    );
    stop.store(true, Ordering::Relaxed);
    for h in hammers {
        h.await.expect("a hammering client failed");
    }
    eprintln!(
        "100 requests on the other route took {fast_time:?} while {} runaway-route requests were answered",
        slow_answers.load(Ordering::Relaxed)
    );
    assert!(gw.logs().contains("circuit breaker opened"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tripped_filter_is_probed_and_closes_once_it_behaves() {
    let up = Upstream::start("svc").await;
    let admin_port = free_port();
    let gw = Gateway::start(&runaway_config(&up, admin_port));
    let c = client();
    for _ in 0..10 {
        let resp = c
            .get(gw.url("/slow"))
            .header("x-misbehave", "trap")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 503);
        // A filter that ran and failed: retrying at once would fail again.
        assert!(resp.headers().get("retry-after").is_none());
    }
    let status = filter_status(admin_port).await;
    assert_eq!(
        status["filters"]["runaway"]["circuit_breaker"]["state"],
        "open"
    );
    // While open, even a request the filter would pass gets `on_error`,
    // with a hint to come back shortly.
    let refused = c.get(gw.url("/slow")).send().await.unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["retry-after"], "1");

    // A reload that leaves the filter as it is keeps its breaker open.
    let (code, outcome) = admin_reload(admin_port).await;
    assert_eq!(code, 200, "{outcome}");
    let status = filter_status(admin_port).await;
    assert_eq!(status["generation"], 2);
    let breaker = &status["filters"]["runaway"]["circuit_breaker"];
    assert_eq!(breaker["state"], "open", "{breaker}");
    assert_eq!(breaker["trips"], 1);

    // After the 3s cool-down a good request is the probe and closes it.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let resp = c.get(gw.url("/slow")).send().await.unwrap();
        if resp.status() == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "the breaker never closed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let status = filter_status(admin_port).await;
    assert_eq!(
        status["filters"]["runaway"]["circuit_breaker"]["state"],
        "closed"
    );
}

/// `on-response-body` runs from Pingora's synchronous body hook: a call that
/// has to wait (here a 20 ms clock wait; a Redis or HTTP call is the same) is
/// finished with the worker's other tasks handed to another thread, and one
/// that runs away is ended by its deadline. Other requests are served
/// meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn response_body_calls_that_wait_or_run_away_hold_up_no_one() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&body_phase_config(&up, ""));
    body_calls_wait_or_run_away(&gw).await;
}

/// Without work stealing (`server.work_stealing: false`) each worker thread
/// runs a single-threaded runtime of its own, whose timers only advance
/// while the thread is free. A body call that waits then holds its thread
/// (at most until its deadline) but finishes, its timers running on weir's
/// I/O runtime; a runaway is still ended; other requests are served; and a
/// reload, which cannot use `block_in_place` there, applies.
#[tokio::test(flavor = "multi_thread")]
async fn without_work_stealing_body_calls_finish_and_reloads_apply() {
    let up = Upstream::start("svc").await;
    let admin = free_port();
    let gw = Gateway::start(
        &body_phase_config(&up, &format!("admin:\n  address: 127.0.0.1:{admin}\n"))
            .replace("server:\n", "server:\n  work_stealing: false\n"),
    );
    body_calls_wait_or_run_away(&gw).await;

    let (code, outcome) = admin_reload(admin).await;
    assert_eq!(code, 200, "{outcome}");
    assert_eq!(outcome["ok"], true, "{outcome}");
    assert_eq!(outcome["generation"], 2);
    let resp = client().get(gw.url("/other")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
}

/// Route `/body` behind `test-misbehave` in its response-body phase (200 ms
/// deadline), `/busy` the same with a 30 s deadline, route `/other`
/// without filters.
fn body_phase_config(up: &Upstream, extra: &str) -> String {
    config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {up} }}]\nfilters:\n  body:\n    module: {module}\n    config: {{ body_phase: true }}\n    limits: {{ call_deadline: 200ms }}\n    circuit_breaker: {{ enabled: false }}\n\
         \x20 busy:\n    module: {module}\n    config: {{ body_phase: true }}\n    limits: {{ call_deadline: 30s }}\n\
         routes:\n  - match: {{ path: {{ prefix: /body }} }}\n    upstream: svc\n    filters: [body]\n  - match: {{ path: {{ prefix: /busy }} }}\n    upstream: svc\n    filters: [busy]\n  - match: {{ path: {{ prefix: /other }} }}\n    upstream: svc\n{extra}",
        up = up.address(),
        module = filters::TEST_MISBEHAVE
    ))
}

async fn body_calls_wait_or_run_away(gw: &Gateway) {
    let c = client();
    let body_url = gw.url("/body");
    let body_call = move |mode: &'static str| {
        let req = client().get(&body_url).header("x-misbehave-body", mode);
        async move { req.send().await }
    };

    // Many waiting calls at once, with other requests in between.
    let waits: Vec<_> = (0..8)
        .map(|_| tokio::spawn(body_call.clone()("sleep")))
        .collect();
    for _ in 0..20 {
        let resp = c.get(gw.url("/other")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
    }
    for w in waits {
        let resp = w.await.unwrap().unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.text().await.unwrap(), "slept");
    }

    // Calls that compute for 20 ms, past several epoch ticks, yield at each
    // and go on. A yield that waited for the worker's own runtime, which is
    // blocked on the call when there is no work stealing, would stall the
    // call until its deadline (30 s on `/busy`): each must answer long
    // before that.
    let busy: Vec<_> = (0..4)
        .map(|_| {
            let req = client()
                .get(gw.url("/busy"))
                .header("x-misbehave-body", "busy");
            tokio::spawn(tokio::time::timeout(Duration::from_secs(10), req.send()))
        })
        .collect();
    for b in busy {
        let resp = b
            .await
            .unwrap()
            .expect("a computing body call stalled")
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.text().await.unwrap(), "computed");
    }

    // A runaway body call is ended by its deadline; the body was buffered
    // whole, so nothing went out yet and the client gets the fail-closed 503.
    let runaway = tokio::spawn(body_call("loop"));
    for _ in 0..20 {
        let resp = c.get(gw.url("/other")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
    }
    let resp = runaway.await.unwrap().unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "filter \"body\" failed");
    assert!(
        gw.logs().contains("exceeded its call deadline"),
        "{}",
        gw.logs()
    );
}

/// A filter whose phases all come before the response gives its instance
/// back to the pool right after its last call; one with a response phase
/// keeps its instance until the request is over, unless its instances are
/// shared (`isolation: shared`), given back after every call. Four uploads
/// held open mid-body, so all four are in flight at the upstream, show the
/// difference in the pools.
#[tokio::test(flavor = "multi_thread")]
async fn instances_go_back_to_the_pool_after_the_filters_last_phase() {
    use std::io::{Read, Write};

    let up = Upstream::start("svc").await;
    let admin_port = free_port();
    let noop = filters::TEST_NOOP;
    let gw = Gateway::start(&config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\nfilters:\n  early:\n    module: {noop}\n    config: {{ phases: [request-headers] }}\n  late:\n    module: {noop}\n    config: {{ phases: [request-headers, response-headers] }}\n\
         \x20 shared:\n    module: {noop}\n    config: {{ phases: [request-headers, response-headers] }}\n    isolation: shared\n\
         routes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: svc\n    filters: [early, late, shared]\n\
         admin:\n  address: 127.0.0.1:{admin_port}\n",
        up.address(),
    )));

    const HELD: usize = 4;
    let mut uploads: Vec<std::net::TcpStream> = (0..HELD)
        .map(|_| {
            let mut s = std::net::TcpStream::connect(("127.0.0.1", gw.port)).unwrap();
            s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
            s.write_all(b"POST /upload HTTP/1.1\r\nHost: svc\r\nContent-Length: 8\r\n\r\nhalf")
                .unwrap();
            s
        })
        .collect();
    wait_until(
        Duration::from_secs(10),
        "four uploads at the upstream",
        || up.hits() == HELD,
    );

    let status = filter_status(admin_port).await;
    let idle = |name: &str| status["filters"][name]["idle_instances"].as_u64().unwrap();
    assert!(idle("early") >= 1, "{status}");
    // The probe instance and three new ones, all held by the uploads.
    assert_eq!(idle("late"), 0, "{status}");
    assert!(idle("shared") >= 1, "{status}");

    for s in &mut uploads {
        s.write_all(b"done").unwrap();
        let mut answer = Vec::new();
        let mut chunk = [0u8; 1024];
        while !answer.ends_with(b"\r\n\r\n8") {
            let n = s.read(&mut chunk).expect("weir answers the upload");
            assert!(
                n > 0,
                "connection closed: {}",
                String::from_utf8_lossy(&answer)
            );
            answer.extend_from_slice(&chunk[..n]);
        }
        assert!(
            answer.starts_with(b"HTTP/1.1 200"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
    }
    // The last instances go back as their requests end, just after the answers.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = filter_status(admin_port).await;
        if status["filters"]["late"]["idle_instances"] == HELD as u64 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "instances not returned: {status}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
