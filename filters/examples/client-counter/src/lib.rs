//! Counts each client's requests per window in a key-value store (Redis for
//! a count shared by every weir instance) and answers 429 once a client is
//! over its limit. The count goes upstream in `x-client-requests` and back
//! to the client in `x-ratelimit-remaining`.
//!
//! ```yaml
//! key_value:
//!   counters:
//!     redis: { url: "redis://127.0.0.1:6379/0" }
//! filters:
//!   client-counter:
//!     module: filters/target/wasm32-wasip2/release/client_counter.wasm
//!     config: { store: counters, limit: 100, window_secs: 60 }
//!     grants: { key_value: [counters] }
//! ```
//!
//! When the store is down the request goes on uncounted (and a warning is
//! logged): an outage of the counter must not take the API down.

use std::time::Duration;

use serde::Deserialize;
use weir_filter_sdk::kv::Store;
use weir_filter_sdk::{
    Config, Decision, Filter, Phases, Request, Response, export_filter, log, respond,
};

#[derive(Deserialize)]
struct Settings {
    store: String,
    limit: i64,
    window_secs: u64,
}

struct ClientCounter {
    store: Store,
    limit: i64,
    window: Duration,
    /// This request's count, for the response header.
    count: Option<i64>,
}

impl Filter for ClientCounter {
    fn new(config: Config) -> Result<Self, String> {
        let settings: Settings = config.deserialize()?;
        if settings.limit < 1 || settings.window_secs == 0 {
            return Err("limit and window_secs must be at least 1".into());
        }
        Ok(ClientCounter {
            store: Store::open(&settings.store).map_err(|e| e.to_string())?,
            limit: settings.limit,
            window: Duration::from_secs(settings.window_secs),
            count: None,
        })
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS | Phases::RESPONSE_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        // Instances serve many requests: reset what the last one left.
        self.count = None;
        let key = format!("requests:{}", req.client_ip());
        // The window starts with a client's first request and the key expires with it.
        match self.store.increment(&key, 1, Some(self.window)) {
            Ok(count) if count > self.limit => {
                return respond(429)
                    .header("retry-after", self.window.as_secs().to_string())
                    .text("too many requests")
                    .into();
            }
            Ok(count) => {
                let _ = req.set_header("x-client-requests", count.to_string().as_bytes());
                self.count = Some(count);
            }
            Err(error) => log::warn(&format!("request not counted: {error}")),
        }
        Decision::Continue
    }

    fn on_response_headers(&mut self, _req: &Request, resp: &Response) -> Decision {
        if let Some(count) = self.count {
            let remaining = (self.limit - count).max(0).to_string();
            let _ = resp.set_header("x-ratelimit-remaining", remaining.as_bytes());
        }
        Decision::Continue
    }
}

export_filter!(ClientCounter);
