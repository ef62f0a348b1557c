//! `basic-auth`: bcrypt and argon2 users, from the config and from a
//! secret; wrong passwords, unknown users and malformed headers; the
//! consumer in the context; the cache of successful verifications.

use std::time::{Duration, Instant};

use base64::Engine;
use weir_tests::{Gateway, Upstream, client, filters, free_port};

use crate::{
    NO_SECRETS_GRANT, assert_check_rejects, context_probe, filter, gateway_config, upstream_saw,
};

/// bcrypt, cost 10, of `correct horse`.
const ALICE_BCRYPT: &str = "$2b$10$tj3Sa.QXxckLgFBkQnSEduPQ5hVxYteP3nw/HF/vkGhrFte65W9Sa";
/// argon2id (m=19 MiB, t=2, p=1: the OWASP minimum) of `staple battery`.
const BOB_ARGON2: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$7Ob6e2+7BL/fKF9YfalX3QPqQTXdH6pQiy8xIuLrkOQ";
/// bcrypt, cost 8, of `battery staple`, kept in a secret.
const CAROL_BCRYPT: &str = "$2b$08$ygOe62hoAb0zjnvM1QZJpuR16RI3cwWj2YuWLFb5e9z9UxtvbhobW";

fn basic(user: &str, password: &str) -> String {
    let encoded = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
    format!("Basic {encoded}")
}

/// `/cached` (default cache) and `/fresh` (no cache) in front of the
/// upstream, each followed by a probe of the context's `consumer`.
async fn gateway() -> (Upstream, Gateway) {
    let up = Upstream::start("svc").await;
    let users = format!(
        "      users:\n        - {{ name: alice, password_hash: \"{ALICE_BCRYPT}\" }}\n        - {{ name: bob, password_hash: \"{BOB_ARGON2}\" }}\n        - {{ name: carol, password_hash_secret: carol_hash }}\n"
    );
    // A verification takes tens of ms (more on a busy machine): the
    // deadline leaves ample room.
    let rest = |extra: &str| {
        format!(
            "    config:\n{users}{extra}    grants: {{ secrets: [carol_hash] }}\n    limits: {{ call_deadline: 2s }}\n"
        )
    };
    let port = free_port();
    let text = gateway_config(
        &up,
        "secrets:\n  carol_hash:\n    env: WEIR_TEST_CAROL_HASH\n",
        &[
            filter("cached", filters::BASIC_AUTH, &rest("")),
            filter(
                "fresh",
                filters::BASIC_AUTH,
                &rest("      cache_ttl_secs: 0\n"),
            ),
            context_probe("probe", "consumer", "x-ctx-consumer"),
        ],
        &[("/cached", "cached, probe"), ("/fresh", "fresh, probe")],
    )
    .replace("{port}", &port.to_string());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("weir.yaml"), text).unwrap();
    let gw = Gateway::spawn_with_env(dir, port, &[("WEIR_TEST_CAROL_HASH", CAROL_BCRYPT)]);
    (up, gw)
}

async fn get(gw: &Gateway, path: &str, authorization: &[&str]) -> reqwest::Response {
    let mut req = client().get(gw.url(path)).header("x-consumer", "admin");
    for value in authorization {
        req = req.header("authorization", *value);
    }
    req.send().await.expect("weir answers")
}

#[tokio::test(flavor = "multi_thread")]
async fn bcrypt_argon2_and_secret_users_get_through_as_themselves() {
    let (_up, gw) = gateway().await;
    for (user, password) in [
        ("alice", "correct horse"),
        ("bob", "staple battery"),
        ("carol", "battery staple"),
    ] {
        let seen = upstream_saw(get(&gw, "/fresh", &[&basic(user, password)]).await).await;
        let headers = &seen["headers"];
        assert_eq!(headers["x-consumer"], serde_json::json!([user]), "{user}");
        assert_eq!(
            headers["x-ctx-consumer"],
            serde_json::json!([user]),
            "{user}: context"
        );
        assert!(
            headers.get("authorization").is_none(),
            "the password went upstream: {headers}"
        );
    }
    // The scheme is case-insensitive; a password may contain colons.
    let resp = get(
        &gw,
        "/fresh",
        &[&basic("alice", "correct horse").replace("Basic", "bAsIc")],
    )
    .await;
    assert_eq!(resp.status(), 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_passwords_unknown_users_and_malformed_headers_get_the_same_401() {
    let (up, gw) = gateway().await;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let cases: Vec<(&str, Vec<String>)> = vec![
        ("no header", vec![]),
        (
            "wrong bcrypt password",
            vec![basic("alice", "correct horsE")],
        ),
        (
            "wrong argon2 password",
            vec![basic("bob", "battery staple")],
        ),
        (
            "another user's password",
            vec![basic("alice", "staple battery")],
        ),
        ("unknown user", vec![basic("mallory", "correct horse")]),
        ("user name case", vec![basic("Alice", "correct horse")]),
        ("empty password", vec![basic("alice", "")]),
        (
            "no colon",
            vec![format!("Basic {}", b64("alicecorrect horse"))],
        ),
        ("not base64", vec!["Basic !!!not-base64!!!".into()]),
        ("bearer scheme", vec!["Bearer abc.def.ghi".into()]),
        ("scheme only", vec!["Basic".into()]),
        (
            "two headers",
            vec![basic("alice", "correct horse"), basic("bob", "x")],
        ),
    ];
    let mut bodies = Vec::new();
    for (what, values) in &cases {
        let values: Vec<&str> = values.iter().map(String::as_str).collect();
        let resp = get(&gw, "/cached", &values).await;
        assert_eq!(resp.status(), 401, "{what}");
        assert_eq!(
            resp.headers()["www-authenticate"],
            "Basic realm=\"weir\", charset=\"UTF-8\"",
            "{what}"
        );
        bodies.push(resp.text().await.unwrap());
    }
    assert!(bodies.iter().all(|b| *b == bodies[0]), "{bodies:?}");
    assert_eq!(up.hits(), 0);
}

/// Median wall time of `n` sequential requests, each asserted `status`.
async fn median_time(
    gw: &Gateway,
    path: &str,
    authorization: &str,
    status: u16,
    n: usize,
) -> Duration {
    let client = client();
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let started = Instant::now();
        let resp = client
            .get(gw.url(path))
            .header("authorization", authorization)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{path}");
        let _ = resp.bytes().await;
        times.push(started.elapsed());
    }
    times.sort();
    times[n / 2]
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cached_verification_skips_the_hash_and_wrong_passwords_never_hit_the_cache() {
    let (_up, gw) = gateway().await;
    let alice = basic("alice", "correct horse");
    let bob = basic("bob", "staple battery");
    let fresh_bcrypt = median_time(&gw, "/fresh", &alice, 200, 7).await;
    let fresh_argon2 = median_time(&gw, "/fresh", &bob, 200, 7).await;
    let cached = median_time(&gw, "/cached", &alice, 200, 15).await;
    let wrong_after_cached =
        median_time(&gw, "/cached", &basic("alice", "correct horsE"), 401, 5).await;
    eprintln!(
        "per request: bcrypt cost 10 uncached {fresh_bcrypt:?}, argon2id m=19MiB t=2 uncached {fresh_argon2:?}, cached {cached:?}, wrong password {wrong_after_cached:?}"
    );
    // A verification costs tens of ms; a hit costs a SHA-256 and a lookup.
    // The ratio is orders of magnitude; 4x leaves room for a busy machine.
    assert!(
        cached * 4 < fresh_bcrypt,
        "cached {cached:?} vs fresh {fresh_bcrypt:?}"
    );
    assert!(
        wrong_after_cached * 4 > fresh_bcrypt,
        "a wrong password was answered from the cache"
    );
}

#[test]
fn weir_check_rejects_bad_basic_auth_configs() {
    let check = |config: &str, expected: &str| {
        let rest = format!("    config: {config}\n{NO_SECRETS_GRANT}");
        assert_check_rejects("", "login", filters::BASIC_AUTH, &rest, expected);
    };
    check(
        "{ users: [{ name: a, password_hash: hunter2 }] }",
        "plain passwords are not accepted",
    );
    check(
        "{ users: [{ name: a, password_hash: \"$2b$10$tooshort\" }] }",
        "not a valid bcrypt hash",
    );
    check(
        "{ users: [{ name: a, password_hash: \"$argon2id$v=19$m=abc$salt$hash\" }] }",
        "argon2",
    );
    check(
        &format!(
            "{{ users: [{{ name: a, password_hash: \"{}\" }}] }}",
            ALICE_BCRYPT.replace("$10$", "$20$")
        ),
        "bcrypt cost 20 is over 14",
    );
    check(
        "{ users: [{ name: \"a:b\", password_hash: \"$2b$10$x\" }] }",
        "without `:`",
    );
    check("{ users: [{ name: a }] }", "exactly one of");
    check("{ users: [] }", "at least one user");
    check(
        &format!("{{ users: [{{ name: a, password_hash: \"{ALICE_BCRYPT}\" }}], ttl: 5 }}"),
        "unknown field",
    );
}
