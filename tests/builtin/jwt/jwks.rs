//! Keys from a JWKS URL: fetched through the outbound-HTTP capability,
//! cached, refetched for an unknown `kid` (at most once per interval), kept
//! when a refresh fails; 503 while no key was ever fetched.

use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::jwks_server::JwksServer;
use crate::keys::{self, TestKey};
use crate::{Site, claims, filter_config, provider};

const IDP: &str = "https://idp.test";

fn jwks_url_config(server: &JwksServer, timing: Value) -> Value {
    let mut source = json!({ "url": server.url(), "timeout": "1s" });
    source
        .as_object_mut()
        .unwrap()
        .extend(timing.as_object().unwrap().clone());
    filter_config(vec![provider(
        IDP,
        &["RS256", "ES256"],
        json!({ "jwks_url": source }),
    )])
}

fn rsa_key(kid: &str) -> TestKey {
    keys::rsa(Algorithm::RS256, kid)
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_key_is_fetched_when_a_token_names_its_kid() {
    let (old, new) = (rsa_key("2024-01"), keys::curve(Algorithm::ES256, "2024-02"));
    let server = JwksServer::start(keys::jwks(&[&old])).await;
    let config = jwks_url_config(
        &server,
        json!({ "refresh_interval": "1h", "min_refetch_interval": "0s" }),
    );
    let site = Site::start(config, &[], &server.origin()).await;

    let reply = site.with_token(&old.sign(&claims(IDP))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(server.fetches(), 1, "the first request fetched the set");
    assert_eq!(site.with_token(&old.sign(&claims(IDP))).await.status, 200);
    // A token without `kid` is tried against the keys of its algorithm.
    assert_eq!(
        site.with_token(&old.sign_without_kid(&claims(IDP)))
            .await
            .status,
        200
    );
    assert_eq!(server.fetches(), 1, "then it is cached");

    // The provider rotates: the new key's kid is unknown to the cache.
    server.set_keys(keys::jwks(&[&new]));
    let reply = site.with_token(&new.sign(&claims(IDP))).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(server.fetches(), 2, "one refetch for the unknown kid");
    assert_eq!(reply.upstream_header("x-user-id"), Some("user-42"));
    // The retired key is gone from the new set.
    site.with_token(&old.sign(&claims(IDP)))
        .await
        .assert_invalid_token();
}

#[tokio::test(flavor = "multi_thread")]
async fn unknown_kids_refetch_at_most_once_per_interval() {
    let key = rsa_key("2024-01");
    let server = JwksServer::start(keys::jwks(&[&key])).await;
    let config = jwks_url_config(
        &server,
        json!({ "refresh_interval": "1h", "min_refetch_interval": "1h" }),
    );
    let site = Site::start(config, &[], &server.origin()).await;
    assert_eq!(site.with_token(&key.sign(&claims(IDP))).await.status, 200);
    assert_eq!(server.fetches(), 1);
    for i in 0..5 {
        let made_up = rsa_key(&format!("made-up-{}", i % 2));
        site.with_token(&made_up.sign(&claims(IDP)))
            .await
            .assert_invalid_token();
    }
    assert_eq!(
        server.fetches(),
        1,
        "made-up kids do not reach the JWKS endpoint"
    );
    assert_eq!(site.with_token(&key.sign(&claims(IDP))).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_endpoint_down_from_the_start_gives_503_until_it_answers() {
    let key = rsa_key("2024-01");
    let server = JwksServer::start(keys::jwks(&[&key])).await;
    server.set_up(false);
    let config = jwks_url_config(
        &server,
        json!({ "refresh_interval": "1h", "min_refetch_interval": "0s" }),
    );
    let site = Site::start(config, &[], &server.origin()).await;
    let token = key.sign(&claims(IDP));
    for _ in 0..3 {
        let reply = site.with_token(&token).await;
        assert_eq!(
            reply.status, 503,
            "no key was ever fetched: weir's fault, not the token's"
        );
        assert_eq!(reply.challenge, None);
    }
    assert!(
        server.fetches() >= 3,
        "each request retried (min_refetch_interval 0s)"
    );
    // Missing tokens are still the client's fault.
    assert_eq!(site.get("/orders", &[]).await.status, 401);

    server.set_up(true);
    let reply = site.with_token(&token).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert!(site.gateway.logs().contains("fetch failed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn cached_keys_keep_working_when_a_refresh_fails() {
    let key = rsa_key("2024-01");
    let server = JwksServer::start(keys::jwks(&[&key])).await;
    // Every request is due for a refresh: the cache is always "stale".
    let config = jwks_url_config(
        &server,
        json!({ "refresh_interval": "0s", "min_refetch_interval": "0s" }),
    );
    let site = Site::start(config, &[], &server.origin()).await;
    let token = key.sign(&claims(IDP));
    assert_eq!(site.with_token(&token).await.status, 200);

    server.set_up(false);
    let before = server.fetches();
    for i in 0..3 {
        // A new token each time: a verified one would come from the
        // verified-token cache without touching the keys.
        let mut claims = claims(IDP);
        claims["jti"] = json!(i);
        let reply = site.with_token(&key.sign(&claims)).await;
        assert_eq!(reply.status, 200, "the cached keys still verify");
    }
    assert!(
        server.fetches() >= before + 3,
        "each request tried a refresh"
    );
    assert!(site.gateway.logs().contains("keeping the cached keys"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hanging_endpoint_costs_at_most_the_fetch_timeout() {
    // A listener that accepts and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let _accepting = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = silent.accept().await {
            held.push(socket);
        }
    });
    let key = rsa_key("2024-01");
    let config = filter_config(vec![provider(
        IDP,
        &["RS256"],
        json!({ "jwks_url": { "url": format!("http://{addr}/jwks.json"), "timeout": "300ms" } }),
    )]);
    let site = Site::start(config, &[], &format!("http://{addr}")).await;
    let started = Instant::now();
    let reply = site.with_token(&key.sign(&claims(IDP))).await;
    assert_eq!(reply.status, 503);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
}
