//! The fast path: a filter granted nothing that waits runs its calls on the
//! worker thread until one runs long or waits; from then on its calls take
//! the async path, where a guest yields at every epoch tick. A filter
//! granted an in-process key-value store keeps the fast path; one granted a
//! Redis store takes the async path from the start, where a call's deadline
//! counts its own time.

use std::time::{Duration, Instant};

use serde_json::Value;
use weir_tests::{Gateway, Upstream, admin_filters, client, filters, free_port};

use crate::config;

async fn call_paths(admin: u16) -> (String, String, String, String) {
    let status = admin_filters(admin).await;
    let path = |name: &str| {
        status["filters"][name]["call_path"]
            .as_str()
            .unwrap_or_else(|| panic!("no call_path for {name}: {status}"))
            .to_owned()
    };
    (
        path("spinner"),
        path("sleeper"),
        path("memory"),
        path("redis"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_filter_leaves_the_fast_path_once_a_call_runs_long_or_waits() {
    let up = Upstream::start("svc").await;
    let admin = free_port();
    let gw = Gateway::start(&config(&format!(
        "key_value:\n  local:\n    memory: {{}}\n  shared:\n    redis: {{ url: \"redis://127.0.0.1:{redis_port}/0\", connect_timeout: 100ms, command_timeout: 100ms }}\nupstreams:\n  svc:\n    targets: [{{ address: {up} }}]\n\
         filters:\n  spinner:\n    module: {misbehave}\n    limits: {{ call_deadline: 100ms }}\n    circuit_breaker: {{ enabled: false }}\n\
         \x20 sleeper:\n    module: {misbehave}\n    config: {{ body_phase: true }}\n    circuit_breaker: {{ enabled: false }}\n\
         \x20 memory:\n    module: {kv}\n    config: {{ store: local }}\n    grants: {{ key_value: [local] }}\n\
         \x20 redis:\n    module: {kv}\n    config: {{ store: shared }}\n    grants: {{ key_value: [shared] }}\n\
         routes:\n  - match: {{ path: {{ prefix: /spin }} }}\n    upstream: svc\n    filters: [spinner]\n\
         \x20 - match: {{ path: {{ prefix: /sleep }} }}\n    upstream: svc\n    filters: [sleeper]\n\
         \x20 - match: {{ path: {{ prefix: /kv }} }}\n    respond: {{ status: 404 }}\n    filters: [memory]\n\
         \x20 - match: {{ path: {{ prefix: /redis }} }}\n    respond: {{ status: 404 }}\n    filters: [redis]\n\
         admin:\n  address: 127.0.0.1:{admin}\n",
        up = up.address(),
        misbehave = filters::TEST_MISBEHAVE,
        kv = filters::TEST_KV,
        // Nothing listens there: a Redis store connects lazily.
        redis_port = free_port(),
    )));
    let c = client();
    assert_eq!(
        call_paths(admin).await,
        ("fast".into(), "fast".into(), "fast".into(), "async".into())
    );

    // Calls that behave keep the fast path.
    for _ in 0..20 {
        let resp = c.get(gw.url("/spin")).send().await.unwrap();
        assert_eq!(resp.status(), 200);
    }
    assert_eq!(call_paths(admin).await.0, "fast");

    // A call that loops runs to its deadline on the worker thread, fails
    // closed, and moves its filter to the async path.
    let spin_loop = || c.get(gw.url("/spin")).header("x-misbehave", "loop").send();
    let resp = spin_loop().await.unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"], "filter \"spinner\" failed");
    assert_eq!(call_paths(admin).await.0, "async");
    assert!(
        gw.logs()
            .contains("ran past 10 ms or waited on the fast path"),
        "{}",
        gw.logs()
    );
    // On the async path the deadline still ends a loop, and calls that
    // behave are answered.
    assert_eq!(spin_loop().await.unwrap().status(), 503);
    let resp = c.get(gw.url("/spin")).send().await.unwrap();
    assert_eq!(resp.status(), 200);

    // A guest that sleeps on the fast path blocks its worker thread until
    // the clock is due (timers run on weir's I/O runtime), answers, and
    // moves its filter to the async path, where the next sleep suspends.
    for _ in 0..2 {
        let resp = c
            .get(gw.url("/sleep"))
            .header("x-misbehave-body", "sleep")
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.text().await.unwrap(), "slept");
        assert_eq!(call_paths(admin).await.1, "async");
    }

    // The in-process store answers calls on the fast path.
    let kv = |op: &str, key: &str, value: &str| {
        c.get(gw.url("/kv"))
            .header("x-kv-op", op)
            .header("x-kv-key", key)
            .header("x-kv-value", value)
            .header("x-kv-store", "shared")
            .send()
    };
    for (op, key, value, status, answer) in [
        ("set", "k", "v1", 200, "ok"),
        ("get", "k", "", 200, "v1"),
        ("incr", "n", "", 200, "1"),
        ("incr", "n", "", 200, "2"),
        ("cas", "k", "v2", 200, "false"),
        ("del", "k", "", 200, "true"),
        ("get", "k", "", 200, "<none>"),
    ] {
        let resp = kv(op, key, value).await.unwrap();
        assert_eq!(resp.status(), status, "{op} {key}");
        assert_eq!(resp.text().await.unwrap(), answer, "{op} {key}");
    }
    // A store not granted to it is refused, as on the async path.
    let resp = kv("open", "", "").await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["x-kv-error"], "not-granted");
    let paths = call_paths(admin).await;
    assert_eq!((paths.2.as_str(), paths.3.as_str()), ("fast", "async"));
}

/// On the async path a computing guest yields at every epoch tick, so calls
/// on one worker thread interleave; each call's deadline counts its own
/// time, not the time it waited for its turn. Twenty-four calls of 15 ms or
/// more each on two worker threads take 180 ms or more of wall time apiece,
/// past their 150 ms deadline, and all succeed. (The deadline leaves a
/// lone call a few times its time: a loaded machine's preemptions count as
/// a call's own time.)
#[tokio::test(flavor = "multi_thread")]
async fn an_interleaved_call_is_held_to_its_own_time() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&config(&format!(
        "key_value:\n  shared:\n    redis: {{ url: \"redis://127.0.0.1:{redis_port}/0\", connect_timeout: 100ms, command_timeout: 100ms }}\n\
         upstreams:\n  svc:\n    targets: [{{ address: {up} }}]\n\
         filters:\n  worker:\n    module: {misbehave}\n    grants: {{ key_value: [shared] }}\n    limits: {{ call_deadline: 150ms }}\n    circuit_breaker: {{ enabled: false }}\n\
         routes:\n  - match: {{ path: {{ prefix: /work }} }}\n    upstream: svc\n    filters: [worker]\n",
        up = up.address(),
        misbehave = filters::TEST_MISBEHAVE,
        // Nothing listens there: the grant only puts the filter on the
        // async path; it never opens the store.
        redis_port = free_port(),
    )));
    let c = client();
    let work = |millions: u64| {
        c.get(gw.url("/work"))
            .header("x-misbehave-work", millions.to_string())
            .send()
    };
    // Find the work that takes a lone call 15 ms or more, well inside its
    // deadline (steps of half again, at most 20; the faster of two tries).
    let mut millions = 1;
    let mut lone = Duration::ZERO;
    for _ in 0..20 {
        lone = Duration::MAX;
        for _ in 0..2 {
            let started = Instant::now();
            let resp = work(millions).await.unwrap();
            lone = lone.min(started.elapsed());
            assert_eq!(resp.status(), 200, "a lone call of {millions}M steps");
        }
        if lone >= Duration::from_millis(15) {
            break;
        }
        millions += millions.div_ceil(2);
    }
    assert!(
        (Duration::from_millis(15)..Duration::from_millis(40)).contains(&lone),
        "calibration: {millions}M steps took {lone:?} alone"
    );
    // Twenty-four at once, twelve a worker thread: each takes 180 ms or
    // more of wall time, past its deadline, and about 15 ms of its own.
    let calls: Vec<_> = (0..24).map(|_| tokio::spawn(work(millions))).collect();
    let started = Instant::now();
    for call in calls {
        let resp = call.await.unwrap().unwrap();
        assert_eq!(resp.status(), 200, "{}", gw.logs());
    }
    // They did overlap, past the deadline: 24 calls' work on two threads.
    assert!(started.elapsed() >= Duration::from_millis(150));
}
