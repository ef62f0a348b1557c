//! Checks of what filters may be granted (key-value stores, secrets, outbound
//! HTTP, a directory) and of their circuit breakers. Secrets are read here, so
//! a config that checks has every value it grants.

use std::collections::{BTreeMap, BTreeSet};
use std::io::ErrorKind;
use std::net::Ipv6Addr;
use std::time::Duration;

use super::Checker;
use crate::model::*;
use crate::parse::ConfigPath;
use crate::schema::*;

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
        let url = crate::model::redact_url(&file.url);
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

pub(super) fn secrets(c: &mut Checker) -> BTreeMap<String, Secret> {
    let doc = c.doc;
    doc.secrets
        .iter()
        .filter_map(|(path, name, file)| {
            // Messages name the variable or the path, never the value.
            let (source, value) = match (&file.env, &file.file) {
                (Some(var), None) => {
                    let path = path.key("env");
                    if !is_env_name(var) {
                        // Not quoted: it may be the value itself.
                        c.error(
                            &path,
                            "invalid environment variable name; expected letters, digits and _, not starting with a digit",
                        );
                        return None;
                    }
                    let Some(value) = std::env::var_os(var) else {
                        c.error(&path, format!("environment variable {var} is not set"));
                        return None;
                    };
                    (SecretSource::Env(var.clone()), value.into_encoded_bytes())
                }
                (None, Some(file)) => {
                    let resolved = c.resolve(file);
                    match std::fs::read(&resolved) {
                        Ok(bytes) => (SecretSource::File(resolved), without_newline(bytes)),
                        Err(e) => {
                            c.error(
                                &path.key("file"),
                                format!("cannot read {}: {e}", resolved.display()),
                            );
                            return None;
                        }
                    }
                }
                _ => {
                    c.error(path, "a secret needs exactly one of `env` or `file`");
                    return None;
                }
            };
            let secret = Secret {
                name: name.clone(),
                source,
                value: SecretValue(value),
            };
            Some((name.clone(), secret))
        })
        .collect()
}

/// Portable names only: anything else is more likely a value pasted by mistake.
fn is_env_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

/// Drops one trailing `\n` or `\r\n`: what `echo key > file` and editors
/// leave, and Kubernetes secrets created from such files.
fn without_newline(mut bytes: Vec<u8>) -> Vec<u8> {
    if bytes.ends_with(b"\r\n") {
        bytes.truncate(bytes.len() - 2);
    } else if bytes.ends_with(b"\n") {
        bytes.pop();
    }
    bytes
}

pub(super) fn grants(c: &mut Checker, path: &ConfigPath, file: Option<&GrantsFile>) -> Grants {
    let Some(file) = file else {
        return Grants::default();
    };
    let doc = c.doc;
    names(
        c,
        &path.key("key_value"),
        file.key_value.as_deref().unwrap_or_default(),
        &doc.key_value_names,
        "key_value store",
    );
    names(
        c,
        &path.key("secrets"),
        file.secrets.as_deref().unwrap_or_default(),
        &doc.secret_names,
        "secret",
    );
    Grants {
        key_value: file.key_value.clone(),
        secrets: file.secrets.clone(),
        http: file.http.as_ref().map(|h| http(c, &path.key("http"), h)),
        files: file.files.as_ref().map(|f| files(c, &path.key("files"), f)),
    }
}

/// References to `defined` (every name written, see `Document`), each once.
fn names(
    c: &mut Checker,
    path: &ConfigPath,
    list: &[String],
    defined: &BTreeSet<String>,
    what: &str,
) {
    let mut seen = BTreeSet::new();
    for (i, name) in list.iter().enumerate() {
        if !defined.contains(name) {
            c.error(&path.index(i), format!("no {what} named {name:?}"));
        } else if !seen.insert(name) {
            c.error(&path.index(i), format!("{what} {name:?} is granted twice"));
        }
    }
}

fn http(c: &mut Checker, path: &ConfigPath, file: &HttpGrantFile) -> HttpGrant {
    // An empty list is allowed on purpose: it consents to a filter that
    // imports outbound HTTP (jwt-auth, for its JWKS URLs) while granting it
    // no origin at all.
    let allow = file
        .allow
        .iter()
        .enumerate()
        .filter_map(|(i, text)| {
            text.parse::<Origin>()
                .map_err(|message| c.error(&path.key("allow").index(i), message))
                .ok()
        })
        .collect();
    let grant = HttpGrant {
        allow,
        connect_timeout: file.connect_timeout.map_or(Duration::from_secs(1), |d| d.0),
        timeout: file.timeout.map_or(Duration::from_secs(5), |d| d.0),
        max_response_bytes: file.max_response_bytes.map_or(1 << 20, |s| s.0),
    };
    c.more_than_zero(&path.key("connect_timeout"), grant.connect_timeout);
    c.more_than_zero(&path.key("timeout"), grant.timeout);
    c.at_least_one(&path.key("max_response_bytes"), grant.max_response_bytes);
    grant
}

fn files(c: &mut Checker, path: &ConfigPath, file: &FilesGrantFile) -> FilesGrant {
    let resolved = c.resolve(&file.path);
    if file.path.trim().is_empty() {
        c.error(&path.key("path"), "path is empty");
    } else {
        let problem = match std::fs::metadata(&resolved) {
            Ok(meta) if meta.is_dir() => None,
            Ok(_) => Some(format!("{} is not a directory", resolved.display())),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                Some(format!("{} does not exist", resolved.display()))
            }
            Err(e) => Some(format!("cannot read {}: {e}", resolved.display())),
        };
        if let Some(problem) = problem {
            c.error(&path.key("path"), problem);
        }
    }
    let mount = file.mount.clone().unwrap_or_else(|| "/".to_owned());
    if !mount.starts_with('/') {
        c.error(
            &path.key("mount"),
            format!("mount {mount:?} must start with /"),
        );
    }
    FilesGrant {
        path: resolved,
        mount,
    }
}

pub(super) fn circuit_breaker(
    c: &mut Checker,
    path: &ConfigPath,
    file: Option<&CircuitBreakerFile>,
) -> CircuitBreaker {
    let defaults = CircuitBreaker::default();
    let Some(file) = file else {
        return defaults;
    };
    let breaker = CircuitBreaker {
        enabled: file.enabled.unwrap_or(defaults.enabled),
        failure_ratio: file.failure_ratio.unwrap_or(defaults.failure_ratio),
        min_calls: file.min_calls.unwrap_or(defaults.min_calls),
        window: file.window.map_or(defaults.window, |d| d.0),
        cool_down: file.cool_down.map_or(defaults.cool_down, |d| d.0),
    };
    // Written so that NaN is out of range too.
    if !(breaker.failure_ratio > 0.0 && breaker.failure_ratio <= 1.0) {
        c.error(
            &path.key("failure_ratio"),
            format!(
                "must be more than 0 and at most 1, got {}",
                breaker.failure_ratio
            ),
        );
    }
    c.at_least_one(&path.key("min_calls"), breaker.min_calls.into());
    c.more_than_zero(&path.key("window"), breaker.window);
    c.more_than_zero(&path.key("cool_down"), breaker.cool_down);
    breaker
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

    #[test]
    fn one_trailing_newline_is_dropped() {
        assert_eq!(without_newline(b"key\n".to_vec()), b"key");
        assert_eq!(without_newline(b"key\r\n".to_vec()), b"key");
        assert_eq!(without_newline(b"key\n\n".to_vec()), b"key\n");
        assert_eq!(without_newline(b"key \t".to_vec()), b"key \t");
        assert_eq!(without_newline(b"\n".to_vec()), b"");
        assert_eq!(without_newline(b"a\rb".to_vec()), b"a\rb");
        assert_eq!(without_newline(Vec::new()), b"");
    }

    #[test]
    fn env_names() {
        assert!(is_env_name("JWT_HMAC_KEY"));
        assert!(is_env_name("_x1"));
        for bad in ["", "1X", "A=B", "A B", "A\0", "s3cr3t!"] {
            assert!(!is_env_name(bad), "{bad:?}");
        }
    }
}
