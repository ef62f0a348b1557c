//! `rate-limit`: limits requests per client IP, header value or context
//! value (e.g. the subject jwt-auth put there), with several limits per
//! filter. Each limit is a GCRA quota kept in a key-value store: `memory`
//! for one weir instance, `redis` for a limit shared by every instance (the
//! Redis server's clock decides, so instances agree). A refused request gets
//! 429 with `Retry-After` and the IETF `RateLimit` and `RateLimit-Policy`
//! fields; allowed responses carry the latter two as well.
//!
//! ```yaml
//! key_value:
//!   limits:
//!     redis: { url: "redis://127.0.0.1:6379/0", command_timeout: 50ms }
//! filters:
//!   rate-limit:
//!     module: filters/target/wasm32-wasip2/release/rate_limit.wasm
//!     grants: { key_value: [limits] }
//!     config:
//!       store: limits
//!       limits:
//!         - { name: per-ip, limit: 20, window: 1s }
//!         - { name: per-user, limit: 1000, window: 1h, key: { context: sub } }
//! ```
//!
//! See docs/filters/rate-limit.md.

mod fields;
mod settings;

use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use weir_filter_sdk::kv::{Store, Throttled};
use weir_filter_sdk::serde_json::json;
use weir_filter_sdk::{
    Config, Decision, Filter, Phases, Request, context, export_filter, log, respond,
};

use settings::{KeySource, Limit, OnStoreError, Settings, WhenMissing};

/// Key values longer than this are hashed, so a huge header cannot make a
/// key the store refuses (which would let it slip past the limit).
const MAX_RAW_KEY_BYTES: usize = 128;

/// At most one store-failure warning per instance in this interval: an
/// outage must not flood the log.
const WARN_EVERY: Duration = Duration::from_secs(10);

struct RateLimit {
    store: Store,
    limits: Vec<Limit>,
    key_prefix: String,
    on_store_error: OnStoreError,
    headers_on_success: bool,
    /// `RateLimit-Policy`, the same for every response.
    policy: String,
    /// This request's answers, by limit index, for the response fields.
    counted: Vec<(usize, Throttled)>,
    last_warning: Option<Instant>,
}

impl Filter for RateLimit {
    fn new(config: Config) -> Result<Self, String> {
        let settings: Settings = config.deserialize()?;
        let (limits, settings) = settings.check()?;
        let store = Store::open(&settings.store).map_err(|e| format!("store: {e}"))?;
        Ok(RateLimit {
            store,
            policy: fields::policy(&limits),
            limits,
            key_prefix: settings.key_prefix,
            on_store_error: settings.on_store_error,
            headers_on_success: settings.headers_on_success,
            counted: Vec::new(),
            last_warning: None,
        })
    }

    fn phases(&self) -> Phases {
        // The fields for allowed responses are handed to weir while the
        // request passes: no response-headers call.
        Phases::REQUEST_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        // Instances serve many requests: forget the last one.
        self.counted.clear();
        // Limits are spent in order and the first refusal stops: a refused
        // request does not spend the limits after it.
        for index in 0..self.limits.len() {
            let limit = &self.limits[index];
            let Some(key) = self.key(limit, req) else {
                continue;
            };
            match self.store.throttle(&key, limit.limit, limit.window, 1) {
                Ok(answer) => {
                    self.counted.push((index, answer));
                    if !answer.allowed {
                        return self.too_many(answer.retry_after_ms);
                    }
                }
                Err(error) => {
                    self.warn_store_failure(&error.to_string());
                    if self.on_store_error == OnStoreError::Deny {
                        return respond(503)
                            .json(&json!({ "error": "rate limit unavailable" }))
                            .into();
                    }
                }
            }
        }
        if self.headers_on_success && !self.counted.is_empty() {
            // Whatever answers the request (the upstream, a later filter,
            // weir's own error) carries the fields.
            let current = fields::current(&self.limits, &self.counted);
            for (name, value) in [("ratelimit-policy", &self.policy), ("ratelimit", &current)] {
                if let Err(refused) = req.set_response_header(name, value.as_bytes()) {
                    log::warn(&format!("{name} not added: {refused}"));
                }
            }
        }
        Decision::Continue
    }
}

impl RateLimit {
    /// The store key of `limit` for this request, or None to skip the limit.
    fn key(&self, limit: &Limit, req: &Request) -> Option<String> {
        let value = match &limit.key {
            KeySource::ClientIp => Some(req.client_ip()),
            KeySource::Header(name) => req.header_str(name),
            KeySource::Context(name) => context::get(name),
        };
        let value = match (value, limit.when_missing) {
            (Some(value), _) => value,
            (None, WhenMissing::Skip) => return None,
            // A key no present value can produce (those are hashed or raw).
            (None, WhenMissing::Shared) => "\0missing".into(),
        };
        let value = if value.len() > MAX_RAW_KEY_BYTES {
            let digest = Sha256::digest(value.as_bytes());
            format!("sha256:{}", hex(&digest))
        } else {
            value
        };
        Some(format!("{}{}:{}", self.key_prefix, limit.name, value))
    }

    fn too_many(&self, retry_after_ms: u64) -> Decision {
        respond(429)
            .header(
                "retry-after",
                fields::seconds_up(retry_after_ms).max(1).to_string(),
            )
            .header("ratelimit-policy", self.policy.as_str())
            .header(
                "ratelimit",
                fields::current(&self.limits, &self.counted).as_str(),
            )
            .json(&json!({ "error": "too many requests" }))
            .into()
    }

    fn warn_store_failure(&mut self, error: &str) {
        let now = Instant::now();
        if self
            .last_warning
            .is_none_or(|last| now.duration_since(last) >= WARN_EVERY)
        {
            self.last_warning = Some(now);
            let outcome = match self.on_store_error {
                OnStoreError::Allow => "allowed uncounted",
                OnStoreError::Deny => "denied with 503",
            };
            log::warn(&format!(
                "rate-limit store failed, requests {outcome} (on_store_error): {error}"
            ));
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

export_filter!(RateLimit);
