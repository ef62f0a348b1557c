//! The filter's `config`, checked in full when weir loads it.

use serde::Deserialize;
use weir_filter_sdk::{Config, secrets};

use crate::credential::KeyLocation;
use crate::keyring::{Keyring, parse_key};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    consumers: Vec<ConsumerSettings>,
    #[serde(default = "default_header")]
    header: Option<String>,
    #[serde(default)]
    query_param: Option<String>,
    #[serde(default = "default_true")]
    strip_key: bool,
    #[serde(default = "default_consumer_header")]
    consumer_header: Option<String>,
    #[serde(default = "default_realm")]
    realm: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConsumerSettings {
    name: String,
    /// Keys, or their hashes as `sha256:<hex>`.
    #[serde(default)]
    keys: Vec<String>,
    /// Secrets holding keys (one per line, same forms as `keys`).
    #[serde(default)]
    secrets: Vec<String>,
}

fn default_header() -> Option<String> {
    Some("x-api-key".into())
}

fn default_consumer_header() -> Option<String> {
    Some("x-consumer".into())
}

fn default_realm() -> String {
    "weir".into()
}

fn default_true() -> bool {
    true
}

/// Everything the filter needs at request time.
pub struct KeyAuthConfig {
    pub keyring: Keyring,
    pub location: KeyLocation,
    pub strip_key: bool,
    pub consumer_header: Option<String>,
    /// The whole `WWW-Authenticate` value of a 401.
    pub challenge: String,
}

impl KeyAuthConfig {
    pub fn load(config: &Config) -> Result<KeyAuthConfig, String> {
        let settings: Settings = config.deserialize()?;
        let header = settings
            .header
            .map(|h| header_name("header", &h))
            .transpose()?;
        if let Some(param) = &settings.query_param
            && param.is_empty()
        {
            return Err("config field \"query_param\" must not be empty".into());
        }
        if header.is_none() && settings.query_param.is_none() {
            return Err(
                "`header` and `query_param` are both null: no place to read a key from".into(),
            );
        }
        let consumer_header = settings
            .consumer_header
            .map(|h| header_name("consumer_header", &h))
            .transpose()?;
        if consumer_header.is_some() && consumer_header == header {
            return Err("`consumer_header` must differ from `header`".into());
        }
        if !is_quoted_string_safe(&settings.realm) {
            return Err(
                "config field \"realm\" must be printable ASCII without `\"` or `\\`".into(),
            );
        }
        Ok(KeyAuthConfig {
            keyring: keyring(&settings.consumers)?,
            location: KeyLocation {
                header,
                query_param: settings.query_param,
            },
            strip_key: settings.strip_key,
            consumer_header,
            challenge: format!("ApiKey realm=\"{}\"", settings.realm),
        })
    }
}

fn keyring(consumers: &[ConsumerSettings]) -> Result<Keyring, String> {
    if consumers.is_empty() {
        return Err("config field \"consumers\" must list at least one consumer".into());
    }
    let mut ring = Keyring::default();
    for (i, consumer) in consumers.iter().enumerate() {
        let at = format!("consumers[{i}]");
        // The name goes into a header and the context: keep it plain text.
        if consumer.name.is_empty() || !consumer.name.bytes().all(|b| (0x20..0x7f).contains(&b)) {
            return Err(format!("{at}.name must be non-empty printable ASCII"));
        }
        let owner = ring
            .add_consumer(&consumer.name)
            .map_err(|e| format!("{at}: {e}"))?;
        let mut count = 0;
        for (k, key) in consumer.keys.iter().enumerate() {
            let hash = parse_key(key).map_err(|e| format!("{at}.keys[{k}]: {e}"))?;
            ring.add_key(owner, hash)
                .map_err(|e| format!("{at}.keys[{k}]: {e}"))?;
            count += 1;
        }
        for name in &consumer.secrets {
            let value = secrets::get_string(name).map_err(|e| format!("{at}.secrets: {e}"))?;
            // One key per line lets a secret carry the old and new key during a rotation.
            for line in value
                .lines()
                .map(|l| l.trim_end_matches('\r'))
                .filter(|l| !l.is_empty())
            {
                // Never echo the secret's content in an error.
                let hash = parse_key(line).map_err(|_| {
                    format!("{at}.secrets: secret {name:?} holds a malformed `sha256:` key")
                })?;
                ring.add_key(owner, hash)
                    .map_err(|e| format!("{at}.secrets: secret {name:?}: {e}"))?;
                count += 1;
            }
        }
        if count == 0 {
            return Err(format!(
                "{at} ({:?}) has no key: give `keys` or `secrets`",
                consumer.name
            ));
        }
    }
    Ok(ring)
}

/// A valid HTTP header name (RFC 9110 token), lowercased.
pub fn header_name(field: &str, name: &str) -> Result<String, String> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(format!(
            "config field {field:?}: {name:?} is not a valid header name"
        ));
    }
    Ok(name.to_ascii_lowercase())
}

fn is_quoted_string_safe(text: &str) -> bool {
    text.bytes()
        .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\')
}

#[cfg(test)]
mod tests {
    use super::header_name;

    #[test]
    fn header_names_are_tokens() {
        assert_eq!(header_name("h", "X-Api-Key").unwrap(), "x-api-key");
        assert!(header_name("h", "x api key").is_err());
        assert!(header_name("h", "").is_err());
    }
}
