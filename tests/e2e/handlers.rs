//! Routes answered by `wasi:http` handlers, through the real gateway: a
//! handler beside a proxied route, in each language; filters in front of
//! one; bodies streamed both ways; outbound HTTP under the grant; a trap, a
//! hang and a runaway allocation answered without taking anything else
//! down; the concurrency limit; a reload of the `.wasm` under load.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sha2::{Digest, Sha256};
use weir_tests::{Gateway, Upstream, client, filters, free_port, metrics_text, replace_file};

use crate::config;

fn handler(name: &str, module: &str, extra: &str) -> String {
    format!("  {name}:\n    module: {module}\n{extra}")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_handler_answers_beside_a_proxied_route_with_filters_in_front() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\n\
         filters:\n  tag:\n    module: {}\n    config: {{ name: t }}\n\
         handlers:\n{}{}\
         routes:\n  - match: {{ path: {{ prefix: /api }} }}\n    upstream: svc\n\
         \x20 - match: {{ path: {{ prefix: /hello }} }}\n    handler: hello\n\
         \x20 - match: {{ path: {{ prefix: /echo }} }}\n    handler: echo\n    filters: [tag]\n",
        up.address(),
        filters::TEST_TAG,
        handler(
            "hello",
            filters::HANDLER_HELLO,
            "    env: { GREETING: \"hi from the config\\n\" }\n"
        ),
        handler("echo", filters::HANDLER_ECHO, ""),
    )));
    let c = client();

    let resp = c.get(gw.url("/hello")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-handler"], "hello");
    assert!(resp.headers().contains_key("x-request-id"));
    assert_eq!(resp.text().await.unwrap(), "hi from the config\n");

    let resp = c.get(gw.url("/api/x")).send().await.unwrap();
    assert_eq!(crate::upstream_of(resp).await, "svc");

    // The filter ran on the request (the handler saw its header: echo
    // reflects the path, and the filter's response edit is on the answer).
    let resp = c
        .post(gw.url("/echo/path?q=1"))
        .header("content-type", "application/x-test")
        .body("a body")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-echo-method"], "POST");
    assert_eq!(resp.headers()["x-echo-path"], "/echo/path?q=1");
    assert_eq!(resp.headers()["content-type"], "application/x-test");
    assert_eq!(resp.headers()["x-chain-resp"], "t");
    assert_eq!(resp.text().await.unwrap(), "a body");
}

/// One gateway per language: each compiles its component at start (seconds
/// for JavaScript and Python; kept in the language tests' artifact cache).
#[tokio::test(flavor = "multi_thread")]
async fn handlers_in_javascript_python_and_go_answer() {
    for (name, module) in [
        ("js", filters::HELLO_JS),
        ("py", filters::HELLO_PY),
        ("go", filters::HELLO_GO),
    ] {
        let gw = Gateway::start(&crate::languages::with_cache(&format!(
            "handlers:\n{}routes:\n  - match: {{ path: {{ prefix: / }} }}\n    handler: {name}\n",
            handler(
                name,
                module,
                &format!("    env: {{ GREETING: \"hello in {name}\" }}\n"),
            ),
        )));
        let c = client();
        // Twice: each request gets a fresh instance.
        for _ in 0..2 {
            let resp = c.get(gw.url("/")).send().await.unwrap();
            assert_eq!(resp.status(), 200, "{name}");
            assert_eq!(
                resp.text().await.unwrap(),
                format!("hello in {name}"),
                "{name}"
            );
        }
    }
}

/// Streams `size` bytes of a known pattern as the request body, in 64 KiB
/// chunks, hashing them on the way.
fn upload(size: usize) -> (reqwest::Body, Arc<std::sync::Mutex<Sha256>>) {
    let hash = Arc::new(std::sync::Mutex::new(Sha256::new()));
    let sent = hash.clone();
    let chunks = futures_util::stream::iter((0..size.div_ceil(1 << 16)).map(move |i| {
        let len = (size - i * (1 << 16)).min(1 << 16);
        let chunk: Vec<u8> = (0..len).map(|j| ((i * 7 + j) % 251) as u8).collect();
        sent.lock().unwrap().update(&chunk);
        Ok::<_, std::io::Error>(chunk)
    }));
    (reqwest::Body::wrap_stream(chunks), hash)
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_stream_both_ways_in_flat_memory() {
    let gw = Gateway::start(&config(&format!(
        "handlers:\n{}{}routes:\n  - match: {{ path: {{ prefix: /echo }} }}\n    handler: echo\n\
         \x20 - match: {{ path: {{ prefix: /stream }} }}\n    handler: stream\n",
        handler("echo", filters::HANDLER_ECHO, ""),
        handler("stream", filters::HANDLER_STREAM, ""),
    )));
    let c = client();
    // Warm up, so the baseline counts the instances' first pages.
    assert_eq!(
        c.get(gw.url("/stream?bytes=10"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        c.post(gw.url("/echo"))
            .body("x")
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    let baseline = gw.rss_kib();

    // 256 MiB down, read as it comes.
    const SIZE: usize = 256 << 20;
    let resp = c
        .get(gw.url(&format!("/stream?bytes={SIZE}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let mut received = 0;
    let mut body = resp.bytes_stream();
    let mut peak = baseline;
    while let Some(chunk) = body.next().await {
        received += chunk.expect("the stream completes").len();
        if received % (32 << 20) < (64 << 10) {
            peak = peak.max(gw.rss_kib());
        }
    }
    assert_eq!(received, SIZE);

    // 256 MiB up and back, compared by hash.
    let (body, sent) = upload(SIZE);
    let resp = c.post(gw.url("/echo")).body(body).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    let mut echoed = Sha256::new();
    let mut received = 0;
    let mut body = resp.bytes_stream();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.expect("the echo completes");
        received += chunk.len();
        echoed.update(&chunk);
        if received % (32 << 20) < (64 << 10) {
            peak = peak.max(gw.rss_kib());
        }
    }
    assert_eq!(received, SIZE);
    assert_eq!(echoed.finalize(), sent.lock().unwrap().clone().finalize());
    peak = peak.max(gw.rss_kib());
    assert!(
        peak < baseline + 64 * 1024,
        "RSS grew from {baseline} KiB to {peak} KiB streaming 256 MiB each way"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn outbound_http_follows_the_grant() {
    let up = Upstream::start("origin").await;
    let admin_port = free_port();
    let gw = Gateway::start(&config(&format!(
        "handlers:\n{}{}routes:\n  - match: {{ path: {{ prefix: /allowed }} }}\n    handler: allowed\n\
         \x20 - match: {{ path: {{ prefix: /denied }} }}\n    handler: denied\n\
         admin:\n  address: 127.0.0.1:{admin_port}\n",
        handler(
            "allowed",
            filters::HANDLER_FETCH,
            &format!(
                "    grants:\n      http:\n        allow: [\"http://{}\"]\n",
                up.address()
            )
        ),
        // No grant at all: a handler may import the outgoing handler (every
        // wasi:http toolchain does), and each request it sends is refused.
        handler("denied", filters::HANDLER_FETCH, ""),
    )));
    let c = client();
    let target = format!("http://{}/from-handler", up.address());

    let resp = c
        .get(gw.url(&format!("/allowed?url={target}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-upstream-status"], "200");
    let body: serde_json::Value = serde_json::from_slice(&resp.bytes().await.unwrap()).unwrap();
    assert_eq!(body["upstream"], "origin");
    assert_eq!(body["path"], "/from-handler");

    let resp = c
        .get(gw.url(&format!("/denied?url={target}")))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 502);
    let text = resp.text().await.unwrap();
    assert!(text.contains("HttpRequestDenied"), "{text}");
}

#[test]
fn weir_check_refuses_a_filter_component_as_a_handler() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weir.yaml");
    std::fs::write(
        &path,
        config(&format!(
            "handlers:\n{}routes:\n  - match: {{ path: {{ prefix: / }} }}\n    handler: nope\n",
            handler("nope", filters::TEST_NOOP, "")
        ))
        .replace("{port}", &free_port().to_string()),
    )
    .unwrap();
    let (ok, out) = weir_tests::weir_check(&path, false);
    assert!(!ok, "{out}");
    assert!(
        out.contains("handlers.nope.module") && out.contains("is not a wasi:http handler"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trap_a_hang_and_a_runaway_allocation_are_answered_and_the_gateway_serves_on() {
    let up = Upstream::start("svc").await;
    let admin_port = free_port();
    let gw = Gateway::start(&config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\n\
         handlers:\n{}routes:\n  - match: {{ path: {{ prefix: /api }} }}\n    upstream: svc\n\
         \x20 - match: {{ path: {{ prefix: / }} }}\n    handler: bad\n\
         admin:\n  address: 127.0.0.1:{admin_port}\n",
        up.address(),
        handler(
            "bad",
            filters::HANDLER_MISBEHAVE,
            "    limits: { deadline: 300ms, memory: 16MiB }\n    circuit_breaker: { enabled: false }\n"
        ),
    )));
    let c = client();
    for (path, status) in [
        ("/trap", 500),
        ("/loop", 504),
        ("/sleep", 504),
        ("/alloc", 500),
        ("/fine", 200),
    ] {
        let started = Instant::now();
        let resp = c.get(gw.url(path)).send().await.unwrap();
        assert_eq!(resp.status(), status, "{path}");
        assert!(started.elapsed() < Duration::from_secs(5), "{path}");
        if status != 200 {
            let body: serde_json::Value = resp.json().await.unwrap();
            assert!(
                body["error"].as_str().unwrap().contains("\"bad\""),
                "{body}"
            );
        }
        // Everything else still answers.
        let resp = c.get(gw.url("/api/x")).send().await.unwrap();
        assert_eq!(crate::upstream_of(resp).await, "svc");
    }

    // A trap after the head: the response is cut, not completed.
    let resp = c.get(gw.url("/late-trap")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        resp.bytes().await.is_err(),
        "a cut response does not complete"
    );

    let metrics = metrics_text(admin_port).await;
    for kind in ["trap", "deadline", "memory"] {
        let line = format!("weir_handler_failures_total{{handler=\"bad\",kind=\"{kind}\"}}");
        let count: u64 = metrics
            .lines()
            .find_map(|l| l.strip_prefix(&line))
            .unwrap_or_else(|| panic!("{line} in\n{metrics}"))
            .trim()
            .parse()
            .unwrap();
        assert!(count >= 1, "{line} {count}");
    }
    assert!(
        metrics.contains("weir_handler_answer_duration_seconds_count{handler=\"bad\"}"),
        "{metrics}"
    );
    let admin: serde_json::Value = client()
        .get(format!("http://127.0.0.1:{admin_port}/admin/handlers"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let bad = &admin["handlers"]["bad"];
    assert!(bad["failures"].as_u64().unwrap() >= 5, "{admin}");
    assert_eq!(bad["in_flight"], 0, "{admin}");
    assert_eq!(bad["deadline_ms"], 300, "{admin}");
}

#[tokio::test(flavor = "multi_thread")]
async fn over_its_concurrency_limit_a_handler_answers_503_with_retry_after() {
    let admin_port = free_port();
    let gw = Gateway::start(&config(&format!(
        "handlers:\n{}routes:\n  - match: {{ path: {{ prefix: / }} }}\n    handler: one\n\
         admin:\n  address: 127.0.0.1:{admin_port}\n",
        handler(
            "one",
            filters::HANDLER_MISBEHAVE,
            "    limits: { deadline: 20s, max_concurrent_requests: 1 }\n"
        ),
    )));
    // One request holds the only slot, sleeping in the handler.
    let url = gw.url("/sleep");
    let holder = tokio::spawn(async move { client().get(url).send().await });
    let in_flight = "weir_handler_requests_in_flight{handler=\"one\"} 1";
    let deadline = Instant::now() + Duration::from_secs(10);
    while !metrics_text(admin_port).await.contains(in_flight) {
        assert!(Instant::now() < deadline, "the first request never got in");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let resp = client().get(gw.url("/fine")).send().await.unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["retry-after"], "1");
    holder.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn a_reload_of_the_wasm_under_load_fails_no_request() {
    let admin_port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let module = dir.path().join("app.wasm");
    std::fs::copy(filters::HANDLER_HELLO, &module).unwrap();
    let gw = Gateway::start(&config(&format!(
        "handlers:\n{}routes:\n  - match: {{ path: {{ prefix: / }} }}\n    handler: app\n\
         admin:\n  address: 127.0.0.1:{admin_port}\n",
        handler("app", &module.display().to_string(), ""),
    )));

    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed, new_seen) = (
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
        Arc::new(AtomicU64::new(0)),
    );
    let clients: Vec<_> = (0..4)
        .map(|_| {
            let (url, stop, ok, failed, new_seen) = (
                gw.url("/"),
                stop.clone(),
                ok.clone(),
                failed.clone(),
                new_seen.clone(),
            );
            tokio::spawn(async move {
                let c = client();
                for _ in 0..5_000 {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    match c.get(&url).send().await {
                        Ok(resp) if resp.status() == 200 => {
                            let body = resp.text().await.unwrap_or_default();
                            if body == "ok\n" {
                                new_seen.fetch_add(1, Ordering::Relaxed);
                            }
                            ok.fetch_add(1, Ordering::Relaxed);
                        }
                        other => {
                            if failed.fetch_add(1, Ordering::Relaxed) == 0 {
                                eprintln!("first failed request: {other:?}");
                            }
                        }
                    }
                }
            })
        })
        .collect();
    weir_tests::wait_until(Duration::from_secs(30), "load to start", || {
        ok.load(Ordering::Relaxed) >= 50
    });
    // The module's file changes: the new generation answers "ok".
    replace_file(&module, &std::fs::read(filters::HANDLER_MISBEHAVE).unwrap());
    weir_tests::wait_until(Duration::from_secs(30), "the new module to answer", || {
        new_seen.load(Ordering::Relaxed) >= 50
    });
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.await.unwrap();
    }
    assert_eq!(failed.load(Ordering::Relaxed), 0);
    assert!(ok.load(Ordering::Relaxed) > 100);
}
