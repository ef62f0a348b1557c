//! File types of the `key_value` section.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::units::HumanDuration;

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
