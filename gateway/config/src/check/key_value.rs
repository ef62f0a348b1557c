//! Checks of the `key_value` section.

use std::collections::BTreeMap;
use std::net::Ipv6Addr;
use std::time::Duration;

use super::checker::Checker;
use crate::model::{KvBackend, KvStore, RedisStore, redact_url};
use crate::parse::ConfigPath;
use crate::schema::{KvStoreFile, RedisStoreFile};

pub(super) fn key_value(c: &mut Checker) -> BTreeMap<String, KvStore> {
    let doc = c.doc;
    doc.key_value
        .iter()
        .filter_map(|(path, name, file)| {
            let errors_before = c.errors.len();
            let backend = match file {
                KvStoreFile::Memory(m) => {
                    let max_entries = m.max_entries.unwrap_or(10_000);
                    c.at_least_one(&path.key("memory").key("max_entries"), max_entries);
                    KvBackend::Memory { max_entries }
                }
                KvStoreFile::Redis(r) => KvBackend::Redis(redis(c, &path.key("redis"), name, r)),
            };
            (c.errors.len() == errors_before).then(|| {
                let store = KvStore {
                    name: name.clone(),
                    backend,
                };
                (name.clone(), store)
            })
        })
        .collect()
}

fn redis(c: &mut Checker, path: &ConfigPath, name: &str, file: &RedisStoreFile) -> RedisStore {
    if let Err(why) = check_redis_url(&file.url) {
        // Redacted: the URL may carry the Redis password.
        let url = redact_url(&file.url);
        c.error(&path.key("url"), format!("invalid url {url:?}: {why}"));
    }
    let store = RedisStore {
        url: file.url.clone(),
        pool_size: file.pool_size.unwrap_or(4),
        connect_timeout: file.connect_timeout.map_or(Duration::from_secs(1), |d| d.0),
        command_timeout: file
            .command_timeout
            .map_or(Duration::from_millis(100), |d| d.0),
        // Stores sharing one Redis do not see each other's keys by default.
        key_prefix: file
            .key_prefix
            .clone()
            .unwrap_or_else(|| format!("weir:{name}:")),
    };
    c.at_least_one(&path.key("pool_size"), store.pool_size.into());
    c.more_than_zero(&path.key("connect_timeout"), store.connect_timeout);
    c.more_than_zero(&path.key("command_timeout"), store.command_timeout);
    store
}

/// `redis[s]://[user[:password]@]host[:port][/db][?options]`; the reason if not.
fn check_redis_url(url: &str) -> Result<(), &'static str> {
    let expected = "expected redis://host[:port][/db] or rediss://...";
    let (scheme, rest) = url.split_once("://").ok_or(expected)?;
    if !matches!(scheme.to_ascii_lowercase().as_str(), "redis" | "rediss") {
        return Err("the scheme must be redis:// or rediss://");
    }
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match host_port.strip_prefix('[') {
        Some(bracketed) => {
            let (ip, after) = bracketed.split_once(']').ok_or("unclosed [ in the host")?;
            ip.parse::<Ipv6Addr>()
                .map_err(|_| "invalid IPv6 address in the host")?;
            (ip, after.strip_prefix(':'))
        }
        None => match host_port.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() || host.contains(char::is_whitespace) {
        return Err("the host is missing");
    }
    if let Some(port) = port
        && !(port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p > 0))
    {
        return Err("the port must be 1-65535");
    }
    let db = tail.split(['?', '#']).next().unwrap_or_default();
    let db = db.strip_prefix('/').unwrap_or(db);
    if !db.bytes().all(|b| b.is_ascii_digit()) {
        return Err("the database must be a number, e.g. /0");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redis_urls() {
        for good in [
            "redis://127.0.0.1:6379/0",
            "redis://cache.internal",
            "rediss://user:pw@cache.internal:6380/2?protocol=resp3",
            "redis://:pw@[fd00::1]:6379",
            "REDIS://h/",
        ] {
            assert_eq!(check_redis_url(good), Ok(()), "{good}");
        }
        for bad in [
            "127.0.0.1:6379",
            "http://h:6379",
            "redis://",
            "redis://:pw@",
            "redis://h:0",
            "redis://h:+1",
            "redis://h:99999",
            "redis://h/db",
            "redis://[nope]:1",
            "redis://[::1",
        ] {
            assert!(check_redis_url(bad).is_err(), "{bad}");
        }
    }
}
