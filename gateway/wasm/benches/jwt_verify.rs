//! Verifying a JWT inside Wasm against native `jsonwebtoken`, side by side:
//! the issue's bar is that the `jwt-auth` filter (built from
//! `filters/builtin/jwt-auth`) verifies within 1.5x of native code. For
//! HS256 and RS256, criterion measures:
//!
//! - `native/<alg>`: `jsonwebtoken::decode` with the same key, token and
//!   checks, in this process;
//! - `wasm_filter/<alg>`: one warm `on-request-headers` call of jwt-auth
//!   with that token (find the token, pick the provider, verify, forward
//!   `sub` as a header);
//! - `wasm_filter/noop`: one warm call of the no-op filter, the fixed cost
//!   of any call, to subtract from the above.
//!
//! Run after `scripts/build-filters.sh`:
//! `cargo test -p weir-wasm --bench jwt_verify -- --bench`. Figures are in
//! `docs/filters/jwt-auth.md`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

mod common;

use common::iter_async;
use criterion::{Criterion, criterion_group, criterion_main};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::LineEnding;
use rsa::traits::PublicKeyParts;
use serde_json::{Value, json};
use weir_wasm::{
    Capabilities, Exchange, HostOptions, Isolation, LoadedFilter, PhaseCall, RequestView, Verdict,
    WasmHost,
};

const ISSUER: &str = "https://issuer.bench";
const AUDIENCE: &str = "bench-api";
const HMAC_SECRET: &[u8] = b"a-benchmark-hmac-secret-of-at-least-32-bytes";

fn load(host: &WasmHost, file: &str, config: &Value) -> Arc<LoadedFilter> {
    // jwt-auth imports the secrets and outbound-HTTP capabilities; listing
    // them lets it load (the benchmark makes no outbound request).
    let capabilities = Capabilities {
        secrets: Some([("hmac".to_owned(), Arc::<[u8]>::from(HMAC_SECRET))].into()),
        http: Some(weir_config::HttpGrant {
            allow: Vec::new(),
            connect_timeout: Duration::from_secs(1),
            timeout: Duration::from_secs(1),
            max_response_bytes: 1 << 20,
        }),
        ..Capabilities::default()
    };
    common::load(
        host,
        file,
        &config.to_string(),
        Isolation::Pooled,
        capabilities,
    )
}

fn request(token: &str) -> RequestView {
    let mut headers = http::HeaderMap::new();
    headers.insert("host", "api.example.com".parse().unwrap());
    headers.insert("authorization", format!("Bearer {token}").parse().unwrap());
    RequestView {
        method: http::Method::GET,
        path: "/orders".into(),
        headers,
        client_ip: Some(std::net::Ipv4Addr::LOCALHOST.into()),
        request_id: "bench".into(),
        ..RequestView::default()
    }
}

/// One algorithm's key material: a token, the native decoding key and the
/// filter's provider config for the same public key.
struct Case {
    name: &'static str,
    algorithm: Algorithm,
    token: String,
    native_key: DecodingKey,
    provider_keys: Value,
}

fn cases() -> Vec<Case> {
    let claims = json!({
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-42",
        "exp": SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() + 86_400,
    });
    let sign =
        |alg, key: &EncodingKey| jsonwebtoken::encode(&Header::new(alg), &claims, key).unwrap();

    let rsa = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key");
    let rsa_pem = rsa.to_pkcs1_pem(LineEnding::LF).unwrap();
    let public = rsa.to_public_key();
    let b64 = |bytes: Vec<u8>| {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
    };
    let (n, e) = (b64(public.n().to_bytes_be()), b64(public.e().to_bytes_be()));
    vec![
        Case {
            name: "HS256",
            algorithm: Algorithm::HS256,
            token: sign(Algorithm::HS256, &EncodingKey::from_secret(HMAC_SECRET)),
            native_key: DecodingKey::from_secret(HMAC_SECRET),
            provider_keys: json!({ "secret": "hmac" }),
        },
        Case {
            name: "RS256",
            algorithm: Algorithm::RS256,
            token: sign(
                Algorithm::RS256,
                &EncodingKey::from_rsa_pem(rsa_pem.as_bytes()).unwrap(),
            ),
            // The filter builds its key from the JWK's n and e; so does this.
            native_key: DecodingKey::from_rsa_components(&n, &e).unwrap(),
            provider_keys: json!({ "jwk": { "kty": "RSA", "n": n, "e": e } }),
        },
    ]
}

fn verify(c: &mut Criterion) {
    let host = WasmHost::new(HostOptions::default()).expect("engine");
    let rt = common::runtime();
    let cases = cases();

    let mut native = c.benchmark_group("native");
    for case in &cases {
        let mut validation = Validation::new(case.algorithm);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        native.bench_function(case.name, |b| {
            b.iter(|| {
                jsonwebtoken::decode::<serde_json::Map<String, Value>>(
                    &case.token,
                    &case.native_key,
                    &validation,
                )
                .expect("valid token")
            })
        });
    }
    native.finish();

    let mut wasm = c.benchmark_group("wasm_filter");
    let noop = load(&host, "test_noop.wasm", &Value::Null);
    let mut instance = rt.block_on(noop.checkout()).expect("instance");
    wasm.bench_function("noop", |b| {
        iter_async(b, &rt, async || {
            let mut req = Exchange::new(request("x"));
            instance
                .call(&mut req, PhaseCall::RequestHeaders)
                .await
                .unwrap();
        })
    });
    // Every call verifies (the verified-token cache off), then the same
    // token again and again with the cache on: what a returning client costs.
    let variants = [("", 0), (" cached", 1024)];
    for (case, (suffix, cache_entries)) in cases
        .iter()
        .flat_map(|case| variants.iter().map(move |v| (case, v)))
    {
        let config = json!({
            "providers": [{
                "issuer": ISSUER,
                "audiences": [AUDIENCE],
                "algorithms": [case.name],
                "keys": case.provider_keys,
            }],
            "forward": [{ "claim": "sub", "header": "x-user-id" }],
            "cache": { "max_entries": cache_entries },
        });
        let filter = load(&host, "jwt_auth.wasm", &config);
        let mut instance = rt.block_on(filter.checkout()).expect("instance");
        wasm.bench_function(format!("{}{suffix}", case.name), |b| {
            iter_async(b, &rt, async || {
                let mut req = Exchange::new(request(&case.token));
                let decision = instance
                    .call(&mut req, PhaseCall::RequestHeaders)
                    .await
                    .unwrap();
                assert!(matches!(decision, Verdict::Continue), "the token verifies");
            })
        });
    }
    wasm.finish();
}

criterion_group!(benches, verify);
criterion_main!(benches);
