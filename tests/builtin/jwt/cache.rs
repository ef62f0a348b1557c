//! The verified-token cache: a cached token is still refused at its `exp`,
//! and a JWKS fetch empties the cache so a retired key stops working at
//! once. Both would fail with a cache that only looked at the token.

use std::time::{Duration, Instant};

use jsonwebtoken::Algorithm;
use serde_json::json;

use crate::jwks_server::JwksServer;
use crate::keys;
use crate::valid::{HS, NO_ORIGIN};
use crate::{Site, claims, filter_config, now, provider};

#[tokio::test(flavor = "multi_thread")]
async fn a_cached_token_is_refused_once_it_expires() {
    let key = keys::hmac(Algorithm::HS256);
    let mut config = filter_config(vec![provider(
        HS,
        &["HS256"],
        json!({ "secret": "hmac_key" }),
    )]);
    config["leeway"] = json!("0s");
    let site = Site::start(config, &[], NO_ORIGIN).await;

    let mut claims = claims(HS);
    let exp = now() + 2;
    claims["exp"] = json!(exp);
    let token = key.sign(&claims);
    // Verified, then cached by every instance that serves it.
    for _ in 0..5 {
        assert_eq!(site.with_token(&token).await.status, 200);
    }
    // Wall-clock time has to pass here; the loop waits for it, bounded.
    let deadline = Instant::now() + Duration::from_secs(10);
    while now() <= exp {
        assert!(Instant::now() < deadline, "the clock did not reach exp");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Every instance that cached the token must now refuse it.
    for _ in 0..5 {
        site.with_token(&token).await.assert_invalid_token();
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_jwks_fetch_empties_the_cache() {
    let (old, new) = (
        keys::rsa(Algorithm::RS256, "k-old"),
        keys::rsa(Algorithm::RS256, "k-new"),
    );
    let server = JwksServer::start(keys::jwks(&[&old])).await;
    let idp = "https://idp.test";
    let source = json!({
        "url": server.url(),
        "timeout": "1s",
        "refresh_interval": "1h",
        "min_refetch_interval": "0s",
    });
    let config = filter_config(vec![provider(
        idp,
        &["RS256"],
        json!({ "jwks_url": source }),
    )]);
    let site = Site::start(config, &[], &server.origin()).await;

    // One token string, verified once and then served from the cache.
    let old_token = old.sign(&claims(idp));
    for _ in 0..3 {
        assert_eq!(site.with_token(&old_token).await.status, 200);
    }
    assert_eq!(server.fetches(), 1);

    // The provider retires the old key; a token with the new kid makes the
    // filter fetch the new set, which must also end the old token's entry.
    server.set_keys(keys::jwks(&[&new]));
    assert_eq!(site.with_token(&new.sign(&claims(idp))).await.status, 200);
    assert_eq!(server.fetches(), 2);
    site.with_token(&old_token).await.assert_invalid_token();
}
