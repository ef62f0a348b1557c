//! File types of what filters may be granted: key-value stores, secrets,
//! outbound HTTP and a read-only directory, plus a filter's circuit breaker.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::units::{ByteSize, HumanDuration};

/// A key-value store: exactly one of `redis` and `memory`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KvStoreFile {
    /// Shared by every weir process that uses the same Redis.
    Redis(RedisStoreFile),
    /// In this weir process only.
    Memory(MemoryStoreFile),
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RedisStoreFile {
    /// `redis://host[:port][/db]` or `rediss://` (TLS).
    pub url: String,
    /// Multiplexed connections. Default 4.
    #[schemars(range(min = 1))]
    pub pool_size: Option<u32>,
    /// Default 1s.
    pub connect_timeout: Option<HumanDuration>,
    /// Budget of one command. Default 100ms.
    pub command_timeout: Option<HumanDuration>,
    /// Prepended to every key. Default `weir:<store name>:`.
    pub key_prefix: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryStoreFile {
    /// Most entries kept. Default 10000.
    #[schemars(range(min = 1))]
    pub max_entries: Option<u64>,
}

/// Where a secret's value is read from: exactly one of `env` and `file`.
/// The value itself is never written in the config.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SecretFile {
    /// An environment variable of the weir process.
    pub env: Option<String>,
    /// A file, relative to this file; one trailing newline is removed.
    pub file: Option<String>,
}

/// Capabilities; each one is denied unless granted here.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GrantsFile {
    /// Names of stores in `key_value`. An empty list lets a filter that
    /// imports the key-value interface load without granting it any store.
    pub key_value: Option<Vec<String>>,
    /// Names of secrets in `secrets`. An empty list lets a filter that
    /// imports the secrets interface load without granting it any secret.
    pub secrets: Option<Vec<String>>,
    /// Outbound HTTP requests.
    pub http: Option<HttpGrantFile>,
    /// A read-only directory.
    pub files: Option<FilesGrantFile>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HttpGrantFile {
    /// Origins the filter may call: `scheme://host[:port]`, http or https;
    /// `https://*.example.com` allows any subdomain (not the apex). At least one.
    #[schemars(length(min = 1))]
    pub allow: Vec<String>,
    /// Default 1s.
    pub connect_timeout: Option<HumanDuration>,
    /// Until the response's first byte. Default 5s.
    pub timeout: Option<HumanDuration>,
    /// Response body cap. Default 1MiB.
    pub max_response_bytes: Option<ByteSize>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FilesGrantFile {
    /// A directory, relative to this file; it must exist.
    pub path: String,
    /// Where the filter sees it; absolute. Default `/`.
    pub mount: Option<String>,
}

/// Stops calling a failing filter for a while.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CircuitBreakerFile {
    /// Default true.
    pub enabled: Option<bool>,
    /// Share of failed calls in the window that opens the breaker (0 < r <= 1). Default 0.5.
    #[schemars(range(max = 1), extend("exclusiveMinimum" = 0))]
    pub failure_ratio: Option<f64>,
    /// Calls in the window before the breaker can open. Default 10.
    #[schemars(range(min = 1))]
    pub min_calls: Option<u32>,
    /// The sliding window calls are counted in. Default 10s.
    pub window: Option<HumanDuration>,
    /// How long the breaker stays open before one probe call. Default 5s.
    pub cool_down: Option<HumanDuration>,
}
