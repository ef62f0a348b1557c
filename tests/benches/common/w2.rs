//! W2's weir side, shared by `builtin_chain` and the `proxies` harness: the
//! token, and the jwt-auth (HS256) + rate-limit (memory store, a limit no run
//! reaches) filters that put its subject in the context.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{EncodingKey, Header, encode};
use weir_tests::filters;

pub const SECRET: &str = "bench-hmac-secret-of-32-bytes-at-least!";
pub const ISSUER: &str = "bench";
pub const AUDIENCE: &str = "api";
/// The environment variable weir reads the HMAC secret from.
pub const SECRET_ENV: &str = "WEIR_BENCH_HMAC";

/// A token for user-1, valid for an hour.
pub fn token() -> String {
    let exp = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        + 3600;
    let claims = serde_json::json!({ "iss": ISSUER, "aud": AUDIENCE, "sub": "user-1", "exp": exp });
    encode(
        &Header::default(),
        &claims,
        &EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap()
}

/// The `secrets` section and the `limits` store the filters need.
pub fn sections() -> String {
    format!(
        "secrets:\n  jwt-hmac: {{ env: {SECRET_ENV} }}\nkey_value:\n  limits:\n    memory: {{ max_entries: 100000 }}\n"
    )
}

/// The filters `auth` and `limit`, as entries under `filters:`.
pub fn auth_and_limit() -> String {
    format!(
        r#"  auth:
    module: {auth}
    grants: {{ secrets: [jwt-hmac], http: {{ allow: [] }} }}
    config:
      providers:
        - {{ issuer: {ISSUER}, audiences: [{AUDIENCE}], algorithms: [HS256], keys: {{ secret: jwt-hmac }} }}
      forward: [{{ claim: sub, context: sub }}]
  limit:
    module: {limit}
    grants: {{ key_value: [limits] }}
    config:
      store: limits
      limits: [{{ name: per-user, limit: 1000000000, window: 1h, key: {{ context: sub }} }}]
"#,
        auth = filters::JWT_AUTH,
        limit = filters::RATE_LIMIT,
    )
}
