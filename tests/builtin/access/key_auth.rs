//! `key-auth`: keys from the config (plain or hashed) and from secrets, the
//! 401 challenge, the consumer in the context and upstream, the key kept
//! from the upstream, and a lookup whose time does not depend on the key.

use std::time::{Duration, Instant};

use weir_tests::{Gateway, Upstream, client, filters, free_port};

use crate::{
    NO_SECRETS_GRANT, assert_check_rejects, context_probe, filter, gateway_config, upstream_saw,
};

const ALICE_KEY: &str = "ak_live_3f9c2a7e5b1d4c8f9a0e6b2d7c1f5a3e";

/// SHA-256 of `bob-key-0123456789abcdef` (`printf %s KEY | sha256sum`).
const BOB_KEY: &str = "bob-key-0123456789abcdef";
const BOB_HASH: &str = "sha256:cfffcf49d8b485b308f1bbeedaf9a2cea8a07d01d1a6bb29d07e5fafd4c89a71";

/// key-auth (`rest` = its config lines), then a probe copying the context's
/// `consumer` into `x-ctx-consumer`, in front of the upstream.
async fn gateway(rest: &str) -> (Upstream, Gateway) {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&gateway_config(
        &up,
        "",
        &[
            filter(
                "keys",
                filters::KEY_AUTH,
                &format!("{rest}{NO_SECRETS_GRANT}"),
            ),
            context_probe("probe", "consumer", "x-ctx-consumer"),
        ],
        &[("/", "keys, probe")],
    ));
    (up, gw)
}

fn alice_and_bob() -> String {
    format!(
        "    config:\n      query_param: api_key\n      consumers:\n        - {{ name: alice, keys: [\"{ALICE_KEY}\"] }}\n        - {{ name: bob, keys: [\"{BOB_HASH}\"] }}\n"
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn a_known_key_names_its_consumer_to_later_filters_and_the_upstream() {
    let (_up, gw) = gateway(&alice_and_bob()).await;
    let resp = client()
        .get(gw.url("/orders"))
        .header("x-api-key", ALICE_KEY)
        // A client claiming to be someone else: replaced, not forwarded.
        .header("x-consumer", "admin")
        .send()
        .await
        .unwrap();
    let seen = upstream_saw(resp).await;
    let headers = &seen["headers"];
    assert_eq!(headers["x-consumer"], serde_json::json!(["alice"]));
    assert_eq!(
        headers["x-ctx-consumer"],
        serde_json::json!(["alice"]),
        "context"
    );
    assert!(
        headers.get("x-api-key").is_none(),
        "the key went upstream: {headers}"
    );

    // Bob's key is configured only as its hash.
    let resp = client()
        .get(gw.url("/orders"))
        .header("x-api-key", BOB_KEY)
        .send()
        .await
        .unwrap();
    assert_eq!(
        upstream_saw(resp).await["headers"]["x-consumer"],
        serde_json::json!(["bob"])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_in_the_query_is_accepted_and_removed_before_the_upstream() {
    let (_up, gw) = gateway(&alice_and_bob()).await;
    let url = gw.url(&format!("/search?q=rust&api_key={ALICE_KEY}&page=2"));
    let seen = upstream_saw(client().get(url).send().await.unwrap()).await;
    assert_eq!(seen["query"], "q=rust&page=2");
    assert_eq!(seen["headers"]["x-consumer"], serde_json::json!(["alice"]));

    let url = gw.url(&format!("/search?api_key={ALICE_KEY}"));
    let seen = upstream_saw(client().get(url).send().await.unwrap()).await;
    assert_eq!(
        seen["query"],
        serde_json::Value::Null,
        "an empty query is dropped"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_wrong_and_near_miss_keys_get_the_same_bare_401() {
    let (up, gw) = gateway(&alice_and_bob()).await;
    let mut one_byte_off = ALICE_KEY.as_bytes().to_vec();
    *one_byte_off.last_mut().unwrap() ^= 1;
    let one_byte_off = String::from_utf8(one_byte_off).unwrap();
    /// (what, headers, path)
    type Case<'a> = (&'a str, Vec<(&'a str, String)>, &'a str);
    let cases: Vec<Case> = vec![
        ("missing", vec![], "/"),
        ("wrong", vec![("x-api-key", "nope".into())], "/"),
        (
            "one byte off",
            vec![("x-api-key", one_byte_off.clone())],
            "/",
        ),
        (
            "prefix",
            vec![("x-api-key", ALICE_KEY[..ALICE_KEY.len() - 1].into())],
            "/",
        ),
        ("the hash itself", vec![("x-api-key", BOB_HASH.into())], "/"),
        ("empty", vec![("x-api-key", String::new())], "/"),
        ("wrong in query", vec![], "/?api_key=nope"),
        // Two keys: which one would the upstream read? Refused.
        (
            "doubled header",
            vec![
                ("x-api-key", ALICE_KEY.into()),
                ("x-api-key", "other".into()),
            ],
            "/",
        ),
    ];
    let mut bodies = Vec::new();
    for (what, headers, path) in &cases {
        let mut req = client().get(gw.url(path));
        for (name, value) in headers {
            req = req.header(*name, value);
        }
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), 401, "{what}");
        assert_eq!(
            resp.headers()["www-authenticate"],
            "ApiKey realm=\"weir\"",
            "{what}"
        );
        bodies.push(resp.text().await.unwrap());
    }
    assert!(
        bodies.iter().all(|b| *b == bodies[0]),
        "bodies differ: {bodies:?}"
    );
    assert_eq!(up.hits(), 0, "a refused request reached the upstream");
}

#[tokio::test(flavor = "multi_thread")]
async fn keys_from_a_secret_include_every_line_for_rotation() {
    let up = Upstream::start("svc").await;
    let port = free_port();
    let text = gateway_config(
        &up,
        "secrets:\n  partner_keys:\n    env: WEIR_TEST_PARTNER_KEYS\n",
        &[filter(
            "keys",
            filters::KEY_AUTH,
            "    config:\n      consumer_header: x-partner\n      consumers:\n        - { name: partner, secrets: [partner_keys] }\n    grants: { secrets: [partner_keys] }\n",
        )],
        &[("/", "keys")],
    )
    .replace("{port}", &port.to_string());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("weir.yaml"), text).unwrap();
    let gw = Gateway::spawn_with_env(
        dir,
        port,
        &[(
            "WEIR_TEST_PARTNER_KEYS",
            "old-partner-key\nnew-partner-key\n",
        )],
    );
    for key in ["old-partner-key", "new-partner-key"] {
        let resp = client()
            .get(gw.url("/"))
            .header("x-api-key", key)
            .send()
            .await
            .unwrap();
        let seen = upstream_saw(resp).await;
        assert_eq!(
            seen["headers"]["x-partner"],
            serde_json::json!(["partner"]),
            "{key}"
        );
        assert!(seen["headers"].get("x-consumer").is_none());
    }
    let resp = client()
        .get(gw.url("/"))
        .header("x-api-key", "old-partner-key\nnew-partner-key")
        .send()
        .await;
    // reqwest refuses a newline in a header; either way nothing gets through.
    if let Ok(resp) = resp {
        assert_eq!(resp.status(), 401);
    }
    let resp = client()
        .get(gw.url("/"))
        .header("x-api-key", "partner")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
}

/// Through the gateway, with 20 000 keys: a hit on the first key, a hit on
/// the last, and misses sharing a long prefix with a key or differing in its
/// first byte. An early-exit lookup makes the first hit skip ~20 000
/// comparisons (about a millisecond inside Wasm), far above what the medians
/// of interleaved requests move by on a busy machine; a constant-time scan
/// makes the pairs equal. The unit test `lookup_time_does_not_depend_on_the_key`
/// in the crate checks the same property without the network's noise.
#[tokio::test(flavor = "multi_thread")]
async fn request_time_does_not_depend_on_which_key_or_how_close_a_wrong_key_is() {
    const KEYS: usize = 20_000;
    let keys: String = (0..KEYS).map(|i| format!("\"k-{i:08}\",")).collect();
    let (_up, gw) = gateway(&format!(
        "    config:\n      consumers:\n        - {{ name: many, keys: [{}] }}\n    limits: {{ call_deadline: 2s }}\n",
        keys.trim_end_matches(',')
    ))
    .await;
    let client = client();
    let probes = [
        ("first key", format!("k-{:08}", 0), 200),
        ("last key", format!("k-{:08}", KEYS - 1), 200),
        ("long shared prefix", format!("k-{:07}x", KEYS / 10), 401),
        ("first byte differs", format!("x-{:08}", KEYS - 1), 401),
    ];
    let mut samples = vec![Vec::new(); probes.len()];
    for round in 0..120 {
        for k in 0..probes.len() {
            let i = (k + round) % probes.len();
            let started = Instant::now();
            let resp = client
                .get(gw.url("/"))
                .header("x-api-key", &probes[i].1)
                .send()
                .await
                .unwrap();
            let _ = resp.bytes().await;
            samples[i].push(started.elapsed());
        }
    }
    // Check the outcomes once, outside the timed loop.
    for (what, key, status) in &probes {
        let resp = client
            .get(gw.url("/"))
            .header("x-api-key", key)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), *status, "{what}");
    }
    let median = |s: &mut Vec<Duration>| {
        s.sort();
        s[s.len() / 2]
    };
    let medians: Vec<Duration> = samples.iter_mut().map(median).collect();
    eprintln!("medians (first hit, last hit, prefix miss, first-byte miss): {medians:?}");
    // Same code path, different keys: within 40% or 500 µs of each other (an
    // early-exit scan differs by ~1.5 ms, about 85%).
    for (a, b) in [(0, 1), (2, 3)] {
        let (x, y) = (medians[a].as_secs_f64(), medians[b].as_secs_f64());
        let bound = (x.max(y) * 0.4).max(500e-6);
        assert!(
            (x - y).abs() < bound,
            "{} vs {}: {:?} vs {:?}",
            probes[a].0,
            probes[b].0,
            medians[a],
            medians[b]
        );
    }
}

#[test]
fn weir_check_rejects_bad_key_auth_configs() {
    let check = |rest: &str, expected: &str| {
        let rest = format!("{rest}{NO_SECRETS_GRANT}");
        assert_check_rejects("", "keys", filters::KEY_AUTH, &rest, expected);
    };
    check("    config: { consumers: [] }\n", "at least one consumer");
    check(
        "    config: { consumers: [{ name: a, keys: [\"sha256:abc\"] }] }\n",
        "64 hex digits",
    );
    check(
        "    config: { consumers: [{ name: a, keys: [k1] }, { name: b, keys: [k1] }] }\n",
        "the same key is given twice",
    );
    check(
        "    config: { consumers: [{ name: a, secrets: [nope] }] }\n",
        "not granted",
    );
    check(
        "    config: { header: x-key, consumers: [{ name: a, keys: [k] }], colour: red }\n",
        "unknown field",
    );
}
