//! Capabilities end to end: key-value stores (a real `redis-server` and the
//! memory store), secrets, outbound HTTP and files, each granted per filter
//! and refused otherwise; real filters from `filters/testing`.

use std::time::{Duration, Instant};

use weir_tests::{Gateway, RedisServer, Upstream, client, filters, free_port, weir_check};

use crate::config;

/// One `/kv` route answered by the `test-kv` filter on `store`.
fn kv_config(stores: &str, store: &str) -> String {
    config(&format!(
        "key_value:\n{stores}filters:\n  kv:\n    module: {}\n    config: {{ store: {store} }}\n    grants: {{ key_value: [{store}] }}\n    limits: {{ call_deadline: 1s }}\nroutes:\n  - match: {{ path: {{ prefix: /kv }} }}\n    respond: {{ status: 404 }}\n    filters: [kv]\n  - match: {{ path: {{ prefix: /healthz }} }}\n    respond: {{ status: 200, body: ok }}\n",
        filters::TEST_KV
    ))
}

fn redis_store(name: &str, url: &str) -> String {
    format!(
        "  {name}:\n    redis: {{ url: \"{url}\", command_timeout: 200ms, connect_timeout: 200ms }}\n"
    )
}

/// Sends one key-value operation through the gateway; (status, body, error kind).
async fn kv(gw: &Gateway, op: &str, key: &str, extra: &[(&str, &str)]) -> (u16, String, String) {
    let mut req = client()
        .get(gw.url("/kv"))
        .header("x-kv-op", op)
        .header("x-kv-key", key);
    for (name, value) in extra {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.expect("weir answers");
    let status = resp.status().as_u16();
    let kind = resp
        .headers()
        .get("x-kv-error")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (status, resp.text().await.unwrap(), kind)
}

#[tokio::test(flavor = "multi_thread")]
async fn two_gateways_share_a_counter_through_one_redis_store() {
    let redis = RedisServer::start();
    let cfg = kv_config(&redis_store("counters", &redis.url()), "counters");
    let (a, b) = (Gateway::start(&cfg), Gateway::start(&cfg));
    for i in 1..=20 {
        let gw = if i % 2 == 0 { &a } else { &b };
        let (status, body, _) = kv(gw, "incr", "shared", &[]).await;
        assert_eq!((status, body), (200, i.to_string()), "increment {i}");
    }
    let (_, value, _) = kv(&a, "get", "shared", &[]).await;
    assert_eq!(value, "20");
}

#[tokio::test(flavor = "multi_thread")]
async fn redis_down_gives_the_filter_an_error_in_time_and_weir_reconnects() {
    let mut redis = RedisServer::start();
    let gw = Gateway::start(&kv_config(
        &redis_store("counters", &redis.url()),
        "counters",
    ));
    assert_eq!(kv(&gw, "incr", "k", &[]).await.1, "1");

    redis.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let (status, _, kind) = kv(&gw, "incr", "k", &[]).await;
        let elapsed = started.elapsed();
        // The filter itself gets the error (its deadline is 1s), within the
        // store's 200ms timeouts plus slack for a loaded machine.
        assert_eq!((status, kind.as_str()), (503, "unavailable"));
        assert!(elapsed < Duration::from_millis(900), "took {elapsed:?}");
        let health = client().get(gw.url("/healthz")).send().await.unwrap();
        assert_eq!(health.status(), 200, "weir keeps serving other routes");
    }

    redis.restart();
    // The data went with the old process; the counter starts again.
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let (status, body, _) = kv(&gw, "incr", "k", &[]).await;
        if status == 200 {
            assert_eq!(body, "1");
            break;
        }
        assert!(Instant::now() < deadline, "weir did not reconnect to redis");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn weir_starts_while_redis_is_down_and_uses_it_once_it_is_up() {
    let port = free_port();
    let url = format!("redis://127.0.0.1:{port}/0");
    let cfg = kv_config(&redis_store("counters", &url), "counters");
    // `weir check` does not need Redis.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weir.yaml");
    std::fs::write(&path, cfg.replace("{port}", &free_port().to_string())).unwrap();
    let (ok, out) = weir_check(&path, false);
    assert!(ok, "{out}");

    let gw = Gateway::start(&cfg);
    let (status, _, kind) = kv(&gw, "get", "k", &[]).await;
    assert_eq!((status, kind.as_str()), (503, "unavailable"));

    let _redis = RedisServer::start_on(port);
    let deadline = Instant::now() + Duration::from_secs(15);
    while kv(&gw, "incr", "k", &[]).await.0 != 200 {
        assert!(Instant::now() < deadline, "weir never connected to redis");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(kv(&gw, "get", "k", &[]).await.1, "1");
}

#[tokio::test(flavor = "multi_thread")]
async fn memory_store_expires_keys_and_stays_bounded() {
    let gw = Gateway::start(&kv_config(
        "  local:\n    memory: { max_entries: 50 }\n",
        "local",
    ));
    assert_eq!(
        kv(
            &gw,
            "set",
            "short",
            // Long enough that the next request reads it on a loaded
            // machine; the loop below then waits for it to expire.
            &[("x-kv-value", "v"), ("x-kv-ttl-ms", "1000")]
        )
        .await
        .1,
        "ok"
    );
    assert_eq!(kv(&gw, "set", "long", &[("x-kv-value", "w")]).await.1, "ok");
    assert_eq!(kv(&gw, "get", "short", &[]).await.1, "v");
    let deadline = Instant::now() + Duration::from_secs(5);
    while kv(&gw, "get", "short", &[]).await.1 != "<none>" {
        assert!(Instant::now() < deadline, "the key never expired");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(kv(&gw, "get", "long", &[]).await.1, "w");

    // Increment's TTL starts the window; the counter then lives on.
    assert_eq!(
        kv(&gw, "incr", "n", &[("x-kv-ttl-ms", "60000")]).await.1,
        "1"
    );
    assert_eq!(kv(&gw, "incr", "n", &[]).await.1, "2");
    // Compare-and-swap: only from the expected value.
    let cas = |expected: &'static str, value: &'static str| {
        [("x-kv-expected", expected), ("x-kv-value", value)]
    };
    assert_eq!(kv(&gw, "cas", "n", &cas("1", "9")).await.1, "false");
    assert_eq!(kv(&gw, "cas", "n", &cas("2", "9")).await.1, "true");
    assert_eq!(kv(&gw, "get", "n", &[]).await.1, "9");
    assert_eq!(
        kv(&gw, "cas", "fresh", &[("x-kv-value", "x")]).await.1,
        "true"
    );
    assert_eq!(kv(&gw, "del", "fresh", &[]).await.1, "true");

    for i in 0..250 {
        kv(&gw, "set", &format!("fill-{i}"), &[("x-kv-value", "x")]).await;
    }
    let mut kept = 0;
    for i in 0..250 {
        if kv(&gw, "get", &format!("fill-{i}"), &[]).await.1 == "x" {
            kept += 1;
        }
    }
    assert!(
        (1..=50).contains(&kept),
        "{kept} of 250 keys kept by a 50-entry store"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_are_shared_by_the_filters_granted_a_store_and_no_others() {
    let wasm = filters::TEST_KV;
    let filter = |name: &str, store: &str| {
        format!(
            "  {name}:\n    module: {wasm}\n    config: {{ store: {store} }}\n    grants: {{ key_value: [{store}] }}\n",
        )
    };
    let route = |prefix: &str, filter: &str| {
        format!(
            "  - match: {{ path: {{ prefix: {prefix} }} }}\n    respond: {{ status: 404 }}\n    filters: [{filter}]\n"
        )
    };
    let gw = Gateway::start(&config(&format!(
        "key_value:\n  a:\n    memory: {{}}\n  b:\n    memory: {{}}\nfilters:\n{}{}{}routes:\n{}{}{}",
        filter("one", "a"),
        filter("two", "a"),
        filter("three", "b"),
        route("/one", "one"),
        route("/two", "two"),
        route("/three", "three"),
    )));
    let incr = |path: &'static str| {
        let url = gw.url(path);
        async move {
            client()
                .get(url)
                .header("x-kv-op", "incr")
                .header("x-kv-key", "hits")
                .send()
                .await
                .unwrap()
                .text()
                .await
                .unwrap()
        }
    };
    assert_eq!(incr("/one").await, "1");
    assert_eq!(incr("/two").await, "2", "same store, same keys");
    assert_eq!(incr("/three").await, "1", "another store, other keys");

    let refused = client()
        .get(gw.url("/three"))
        .header("x-kv-op", "open")
        .header("x-kv-store", "a")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 503);
    assert_eq!(refused.headers()["x-kv-error"], "not-granted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_filter_importing_a_capability_its_config_does_not_grant_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weir.yaml");
    let port = free_port();
    let cfg = config(&format!(
        "key_value:\n  local:\n    memory: {{}}\nfilters:\n  greedy:\n    module: {}\n    config: {{ store: local }}\n\
         routes:\n  - match: {{ path: {{ prefix: / }} }}\n    respond: {{ status: 200 }}\n    filters: [greedy]\n",
        filters::TEST_KV
    ))
    .replace("{port}", &port.to_string());
    std::fs::write(&path, &cfg).unwrap();
    let (ok, out) = weir_check(&path, false);
    assert!(!ok);
    // Pointed at the filter's entry (its first line), where the grant belongs.
    assert!(
        out.contains("filters.greedy.grants (line 12)")
            && out.contains("weir:filter/key-value")
            && out.contains("grants.key_value"),
        "{out}"
    );

    // The same for secrets and outbound HTTP.
    for (name, module, capability) in [
        ("test-secret", filters::TEST_SECRET, "weir:filter/secrets"),
        (
            "test-fetch",
            filters::TEST_FETCH,
            "wasi:http/outgoing-handler",
        ),
    ] {
        let cfg = cfg.replace(filters::TEST_KV, module);
        std::fs::write(&path, &cfg).unwrap();
        let (ok, out) = weir_check(&path, false);
        assert!(!ok && out.contains(capability), "{name}: {out}");
    }

    // Listing a grant empty consents to the import and grants nothing: the
    // filter loads, and its calls are refused at run time.
    // (test-kv opens its store in `init`, so there the refusal is its init's.)
    for (name, module, grant, loads) in [
        ("test-secret", filters::TEST_SECRET, "{ secrets: [] }", true),
        (
            "test-fetch",
            filters::TEST_FETCH,
            "{ http: { allow: [] } }",
            true,
        ),
        ("test-kv", filters::TEST_KV, "{ key_value: [] }", false),
    ] {
        let consented = cfg.replace(filters::TEST_KV, module).replace(
            "config: { store: local }\n",
            &format!("config: {{ store: local }}\n    grants: {grant}\n"),
        );
        std::fs::write(&path, &consented).unwrap();
        let (ok, out) = weir_check(&path, false);
        assert_eq!(ok, loads, "{name} with {grant}: {out}");
        if !loads {
            assert!(
                out.contains("filters.greedy.config") && out.contains("is not granted"),
                "{out}"
            );
        }
    }
    let consented = cfg.replace(filters::TEST_KV, filters::TEST_SECRET).replace(
        "config: { store: local }\n",
        "config: { store: local }\n    grants: { secrets: [] }\n",
    );
    let gw = Gateway::start(&consented.replace(&port.to_string(), "{port}"));
    let denied = client()
        .get(gw.url("/"))
        .header("x-secret", "from_env")
        .send()
        .await
        .unwrap();
    assert_eq!(denied.status(), 403);
    assert!(denied.text().await.unwrap().contains("not granted"));
    drop(gw);

    // A reload to it is refused too, and the running generation serves on.
    let granted = cfg.replace(
        "config: { store: local }\n",
        "config: { store: local }\n    grants: { key_value: [local] }\n",
    );
    let gw = Gateway::start_on(granted, port);
    let kv_get = || {
        client()
            .get(gw.url("/"))
            .header("x-kv-op", "get")
            .header("x-kv-key", "k")
            .send()
    };
    assert_eq!(kv_get().await.unwrap().status(), 200);
    gw.replace_config(&cfg);
    weir_tests::wait_until(Duration::from_secs(10), "the refused reload", || {
        gw.logs().contains("reload rejected")
    });
    assert!(gw.logs().contains("weir:filter/key-value"));
    assert_eq!(kv_get().await.unwrap().status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_secret_reaches_the_filter_it_is_granted_to_and_no_other() {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("token-b.txt"), "from-a-file\n").unwrap();
    let wasm = filters::TEST_SECRET;
    let cfg = config(&format!(
        "secrets:\n  token_a:\n    env: WEIR_E2E_TOKEN_A\n  token_b:\n    file: token-b.txt\n\
         filters:\n  sa:\n    module: {w}\n    grants: {{ secrets: [token_a] }}\n  sb:\n    module: {w}\n    grants: {{ secrets: [token_b] }}\n\
         routes:\n  - match: {{ path: {{ prefix: /a }} }}\n    respond: {{ status: 404 }}\n    filters: [sa]\n  - match: {{ path: {{ prefix: /b }} }}\n    respond: {{ status: 404 }}\n    filters: [sb]\n",
        w = wasm
    ))
    .replace("{port}", &port.to_string());
    std::fs::write(dir.path().join("weir.yaml"), cfg).unwrap();
    let gw = Gateway::spawn_with_env(dir, port, &[("WEIR_E2E_TOKEN_A", "alpha-secret")]);
    let ask = |path: &str, name: &str| {
        let req = client().get(gw.url(path)).header("x-secret", name);
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    assert_eq!(ask("/a", "token_a").await, (200, "alpha-secret".into()));
    let (status, body) = ask("/b", "token_a").await;
    assert_eq!(status, 403);
    assert!(
        body.contains("not granted") && !body.contains("alpha"),
        "{body}"
    );
    // A file secret loses the one trailing newline that `echo` leaves.
    assert_eq!(ask("/b", "token_b").await, (200, "from-a-file".into()));

    // Rotating the file reloads: the next generation's filters get the new value.
    weir_tests::replace_file(&gw.dir().join("token-b.txt"), b"rotated\n");
    let deadline = Instant::now() + Duration::from_secs(10);
    while ask("/b", "token_b").await != (200, "rotated".into()) {
        assert!(
            Instant::now() < deadline,
            "the rotated secret never arrived"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn outbound_http_reaches_granted_origins_only() {
    let granted = Upstream::start("granted").await;
    let outside = Upstream::start("outside").await;
    let gw = Gateway::start(&config(&format!(
        "filters:\n  fetch:\n    module: {}\n    grants:\n      http:\n        allow: [\"http://{}\"]\n        timeout: 2s\n        max_response_bytes: 64KiB\n    limits: {{ call_deadline: 3s }}\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    respond: {{ status: 404 }}\n    filters: [fetch]\n",
        filters::TEST_FETCH,
        granted.address()
    )));
    let fetch = |url: String| {
        let req = client().get(gw.url("/")).header("x-fetch-url", url);
        async move { req.send().await.unwrap() }
    };

    let ok = fetch(format!("http://{}/hello", granted.address())).await;
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.headers()["x-fetch-status"], "200");
    let seen: serde_json::Value = ok.json().await.unwrap();
    assert_eq!(seen["upstream"], "granted");
    assert_eq!(seen["path"], "/hello");
    assert_eq!(
        seen["headers"]["x-from-filter"],
        serde_json::json!(["test-fetch"])
    );
    assert_eq!(granted.hits(), 1);

    let denied = fetch(format!("http://{}/steal", outside.address())).await;
    assert_eq!(denied.status(), 403);
    // https to the granted host:port is another origin.
    let denied = fetch(format!("https://{}/", granted.address())).await;
    assert_eq!(denied.status(), 403);
    assert_eq!(outside.hits(), 0, "a refused request never leaves weir");
    assert_eq!(granted.hits(), 1);

    // A response body within max_response_bytes arrives whole; a larger one
    // fails the filter's read instead of filling its memory.
    let small = fetch(format!("http://{}/download?bytes=65536", granted.address())).await;
    assert_eq!(small.status(), 200);
    assert_eq!(small.bytes().await.unwrap().len(), 65536);
    let big = fetch(format!("http://{}/download?bytes=65537", granted.address())).await;
    assert_eq!(big.status(), 502);
    let reason = big.text().await.unwrap();
    assert!(reason.contains("request failed"), "{reason}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_granted_directory_is_readable_and_nothing_else_is() {
    let files = tempfile::tempdir().unwrap();
    std::fs::write(files.path().join("list.txt"), "10.0.0.1\n").unwrap();
    let wasm = filters::TEST_FILES;
    let gw = Gateway::start(&config(&format!(
        "filters:\n  reader:\n    module: {w}\n    grants:\n      files: {{ path: \"{dir}\", mount: /data }}\n  blind:\n    module: {w}\n\
         routes:\n  - match: {{ path: {{ prefix: /reader }} }}\n    respond: {{ status: 404 }}\n    filters: [reader]\n  - match: {{ path: {{ prefix: /blind }} }}\n    respond: {{ status: 404 }}\n    filters: [blind]\n",
        w = wasm,
        dir = files.path().display()
    )));
    let read = |path: &str, file: &str| {
        let req = client().get(gw.url(path)).header("x-file", file);
        async move {
            let resp = req.send().await.unwrap();
            (resp.status().as_u16(), resp.text().await.unwrap())
        }
    };
    assert_eq!(
        read("/reader", "/data/list.txt").await,
        (200, "10.0.0.1\n".into())
    );
    assert_eq!(read("/reader", "/etc/hostname").await.0, 404);
    assert_eq!(read("/reader", "/data/../../etc/hostname").await.0, 404);
    assert_eq!(read("/blind", "/data/list.txt").await.0, 404);
}
