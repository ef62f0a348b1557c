//! The state every section's checks share: the document, and the errors and
//! warnings found so far, each with its line.

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::error::ConfigError;
use crate::parse::{ConfigPath, Document, error_at, line_of};

/// Collects errors with lines looked up in the document.
pub(super) struct Checker<'a> {
    pub(super) doc: &'a Document,
    pub(super) base_dir: &'a Path,
    pub(super) errors: Vec<ConfigError>,
    /// Problems that do not refuse the config (a certificate expiring soon).
    pub(super) warnings: Vec<ConfigError>,
}

impl Checker<'_> {
    pub(super) fn error(&mut self, path: &ConfigPath, message: impl AsRef<str>) {
        let line = line_of(&self.doc.root, path);
        self.errors.push(error_at(path, line, message.as_ref()));
    }

    pub(super) fn warning(&mut self, path: &ConfigPath, message: impl AsRef<str>) {
        let line = line_of(&self.doc.root, path);
        self.warnings.push(error_at(path, line, message.as_ref()));
    }

    /// Counts and thresholds, where 0 would silently disable something.
    pub(super) fn at_least_one(&mut self, path: &ConfigPath, value: u64) {
        if value == 0 {
            self.error(path, "must be at least 1, got 0");
        }
    }

    /// Timeouts and deadlines, where 0 would fail every request.
    pub(super) fn more_than_zero(&mut self, path: &ConfigPath, value: Duration) {
        if value.is_zero() {
            self.error(path, "must be more than 0, got 0s");
        }
    }

    pub(super) fn resolve(&self, file: &str) -> PathBuf {
        let path = Path::new(file);
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.base_dir.join(path)
        }
    }
}
