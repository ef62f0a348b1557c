//! Drives a key-value store from request headers and answers directly with
//! the result (no upstream): `x-kv-op` is `incr`, `set`, `get`, `del`, `cas`
//! or `open`; `x-kv-key`, `x-kv-value`, `x-kv-expected` (cas; absent: only if
//! unset), `x-kv-ttl-ms` and `x-kv-store` (for `open`) are its arguments.
//! The store named in `store` is opened in `init`. A store error answers 503
//! with `x-kv-error` naming its kind.

use std::time::Duration;

use weir_filter_sdk::kv::{KvError, Store};
use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, export_filter, respond};

struct KvProbe {
    store: Store,
}

impl Filter for KvProbe {
    fn new(config: Config) -> Result<Self, String> {
        let name = config.string("store")?;
        let store = Store::open(&name).map_err(|e| e.to_string())?;
        Ok(KvProbe { store })
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        let arg = |name: &str| req.header_str(name).unwrap_or_default();
        let ttl = req
            .header_str("x-kv-ttl-ms")
            .and_then(|t| t.parse().ok())
            .map(Duration::from_millis);
        let key = arg("x-kv-key");
        let result: Result<String, KvError> = match arg("x-kv-op").as_str() {
            "incr" => self.store.increment(&key, 1, ttl).map(|n| n.to_string()),
            "set" => self
                .store
                .set(&key, arg("x-kv-value").as_bytes(), ttl)
                .map(|()| "ok".into()),
            "get" => self
                .store
                .get_string(&key)
                .map(|v| v.unwrap_or_else(|| "<none>".into())),
            "del" => self.store.delete(&key).map(|d| d.to_string()),
            "cas" => {
                let expected = req.header_str("x-kv-expected");
                self.store
                    .compare_and_swap(
                        &key,
                        expected.as_deref().map(str::as_bytes),
                        arg("x-kv-value").as_bytes(),
                        ttl,
                    )
                    .map(|set| set.to_string())
            }
            "open" => Store::open(&arg("x-kv-store")).map(|_| "opened".into()),
            other => return respond(400).text(&format!("unknown op {other:?}")).into(),
        };
        match result {
            Ok(text) => respond(200).text(&text).into(),
            Err(error) => {
                let kind = match &error {
                    KvError::NotGranted(_) => "not-granted",
                    KvError::Unavailable(_) => "unavailable",
                    KvError::Invalid(_) => "invalid",
                };
                respond(503)
                    .header("x-kv-error", kind)
                    .text(&error.to_string())
                    .into()
            }
        }
    }
}

export_filter!(KvProbe);
