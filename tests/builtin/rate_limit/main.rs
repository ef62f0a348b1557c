//! End-to-end tests of the built-in `rate-limit` filter through the real
//! gateway: the memory store, Redis shared by two weir instances, the key
//! sources, the response fields, and a Redis that goes away.

use std::time::{Duration, Instant};

use weir_tests::{Gateway, RedisServer, Upstream, client, config, filters, free_port, weir_check};

/// `/api` proxied to `upstream` through the chain `chain`, where `rl` is the
/// rate-limit filter with `settings` (a YAML flow mapping) and
/// `extra_filters` declares any others.
fn rate_limit_config(
    stores: &str,
    upstream: &Upstream,
    settings: &str,
    extra_filters: &str,
    chain: &str,
) -> String {
    config(&format!(
        "upstreams:\n  app:\n    targets:\n      - address: {}\n\
key_value:\n{stores}\
filters:\n  rl:\n    module: {}\n    grants: {{ key_value: [limits] }}\n    limits: {{ call_deadline: 2s }}\n    config: {settings}\n{extra_filters}\
routes:\n  - match: {{ path: {{ prefix: /api }} }}\n    upstream: app\n    filters: [{chain}]\n",
        upstream.address(),
        filters::RATE_LIMIT
    ))
}

const MEMORY: &str = "  limits:\n    memory: { max_entries: 1000 }\n";

fn redis_stores(url: &str) -> String {
    format!(
        "  limits:\n    redis: {{ url: \"{url}\", command_timeout: 200ms, connect_timeout: 200ms }}\n"
    )
}

struct Answer {
    status: u16,
    retry_after: Option<String>,
    policy: Option<String>,
    current: Option<String>,
}

async fn get(gw: &Gateway, headers: &[(&str, &str)]) -> Answer {
    let mut req = client().get(gw.url("/api/x"));
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.expect("weir answers");
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
    };
    Answer {
        status: resp.status().as_u16(),
        retry_after: header("retry-after"),
        policy: header("ratelimit-policy"),
        current: header("ratelimit"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_gets_its_quota_then_429_with_retry_after_and_ratelimit_fields() {
    let app = Upstream::start("app").await;
    let gw = Gateway::start(&rate_limit_config(
        MEMORY,
        &app,
        "{ store: limits, limits: [{ name: per-ip, limit: 3, window: 1h }] }",
        "",
        "rl",
    ));
    for remaining in [2, 1, 0] {
        let answer = get(&gw, &[]).await;
        assert_eq!(answer.status, 200);
        assert_eq!(answer.policy.as_deref(), Some("\"per-ip\";q=3;w=3600"));
        let current = answer.current.expect("RateLimit on an allowed response");
        assert!(
            current.starts_with(&format!("\"per-ip\";r={remaining};t=")),
            "{current}"
        );
    }
    let refused = get(&gw, &[]).await;
    assert_eq!(refused.status, 429);
    // One request comes back per 1200 s (3600 s / 3), minus the test's time.
    let retry: u64 = refused.retry_after.expect("Retry-After").parse().unwrap();
    assert!((1100..=1200).contains(&retry), "Retry-After {retry}");
    assert_eq!(refused.policy.as_deref(), Some("\"per-ip\";q=3;w=3600"));
    let current = refused.current.expect("RateLimit on the 429");
    assert!(current.starts_with("\"per-ip\";r=0;t="), "{current}");
    assert_eq!(
        app.hits(),
        3,
        "the refused request never reached the upstream"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn without_headers_on_success_only_the_429_carries_the_fields() {
    let app = Upstream::start("app").await;
    let gw = Gateway::start(&rate_limit_config(
        MEMORY,
        &app,
        "{ store: limits, headers_on_success: false, limits: [{ name: per-ip, limit: 1, window: 1h }] }",
        "",
        "rl",
    ));
    let allowed = get(&gw, &[]).await;
    assert_eq!(allowed.status, 200);
    assert_eq!((allowed.policy, allowed.current), (None, None));
    let refused = get(&gw, &[]).await;
    assert_eq!(refused.status, 429);
    assert!(refused.policy.is_some() && refused.current.is_some());
}

#[tokio::test(flavor = "multi_thread")]
async fn limits_count_by_header_or_context_and_several_limits_apply() {
    let app = Upstream::start("app").await;
    let set_context = format!(
        "  who:\n    module: {}\n    config: {{ mode: set, key: sub, from_header: x-user }}\n",
        filters::TEST_CONTEXT
    );
    let gw = Gateway::start(&rate_limit_config(
        MEMORY,
        &app,
        "{ store: limits, limits: [\
           { name: per-key, limit: 2, window: 1h, key: { header: x-api-key } },\
           { name: per-user, limit: 3, window: 1h, key: { context: sub }, when_missing: shared }] }",
        &set_context,
        "who, rl",
    ));
    // Two keys, one user: each key has its own 2; the user's 3 stop the 4th.
    let alice_a = [("x-api-key", "a"), ("x-user", "alice")];
    let alice_b = [("x-api-key", "b"), ("x-user", "alice")];
    assert_eq!(get(&gw, &alice_a).await.status, 200);
    assert_eq!(get(&gw, &alice_a).await.status, 200);
    let third_on_a = get(&gw, &alice_a).await;
    assert_eq!(third_on_a.status, 429, "key a is spent");
    // The refusal by the first limit did not spend alice's quota.
    assert_eq!(get(&gw, &alice_b).await.status, 200);
    let spent = get(&gw, &alice_b).await;
    assert_eq!(spent.status, 429, "alice's 3 are spent (a, a, b)");
    assert!(spent.current.unwrap().contains("\"per-user\";r=0"));

    // Another user is counted apart; without a key header the per-key limit
    // is skipped; without a user, the shared bucket counts.
    let bob = [("x-user", "bob")];
    for _ in 0..3 {
        let answer = get(&gw, &bob).await;
        assert_eq!(answer.status, 200);
        assert!(!answer.current.unwrap().contains("per-key"));
    }
    assert_eq!(get(&gw, &bob).await.status, 429);
    for _ in 0..3 {
        assert_eq!(get(&gw, &[]).await.status, 200);
    }
    assert_eq!(
        get(&gw, &[]).await.status,
        429,
        "the shared bucket is spent"
    );

    // A huge key value is hashed, not refused by the store (which would let
    // it pass uncounted).
    let huge = "k".repeat(4000);
    let carol = [("x-api-key", huge.as_str()), ("x-user", "carol")];
    assert_eq!(get(&gw, &carol).await.status, 200);
    assert_eq!(get(&gw, &carol).await.status, 200);
    assert_eq!(get(&gw, &carol).await.status, 429);
}

#[tokio::test(flavor = "multi_thread")]
async fn two_instances_sharing_redis_allow_exactly_the_quota() {
    let redis = RedisServer::start();
    let app = Upstream::start("app").await;
    let cfg = rate_limit_config(
        &redis_stores(&redis.url()),
        &app,
        "{ store: limits, limits: [{ name: shared, limit: 25, window: 1h }] }",
        "",
        "rl",
    );
    let a = std::sync::Arc::new(Gateway::start(&cfg));
    let b = std::sync::Arc::new(Gateway::start(&cfg));
    // 80 requests at once, half through each instance.
    let requests = (0..80).map(|i| {
        let gw = if i % 2 == 0 { a.clone() } else { b.clone() };
        tokio::spawn(async move { get(&gw, &[]).await.status })
    });
    let mut allowed = 0;
    let mut refused = 0;
    for task in requests.collect::<Vec<_>>() {
        match task.await.unwrap() {
            200 => allowed += 1,
            429 => refused += 1,
            other => panic!("unexpected status {other}"),
        }
    }
    assert_eq!((allowed, refused), (25, 55));
    assert_eq!(app.hits(), 25);
}

#[tokio::test(flavor = "multi_thread")]
async fn when_redis_goes_away_requests_fail_open_or_closed_as_configured_and_in_time() {
    let mut redis = RedisServer::start();
    let app = Upstream::start("app").await;
    let stores = redis_stores(&redis.url());
    let open = Gateway::start(&rate_limit_config(
        &stores,
        &app,
        "{ store: limits, limits: [{ name: open, limit: 2, window: 1h }] }",
        "",
        "rl",
    ));
    let closed = Gateway::start(&rate_limit_config(
        &stores,
        &app,
        "{ store: limits, on_store_error: deny, limits: [{ name: closed, limit: 2, window: 1h }] }",
        "",
        "rl",
    ));
    for gw in [&open, &closed] {
        assert_eq!(get(gw, &[]).await.status, 200);
        assert_eq!(get(gw, &[]).await.status, 200);
        assert_eq!(get(gw, &[]).await.status, 429);
    }

    redis.stop();
    for _ in 0..3 {
        let started = Instant::now();
        let fail_open = get(&open, &[]).await;
        assert_eq!(fail_open.status, 200, "allowed uncounted");
        assert!(fail_open.current.is_none(), "no count to report");
        let fail_closed = get(&closed, &[]).await;
        assert_eq!(fail_closed.status, 503);
        // Both within the store's 200 ms timeouts, with slack for a busy machine.
        let elapsed = started.elapsed();
        assert!(elapsed < Duration::from_millis(1500), "took {elapsed:?}");
    }
    assert!(
        open.logs().contains("rate-limit store failed"),
        "the outage is logged"
    );

    // Redis back (its data gone with it): limiting resumes from zero.
    redis.restart();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let answer = get(&closed, &[]).await;
        if answer.status == 200 {
            break;
        }
        assert_eq!(answer.status, 503);
        assert!(Instant::now() < deadline, "weir never reconnected to Redis");
    }
    assert_eq!(get(&closed, &[]).await.status, 200);
    assert_eq!(get(&closed, &[]).await.status, 429);
}

#[test]
fn weir_check_points_at_a_bad_rate_limit_config() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weir.yaml");
    let cfg = config(&format!(
        "key_value:\n{MEMORY}filters:\n  rl:\n    module: {}\n    grants: {{ key_value: [limits] }}\n    config:\n      store: limits\n      limits:\n        - {{ name: per-ip, limit: 0, window: 1s }}\n\
routes:\n  - match: {{ path: {{ prefix: / }} }}\n    respond: {{ status: 200 }}\n    filters: [rl]\n",
        filters::RATE_LIMIT
    ))
    .replace("{port}", &free_port().to_string());
    std::fs::write(&path, &cfg).unwrap();
    let (ok, out) = weir_check(&path, false);
    assert!(!ok, "accepted: {out}");
    assert!(
        out.contains("filters.rl.config") && out.contains("limit must be at least 1"),
        "{out}"
    );

    let bad_window = cfg.replace("limit: 0, window: 1s", "limit: 5, window: soon");
    std::fs::write(&path, &bad_window).unwrap();
    let (ok, out) = weir_check(&path, false);
    assert!(!ok, "accepted: {out}");
    assert!(
        out.contains("filters.rl.config") && out.contains("soon"),
        "{out}"
    );
}
