//! The validated `key_value` section, and the redacted `Debug` of a Redis
//! store.

use std::fmt;
use std::time::Duration;

#[derive(Debug, Clone, PartialEq)]
pub struct KvStore {
    pub name: String,
    pub backend: KvBackend,
}

#[derive(Debug, Clone, PartialEq)]
pub enum KvBackend {
    /// In this process only.
    Memory {
        max_entries: u64,
    },
    Redis(RedisStore),
}

/// `Debug` hides the URL's password (see `model/key_value.rs`).
#[derive(Clone, PartialEq)]
pub struct RedisStore {
    /// `redis://` or `rediss://`, checked; may carry a password.
    pub url: String,
    pub pool_size: u32,
    pub connect_timeout: Duration,
    pub command_timeout: Duration,
    /// Prepended to every key.
    pub key_prefix: String,
}

/// The URL with the password of its user info replaced by `***` (or the
/// whole user info, when it has no `:`): for messages and `Debug`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = match userinfo.split_once(':') {
                Some((user, _)) => format!("{user}:***"),
                None => "***".to_owned(),
            };
            format!("{scheme}://{user}@{host}{tail}")
        }
        None => url.to_owned(),
    }
}

impl fmt::Debug for RedisStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisStore")
            .field("url", &redact_url(&self.url))
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_passwords_are_redacted() {
        assert_eq!(redact_url("redis://:pw@h:6379/0"), "redis://:***@h:6379/0");
        assert_eq!(redact_url("rediss://u:p@ss@h"), "rediss://u:***@h");
        assert_eq!(redact_url("redis://token@h"), "redis://***@h");
        assert_eq!(redact_url("redis://h/0?x=a@b"), "redis://h/0?x=a@b");
        assert_eq!(redact_url("no scheme"), "no scheme");
        let store = RedisStore {
            url: "redis://user:hunter2@h:6379".into(),
            pool_size: 4,
            connect_timeout: Duration::from_secs(1),
            command_timeout: Duration::from_millis(100),
            key_prefix: "weir:x:".into(),
        };
        let debug = format!("{store:?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(debug.contains("redis://user:***@h:6379"), "{debug}");
    }
}
