//! Tokens that must be refused, each with a 401 `invalid_token` challenge
//! that tells the client nothing more, while weir's log has the reason.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::keys;
use crate::valid::{ES, HS, RS, StandardKeys, standard_site};
use crate::{claims, now};

fn b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

#[tokio::test(flavor = "multi_thread")]
async fn time_audience_and_issuer_claims_are_enforced() {
    let keys = StandardKeys::new();
    let site = standard_site(&keys).await;

    let mut expired = claims(RS);
    expired["exp"] = json!(now() - 120); // beyond the 30s leeway
    let mut not_yet_valid = claims(RS);
    not_yet_valid["nbf"] = json!(now() + 300);
    let mut wrong_audience = claims(RS);
    wrong_audience["aud"] = json!("billing-api");
    let mut unknown_issuer = claims(RS);
    unknown_issuer["iss"] = json!("https://evil.test");
    let mut no_expiry = claims(RS);
    no_expiry.as_object_mut().unwrap().remove("exp");
    let mut no_audience = claims(RS);
    no_audience.as_object_mut().unwrap().remove("aud");

    for (case, claims) in [
        ("expired", expired),
        ("not yet valid", not_yet_valid),
        ("wrong aud", wrong_audience),
        ("unknown iss", unknown_issuer),
        ("no exp", no_expiry),
        ("no aud", no_audience),
    ] {
        let reply = site.with_token(&keys.rs.sign(&claims)).await;
        assert_eq!(reply.status, 401, "{case}");
        reply.assert_invalid_token();
    }
    // The reason is in weir's log, not in the answer.
    let logs = site.gateway.logs();
    assert!(logs.contains("token refused: ExpiredSignature"), "{logs}");
    assert!(logs.contains("token refused: ImmatureSignature"), "{logs}");
    assert!(logs.contains("token refused: InvalidAudience"), "{logs}");
}

#[tokio::test(flavor = "multi_thread")]
async fn forged_signatures_are_refused() {
    let keys = StandardKeys::new();
    let site = standard_site(&keys).await;

    // Signed by another RSA key than the provider's.
    let stranger = keys::rsa(Algorithm::RS256, "stranger");
    site.with_token(&stranger.sign(&claims(RS)))
        .await
        .assert_invalid_token();

    // A valid token whose payload is swapped for another subject's.
    let token = keys.rs.sign(&claims(RS));
    let mut parts: Vec<&str> = token.split('.').collect();
    let mut admin = claims(RS);
    admin["sub"] = json!("admin");
    let swapped_payload = b64(admin.to_string().as_bytes());
    parts[1] = &swapped_payload;
    site.with_token(&parts.join("."))
        .await
        .assert_invalid_token();

    // The same for an Ed25519 and an HMAC token.
    for token in [
        keys.ed.sign(&claims(crate::valid::ED)),
        keys.hs.sign(&claims(HS)),
    ] {
        let mut parts: Vec<String> = token.split('.').map(str::to_owned).collect();
        let mut forged = claims(HS);
        forged["sub"] = json!("admin");
        parts[1] = b64(forged.to_string().as_bytes());
        site.with_token(&parts.join("."))
            .await
            .assert_invalid_token();
    }
    // The untouched token still passes: the site works.
    assert_eq!(site.with_token(&token).await.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn alg_none_and_key_confusion_are_refused() {
    let keys = StandardKeys::new();
    let site = standard_site(&keys).await;

    // `alg: none` with no signature, for every provider's issuer.
    for issuer in [HS, RS, ES] {
        for alg in ["none", "None", "NONE"] {
            let header = b64(json!({ "alg": alg, "typ": "JWT" }).to_string().as_bytes());
            let payload = b64(claims(issuer).to_string().as_bytes());
            for token in [
                format!("{header}.{payload}."),
                format!("{header}.{payload}"),
            ] {
                site.with_token(&token).await.assert_invalid_token();
            }
        }
    }

    // HS256 signed with the RSA provider's public key as the HMAC secret,
    // the classic confusion: the RSA key is never an HMAC key.
    let confused = EncodingKey::from_secret(keys.rs.public_pem.as_bytes());
    let token =
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims(RS), &confused).unwrap();
    site.with_token(&token).await.assert_invalid_token();
    // The same with the DER bytes and with the JWK's modulus.
    let der = rsa_public_der(&keys.rs.public_pem);
    let token = jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims(RS),
        &EncodingKey::from_secret(&der),
    )
    .unwrap();
    site.with_token(&token).await.assert_invalid_token();

    // An RS256 token presented to the HMAC provider.
    site.with_token(&keys.rs.sign(&claims(HS)))
        .await
        .assert_invalid_token();
    // An ES256 token claiming to be from the RSA provider.
    site.with_token(&keys.es.sign(&claims(RS)))
        .await
        .assert_invalid_token();
}

fn rsa_public_der(pem: &str) -> Vec<u8> {
    use rsa::pkcs8::{DecodePublicKey, EncodePublicKey};
    rsa::RsaPublicKey::from_public_key_pem(pem)
        .unwrap()
        .to_public_key_der()
        .unwrap()
        .as_bytes()
        .to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_tokens_are_refused_and_a_missing_one_gets_a_bare_challenge() {
    let keys = StandardKeys::new();
    let site = standard_site(&keys).await;
    let valid = keys.hs.sign(&claims(HS));
    let (head, rest) = valid.split_once('.').unwrap();
    let huge = format!("{valid}{}", "A".repeat(12 * 1024));
    let malformed = [
        "garbage".to_owned(),
        "a.b".to_owned(),
        rest.to_owned(),                            // two segments
        format!("{head}.%%%%.{}", "x"),             // payload not base64url
        format!("{head}.{}.sig", b64(b"not json")), // payload not JSON
        format!("{}.{rest}", b64(b"{\"alg\":")),    // header not JSON
        format!("{valid}.extra"),                   // four segments
        format!("{valid}!"),                        // signature not base64url
        huge,                                       // over max_token_bytes
    ];
    for token in &malformed {
        let reply = site.with_token(token).await;
        assert_eq!(reply.status, 401, "{:.60}", token);
        reply.assert_invalid_token();
    }

    // No token, or not a Bearer one: the challenge carries no error code.
    for headers in [
        vec![],
        vec![("authorization", "Basic dXNlcjpwYXNz")],
        vec![("authorization", "Bearer ")],
    ] {
        let reply = site.get("/orders", &headers).await;
        assert_eq!(reply.status, 401);
        assert_eq!(reply.challenge.as_deref(), Some("Bearer realm=\"orders\""));
    }
    assert_eq!(site.with_token(&valid).await.status, 200);
}
