//! The filter's config, checked once in `init`.

use std::time::Duration;

use serde::Deserialize;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// The key-value store (granted in `grants.key_value`) holding the state.
    pub store: String,
    pub limits: Vec<LimitSettings>,
    /// Prefix of every key this filter writes, so filters sharing a store
    /// keep apart.
    #[serde(default = "default_prefix")]
    pub key_prefix: String,
    /// What to do when the store fails (down, slow): `allow` the request
    /// uncounted, or `deny` it with 503.
    #[serde(default)]
    pub on_store_error: OnStoreError,
    /// Send `RateLimit` and `RateLimit-Policy` on allowed responses too.
    #[serde(default = "yes")]
    pub headers_on_success: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitSettings {
    /// The policy's name in `RateLimit-Policy` and in the state's keys.
    pub name: String,
    /// Requests allowed per window.
    pub limit: u64,
    /// The window, e.g. `1s`, `1m`, `1h`.
    pub window: String,
    /// What the limit is counted by.
    #[serde(default)]
    pub key: KeySource,
    /// A request without the key: `skip` this limit, or count it in one
    /// bucket `shared` by all such requests.
    #[serde(default)]
    pub when_missing: WhenMissing,
}

#[derive(Deserialize, Default, Clone, Debug, PartialEq)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum KeySource {
    /// The client's address (through the listener's trusted proxies).
    #[default]
    ClientIp,
    /// A request header's value.
    Header(String),
    /// A value another filter put into the request's context (e.g. `sub`
    /// from jwt-auth, `consumer` from key-auth).
    Context(String),
}

#[derive(Deserialize, Default, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum WhenMissing {
    #[default]
    Skip,
    Shared,
}

#[derive(Deserialize, Default, Clone, Copy, Debug, PartialEq)]
#[serde(rename_all = "snake_case")]
pub enum OnStoreError {
    #[default]
    Allow,
    Deny,
}

fn default_prefix() -> String {
    "rate-limit:".into()
}

fn yes() -> bool {
    true
}

/// One checked limit.
pub struct Limit {
    pub name: String,
    pub limit: u64,
    pub window: Duration,
    pub key: KeySource,
    pub when_missing: WhenMissing,
}

impl LimitSettings {
    pub fn check(self, index: usize) -> Result<Limit, String> {
        let at = |what: String| format!("limits[{index}] ({:?}): {what}", self.name);
        // Names go into a structured header field as strings and into keys:
        // keep them to characters that need no escaping anywhere.
        let name_ok = !self.name.is_empty()
            && self.name.len() <= 64
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
        if !name_ok {
            return Err(at("name must be 1 to 64 of A-Z a-z 0-9 - _ .".into()));
        }
        if self.limit == 0 {
            return Err(at("limit must be at least 1".into()));
        }
        let window = humantime::parse_duration(&self.window)
            .map_err(|e| at(format!("window {:?}: {e}", self.window)))?;
        if window < Duration::from_millis(1) {
            return Err(at("window must be at least 1ms".into()));
        }
        if window.as_micros() / u128::from(self.limit) == 0 {
            return Err(at("more than one request per microsecond".into()));
        }
        if let KeySource::Header(name) | KeySource::Context(name) = &self.key
            && name.is_empty()
        {
            return Err(at("the key's header or context name is empty".into()));
        }
        Ok(Limit {
            name: self.name,
            limit: self.limit,
            window,
            key: self.key,
            when_missing: self.when_missing,
        })
    }
}

impl Settings {
    pub fn check(self) -> Result<(Vec<Limit>, Self), String> {
        if self.limits.is_empty() {
            return Err("limits: give at least one limit".into());
        }
        let mut limits = Vec::with_capacity(self.limits.len());
        let mut rest = self;
        for (i, limit) in std::mem::take(&mut rest.limits).into_iter().enumerate() {
            let limit = limit.check(i)?;
            if limits.iter().any(|l: &Limit| l.name == limit.name) {
                return Err(format!("limits[{i}]: name {:?} is used twice", limit.name));
            }
            limits.push(limit);
        }
        Ok((limits, rest))
    }
}
