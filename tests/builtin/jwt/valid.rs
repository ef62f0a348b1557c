//! Valid tokens from every kind of key source pass, with their claims
//! forwarded as headers and into the context; forged copies of those
//! headers never reach the upstream.

use jsonwebtoken::Algorithm;
use serde_json::{Value, json};

use crate::keys::{self, TestKey};
use crate::{Site, claims, filter_config, now, provider};

pub const HS: &str = "https://hs.test";
pub const RS: &str = "https://rs.test";
pub const ES: &str = "https://es.test";
pub const ED: &str = "https://ed.test";
/// No JWKS endpoint in these tests: a port nothing listens on.
pub const NO_ORIGIN: &str = "http://127.0.0.1:9";

/// The keys of the standard site, one provider per key source.
pub struct StandardKeys {
    pub hs: TestKey,
    pub rs: TestKey,
    pub es: TestKey,
    pub ed: TestKey,
}

impl StandardKeys {
    pub fn new() -> StandardKeys {
        StandardKeys {
            hs: keys::hmac(Algorithm::HS256),
            rs: keys::rsa(Algorithm::RS256, "rs-1"),
            es: keys::curve(Algorithm::ES256, "es-1"),
            ed: keys::curve(Algorithm::EdDSA, "ed-1"),
        }
    }
}

/// HS256 from a secret, RS256 from a PEM file, ES256 from an inline JWK,
/// EdDSA from an inline JWK Set.
pub async fn standard_site(keys: &StandardKeys) -> Site {
    let config = filter_config(vec![
        provider(HS, &["HS256"], json!({ "secret": "hmac_key" })),
        provider(RS, &["RS256"], json!({ "pem_file": "/keys/rs.pem" })),
        provider(ES, &["ES256"], json!({ "jwk": keys.es.jwk() })),
        provider(ED, &["EdDSA"], json!({ "jwks": keys::jwks(&[&keys.ed]) })),
    ]);
    Site::start(config, &[("rs.pem", &keys.rs.public_pem)], NO_ORIGIN).await
}

#[tokio::test(flavor = "multi_thread")]
async fn valid_tokens_from_every_key_source_pass_with_claims_forwarded() {
    let keys = StandardKeys::new();
    let site = standard_site(&keys).await;
    for (issuer, key) in [
        (HS, &keys.hs),
        (RS, &keys.rs),
        (ES, &keys.es),
        (ED, &keys.ed),
    ] {
        let mut claims = claims(issuer);
        claims["roles"] = json!(["reader", "writer"]);
        let reply = site.with_token(&key.sign(&claims)).await;
        assert_eq!(reply.status, 200, "{:?}: {}", key.algorithm, reply.body);
        assert_eq!(reply.upstream_header("x-user-id"), Some("user-42"));
        assert_eq!(reply.upstream_header("x-user-roles"), Some("reader,writer"));
        assert_eq!(
            reply.upstream_header("x-context-sub"),
            Some("user-42"),
            "a later filter reads `sub` from the context"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_identity_headers_never_reach_the_upstream() {
    let keys = StandardKeys::new();
    let site = standard_site(&keys).await;
    let token = keys.hs.sign(&claims(HS));
    let reply = site
        .get(
            "/orders",
            &[
                ("authorization", &format!("Bearer {token}")),
                ("x-user-id", "admin"),
                ("x-user-roles", "superuser"),
            ],
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.seen["headers"]["x-user-id"], json!(["user-42"]));
    // The token has no `roles`: the forged header is dropped, not kept.
    assert_eq!(reply.seen["headers"]["x-user-roles"], Value::Null);
}

#[tokio::test(flavor = "multi_thread")]
async fn leeway_accepts_a_token_that_expired_seconds_ago() {
    let keys = StandardKeys::new();
    let site = standard_site(&keys).await;
    let mut claims = claims(HS);
    claims["exp"] = json!(now() - 5); // the default leeway is 30s
    assert_eq!(site.with_token(&keys.hs.sign(&claims)).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_supported_algorithm_verifies_and_only_its_own_issuer_is_accepted() {
    let cases: Vec<(&str, TestKey)> = vec![
        ("HS384", keys::hmac(Algorithm::HS384)),
        ("HS512", keys::hmac(Algorithm::HS512)),
        ("RS384", keys::rsa(Algorithm::RS384, "rs-1")),
        ("RS512", keys::rsa(Algorithm::RS512, "rs-1")),
        ("PS256", keys::rsa(Algorithm::PS256, "rs-1")),
        ("PS384", keys::rsa(Algorithm::PS384, "rs-1")),
        ("PS512", keys::rsa(Algorithm::PS512, "rs-1")),
        ("ES384", keys::curve(Algorithm::ES384, "es-384")),
    ];
    let issuer = |alg: &str| format!("https://{}.test", alg.to_lowercase());
    let providers = cases
        .iter()
        .map(|(alg, key)| {
            let source = match key.algorithm {
                Algorithm::HS384 | Algorithm::HS512 => json!({ "secret": "hmac_key" }),
                _ => json!({ "jwks": keys::jwks(&[key]) }),
            };
            let mut provider = provider(&issuer(alg), &[alg], source);
            // A JWK's own `alg` would pin it; these keys are shared by
            // several RSA algorithms, so drop it.
            if let Some(jwk) = provider.pointer_mut("/keys/jwks/keys/0") {
                jwk.as_object_mut().unwrap().remove("alg");
            }
            provider
        })
        .collect();
    let site = Site::start(filter_config(providers), &[], NO_ORIGIN).await;
    for (alg, key) in &cases {
        let reply = site.with_token(&key.sign(&claims(&issuer(alg)))).await;
        assert_eq!(reply.status, 200, "{alg}: {}", reply.body);
        assert_eq!(reply.upstream_header("x-user-id"), Some("user-42"), "{alg}");
        // The same token claiming another provider's issuer is refused:
        // that provider does not allow this algorithm.
        let other = if *alg == "PS512" { "PS384" } else { "PS512" };
        site.with_token(&key.sign(&claims(&issuer(other))))
            .await
            .assert_invalid_token();
    }
}
