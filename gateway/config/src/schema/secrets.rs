//! File types of the `secrets` section.

use schemars::JsonSchema;
use serde::Deserialize;

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
