//! The filter's `config`, checked in full when weir loads it.

use serde::Deserialize;
use weir_filter_sdk::{Config, secrets};

use crate::password::PasswordHash;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    users: Vec<UserSettings>,
    #[serde(default = "default_realm")]
    realm: String,
    #[serde(default = "default_consumer_header")]
    consumer_header: Option<String>,
    #[serde(default = "default_true")]
    strip_authorization: bool,
    #[serde(default = "default_cache_ttl_secs")]
    cache_ttl_secs: u64,
    #[serde(default = "default_cache_max_entries")]
    cache_max_entries: usize,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserSettings {
    name: String,
    #[serde(default)]
    password_hash: Option<String>,
    #[serde(default)]
    password_hash_secret: Option<String>,
}

fn default_realm() -> String {
    "weir".into()
}

fn default_consumer_header() -> Option<String> {
    Some("x-consumer".into())
}

fn default_true() -> bool {
    true
}

fn default_cache_ttl_secs() -> u64 {
    60
}

fn default_cache_max_entries() -> usize {
    1024
}

pub struct User {
    pub name: String,
    pub hash: PasswordHash,
}

pub struct BasicAuthConfig {
    pub users: Vec<User>,
    pub consumer_header: Option<String>,
    pub strip_authorization: bool,
    /// The whole `WWW-Authenticate` value of a 401.
    pub challenge: String,
    pub cache_ttl_secs: u64,
    pub cache_max_entries: usize,
}

impl BasicAuthConfig {
    pub fn load(config: &Config) -> Result<BasicAuthConfig, String> {
        let settings: Settings = config.deserialize()?;
        if settings.users.is_empty() {
            return Err("config field \"users\" must list at least one user".into());
        }
        let mut users: Vec<User> = Vec::with_capacity(settings.users.len());
        for (i, user) in settings.users.iter().enumerate() {
            let at = format!("users[{i}]");
            // Basic credentials cannot carry a colon in the user-id; the name
            // also goes into a header, so keep it printable ASCII.
            let name_ok = !user.name.is_empty()
                && user
                    .name
                    .bytes()
                    .all(|b| (0x20..0x7f).contains(&b) && b != b':');
            if !name_ok {
                return Err(format!("{at}.name must be printable ASCII without `:`"));
            }
            if users.iter().any(|u| u.name == user.name) {
                return Err(format!("{at}: user {:?} is listed twice", user.name));
            }
            let hash_text = match (&user.password_hash, &user.password_hash_secret) {
                (Some(hash), None) => hash.clone(),
                (None, Some(secret)) => secrets::get_string(secret)
                    .map_err(|e| format!("{at}.password_hash_secret: {e}"))?,
                _ => {
                    return Err(format!(
                        "{at}: give exactly one of `password_hash` and `password_hash_secret`"
                    ));
                }
            };
            let hash = PasswordHash::parse(&hash_text).map_err(|e| format!("{at}: {e}"))?;
            users.push(User {
                name: user.name.clone(),
                hash,
            });
        }
        let consumer_header = settings
            .consumer_header
            .map(|h| header_name("consumer_header", &h))
            .transpose()?;
        if consumer_header.as_deref() == Some("authorization") {
            return Err("config field \"consumer_header\" cannot be `authorization`".into());
        }
        let realm_ok = settings
            .realm
            .bytes()
            .all(|b| (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\');
        if !realm_ok {
            return Err(
                "config field \"realm\" must be printable ASCII without `\"` or `\\`".into(),
            );
        }
        Ok(BasicAuthConfig {
            users,
            consumer_header,
            strip_authorization: settings.strip_authorization,
            challenge: format!("Basic realm=\"{}\", charset=\"UTF-8\"", settings.realm),
            cache_ttl_secs: settings.cache_ttl_secs,
            cache_max_entries: settings.cache_max_entries,
        })
    }
}

/// A valid HTTP header name (RFC 9110 token), lowercased.
fn header_name(field: &str, name: &str) -> Result<String, String> {
    let token = |b: u8| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b);
    if name.is_empty() || !name.bytes().all(token) {
        return Err(format!(
            "config field {field:?}: {name:?} is not a valid header name"
        ));
    }
    Ok(name.to_ascii_lowercase())
}
