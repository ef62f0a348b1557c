//! `weir check` rejects invalid jwt-auth configs at `filters.jwt.config`,
//! with a message that says what to fix.

use serde_json::{Value, json};
use weir_tests::{free_port, weir_check};

use crate::valid::NO_ORIGIN;
use crate::{filter_config, gateway_config, provider};

const ISS: &str = "https://hs.test";

fn check(config: Value) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    crate::write_support_files(dir.path(), &[("rs.pem", "not a key")]);
    let yaml = gateway_config(&config, "127.0.0.1:9".parse().unwrap(), NO_ORIGIN)
        .replace("{port}", &free_port().to_string());
    let path = dir.path().join("weir.yaml");
    std::fs::write(&path, yaml).unwrap();
    weir_check(&path, false)
}

#[test]
fn invalid_configs_are_rejected_with_their_reason() {
    let secret = json!({ "secret": "hmac_key" });
    let cases = [
        (
            provider(ISS, &["none"], secret.clone()),
            "algorithm \"none\" is never accepted",
        ),
        (
            provider(ISS, &["RS256"], secret.clone()),
            "algorithm RS256 has no RSA key",
        ),
        (
            provider(ISS, &["HS256"], json!({ "pem_file": "/keys/rs.pem" })),
            "not a PEM",
        ),
        (
            provider(ISS, &["HS256"], json!({ "secret": "missing" })),
            "keys.secret",
        ),
        (
            provider(
                ISS,
                &["HS256"],
                json!({ "jwk": { "kty": "oct", "k": "c2VjcmV0" } }),
            ),
            "symmetric",
        ),
        (
            provider(
                ISS,
                &["HS256"],
                json!({ "jwks_url": { "url": "http://x/j" } }),
            ),
            "needs a `secret` key source",
        ),
        (
            provider(ISS, &["XS256"], secret.clone()),
            "unknown algorithm \"XS256\"",
        ),
        (
            json!({ "issuer": ISS, "audiences": [], "algorithms": ["HS256"], "keys": secret }),
            "audiences",
        ),
    ];
    for (provider, expected) in cases {
        let (ok, out) = check(filter_config(vec![provider]));
        assert!(!ok, "{expected}: accepted");
        assert!(out.contains("filters.jwt.config"), "{out}");
        assert!(out.contains(expected), "expected {expected:?} in:\n{out}");
    }

    let mut unknown_field = filter_config(vec![provider(
        ISS,
        &["HS256"],
        json!({ "secret": "hmac_key" }),
    )]);
    unknown_field["leway"] = json!("30s");
    let (ok, out) = check(unknown_field);
    assert!(!ok && out.contains("leway"), "{out}");

    let mut bad_duration = filter_config(vec![provider(
        ISS,
        &["HS256"],
        json!({ "secret": "hmac_key" }),
    )]);
    bad_duration["leeway"] = json!("soon");
    let (ok, out) = check(bad_duration);
    assert!(!ok && out.contains("invalid duration"), "{out}");

    let good = filter_config(vec![provider(
        ISS,
        &["HS256"],
        json!({ "secret": "hmac_key" }),
    )]);
    let (ok, out) = check(good);
    assert!(ok, "a valid config passes: {out}");
}
