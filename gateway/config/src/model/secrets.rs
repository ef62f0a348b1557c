//! The validated `secrets` section.

use std::path::PathBuf;

/// A named value read at check time. `Debug` shows its length only.
#[derive(Clone, PartialEq, Debug)]
pub struct Secret {
    pub name: String,
    pub source: SecretSource,
    pub value: SecretValue,
}

#[derive(Debug, Clone, PartialEq)]
pub enum SecretSource {
    /// The environment variable's name.
    Env(String),
    /// The resolved path.
    File(PathBuf),
}

/// The bytes of a secret (a file's without one trailing newline).
/// Debug prints `SecretValue(<N bytes>)`, never the bytes.
#[derive(Clone, PartialEq)]
pub struct SecretValue(pub Vec<u8>);

impl std::fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretValue(<{} bytes>)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_values_are_never_debug_printed() {
        let secret = Secret {
            name: "k".into(),
            source: SecretSource::Env("K".into()),
            value: SecretValue(b"hunter2".to_vec()),
        };
        let debug = format!("{secret:?} {secret:#?}");
        assert!(!debug.contains("hunter2"), "{debug}");
        assert!(!debug.contains("104, 117"), "no byte list either: {debug}");
        assert!(debug.contains("SecretValue(<7 bytes>)"), "{debug}");
    }
}
