//! End-to-end tests of the `jwt-auth` built-in filter through the real
//! gateway: real upstream, real JWKS endpoint, tokens signed natively with
//! `jsonwebtoken` by keys generated for the run.

mod attacks;
mod cache;
mod check;
mod jwks;
mod jwks_server;
mod keys;
mod sources;
mod valid;

use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};
use weir_tests::{Gateway, Upstream, client, config, filters, free_port};

pub const AUDIENCE: &str = "orders-api";

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

/// Claims that pass every check for `issuer`'s provider: valid for an hour.
pub fn claims(issuer: &str) -> Value {
    json!({
        "iss": issuer,
        "aud": AUDIENCE,
        "sub": "user-42",
        "iat": now(),
        "exp": now() + 3600,
    })
}

/// One provider of tokens for `AUDIENCE`.
pub fn provider(issuer: &str, algorithms: &[&str], keys: Value) -> Value {
    json!({ "issuer": issuer, "audiences": [AUDIENCE], "algorithms": algorithms, "keys": keys })
}

/// A filter config around `providers`, forwarding `sub` as `x-user-id` and
/// into the context as `sub`.
pub fn filter_config(providers: Vec<Value>) -> Value {
    json!({
        "realm": "orders",
        "providers": providers,
        "forward": [
            { "claim": "sub", "header": "x-user-id", "context": "sub" },
            { "claim": "roles", "header": "x-user-roles" },
        ],
    })
}

/// A gateway in front of a real upstream; the route runs `jwt-auth`, then
/// `test-context`, which copies the context's `sub` into `x-context-sub`.
pub struct Site {
    pub gateway: Gateway,
    _upstream: Upstream,
}

impl Site {
    /// `pem_files`: written under the filter's granted directory, `/keys`.
    /// `http_origin`: the origin `grants.http` allows.
    pub async fn start(filter: Value, pem_files: &[(&str, &str)], http_origin: &str) -> Site {
        let upstream = Upstream::start("api").await;
        let dir = tempfile::tempdir().unwrap();
        write_support_files(dir.path(), pem_files);
        let port = free_port();
        let yaml = gateway_config(&filter, upstream.addr, http_origin)
            .replace("{port}", &port.to_string());
        std::fs::write(dir.path().join("weir.yaml"), yaml).unwrap();
        let gateway = Gateway::spawn(dir, port);
        Site {
            gateway,
            _upstream: upstream,
        }
    }

    /// GET `/orders` with these headers (and query); the status, the
    /// `WWW-Authenticate` challenge and the JSON the upstream saw (Null when
    /// the gateway answered itself).
    pub async fn get(&self, path: &str, headers: &[(&str, &str)]) -> Reply {
        let mut request = client().get(self.gateway.url(path));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.expect("weir answers");
        let status = response.status().as_u16();
        let challenge = response
            .headers()
            .get("www-authenticate")
            .map(|v| v.to_str().unwrap().to_owned());
        let from_upstream = response.headers().contains_key("x-upstream");
        let body = response.text().await.unwrap();
        Reply {
            status,
            challenge,
            seen: if from_upstream {
                serde_json::from_str(&body).unwrap()
            } else {
                Value::Null
            },
            body,
        }
    }

    pub async fn with_token(&self, token: &str) -> Reply {
        self.get("/orders", &[("authorization", &format!("Bearer {token}"))])
            .await
    }
}

pub struct Reply {
    pub status: u16,
    pub challenge: Option<String>,
    /// The request as the upstream saw it.
    pub seen: Value,
    pub body: String,
}

impl Reply {
    /// The first value of a header the upstream received.
    pub fn upstream_header(&self, name: &str) -> Option<&str> {
        self.seen["headers"][name][0].as_str()
    }

    #[track_caller]
    pub fn assert_invalid_token(&self) {
        assert_eq!(self.status, 401, "body: {}", self.body);
        assert_eq!(
            self.challenge.as_deref(),
            Some("Bearer realm=\"orders\", error=\"invalid_token\"")
        );
        assert_eq!(self.body, "unauthorized\n", "no detail for the client");
    }
}

pub const HMAC_SECRET_FILE: &str = "hmac.key";

fn write_support_files(dir: &Path, pem_files: &[(&str, &str)]) {
    let mut secret = keys::HMAC_SECRET.to_vec();
    secret.push(b'\n');
    std::fs::write(dir.join(HMAC_SECRET_FILE), secret).unwrap();
    std::fs::create_dir(dir.join("keys")).unwrap();
    for (name, pem) in pem_files {
        std::fs::write(dir.join("keys").join(name), pem).unwrap();
    }
}

/// The whole gateway config (with `{port}` left for the listener).
pub fn gateway_config(filter: &Value, upstream: std::net::SocketAddr, http_origin: &str) -> String {
    config(&format!(
        r#"upstreams:
  api:
    targets: [{{ address: "{upstream}" }}]
secrets:
  hmac_key: {{ file: ./{HMAC_SECRET_FILE} }}
filters:
  jwt:
    module: {jwt}
    config: {filter}
    grants:
      secrets: [hmac_key]
      files: {{ path: ./keys, mount: /keys }}
      http: {{ allow: ["{http_origin}"], timeout: 2s }}
    limits: {{ call_deadline: 5s }}
  context-to-header:
    module: {ctx}
    config: {{ mode: get, key: sub, to_header: x-context-sub }}
routes:
  - match: {{ path: {{ prefix: / }} }}
    upstream: api
    filters: [jwt, context-to-header]
"#,
        jwt = filters::JWT_AUTH,
        ctx = filters::TEST_CONTEXT,
    ))
}
