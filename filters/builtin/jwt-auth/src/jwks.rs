//! A JWK Set fetched over HTTP and cached in this instance's memory.
//!
//! A Wasm instance has no thread of its own, so nothing runs between
//! requests: "background" refresh means the first request that finds the
//! set older than `refresh_interval` fetches it, inside its own call, within
//! the fetch `timeout`. If that fetch fails, the request goes on with the
//! keys already cached. Every kind of fetch (first, refresh, unknown `kid`,
//! retry after a failure) is at most one per `min_refetch_interval`, so a
//! dead endpoint or tokens with made-up `kid`s cost at most one bounded
//! fetch per interval and instance.

use std::time::{Duration, Instant};

use serde_json::Value;
use weir_filter_sdk::{log, outbound};

use crate::keys::KeySet;
use crate::settings::JwksUrlSettings;

pub struct RemoteKeys {
    url: String,
    refresh_interval: Duration,
    min_refetch_interval: Duration,
    timeout: Duration,
    keys: Option<KeySet>,
    fetched_at: Option<Instant>,
    last_attempt: Option<Instant>,
    /// Successful fetches so far: each may have changed the keys.
    fetches: u64,
}

impl RemoteKeys {
    pub fn new(settings: JwksUrlSettings) -> Result<RemoteKeys, String> {
        let lower = settings.url.to_ascii_lowercase();
        if !(lower.starts_with("http://") || lower.starts_with("https://")) {
            return Err(format!(
                "jwks_url.url {:?} must start with http:// or https://",
                settings.url
            ));
        }
        if settings.timeout.is_zero() {
            return Err("jwks_url.timeout must be above zero".into());
        }
        // No fetch here: `init` also runs in `weir check` and at every
        // reload, which must not depend on the identity provider being up.
        Ok(RemoteKeys {
            url: settings.url,
            refresh_interval: settings.refresh_interval,
            min_refetch_interval: settings.min_refetch_interval,
            timeout: settings.timeout,
            keys: None,
            fetched_at: None,
            last_attempt: None,
            fetches: 0,
        })
    }

    /// The cached keys, after fetching them if there are none yet or they are
    /// older than `refresh_interval` (and no fetch was tried too recently).
    /// None only if no fetch has ever succeeded.
    pub fn current(&mut self) -> Option<&KeySet> {
        let due = self
            .fetched_at
            .is_none_or(|at| at.elapsed() >= self.refresh_interval);
        if due && self.may_fetch() {
            self.fetch("refresh");
        }
        self.keys.as_ref()
    }

    /// A token named a `kid` the cached set lacks: the provider may have
    /// rotated its keys. Refetches if allowed; returns whether it did and got
    /// a new set.
    pub fn refetch_for_unknown_kid(&mut self) -> bool {
        self.may_fetch() && self.fetch("unknown kid")
    }

    /// Changes whenever a fetch may have changed the keys.
    pub fn generation(&self) -> u64 {
        self.fetches
    }

    fn may_fetch(&self) -> bool {
        self.last_attempt
            .is_none_or(|at| at.elapsed() >= self.min_refetch_interval)
    }

    /// Fetches the set; on any failure keeps the old keys and logs why.
    fn fetch(&mut self, why: &str) -> bool {
        self.last_attempt = Some(Instant::now());
        match self.download() {
            Ok((keys, skipped)) => {
                for reason in skipped {
                    log::info(&format!("JWKS {}: skipped {reason}", self.url));
                }
                log::debug(&format!("JWKS {} fetched ({why})", self.url));
                self.keys = Some(keys);
                self.fetched_at = Some(Instant::now());
                self.fetches += 1;
                true
            }
            Err(reason) => {
                let kept = if self.keys.is_some() {
                    "keeping the cached keys"
                } else {
                    "no keys yet"
                };
                log::warn(&format!(
                    "JWKS {} fetch failed ({why}): {reason}; {kept}",
                    self.url
                ));
                false
            }
        }
    }

    fn download(&self) -> Result<(KeySet, Vec<String>), String> {
        let response = outbound::Request::get(&self.url)
            .header("accept", "application/jwk-set+json, application/json")
            .timeout(self.timeout)
            .send()
            .map_err(|e| e.to_string())?;
        if response.status != 200 {
            return Err(format!("status {}", response.status));
        }
        let value: Value =
            serde_json::from_slice(&response.body).map_err(|e| format!("not JSON: {e}"))?;
        KeySet::jwks(&value, false)
    }
}
