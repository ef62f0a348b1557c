//! Checks of the `secrets` section. Secrets are read here, so a config that
//! checks has every value it grants.

use std::collections::BTreeMap;

use super::checker::Checker;
use crate::model::{Secret, SecretSource, SecretValue};

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

#[cfg(test)]
mod tests {
    use super::*;

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
