//! File types of a filter's `grants` (`filters.<name>.grants`), also a
//! handler's (`handlers.<name>.grants`): what it may use beyond the request.
//! Split from `filters.rs` as the capabilities are a subject of their own.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::units::{ByteSize, HumanDuration};

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
