//! weir's configuration: one YAML file, parsed with line numbers, checked in
//! full (every error reported at once), and turned into a validated [`Config`].
//!
//! - `schema`: the file format (serde + JSON Schema types);
//! - `parse`: YAML to per-item file types, errors with paths and lines;
//! - `check`: defaults, validation, references, route order;
//! - `model`: the validated [`Config`] the rest of weir uses.
//!
//! `schema`, `model` and `check` have one submodule per section, named alike
//! (`schema/routes.rs`, `model/routes.rs`, `check/routes.rs`); the sections
//! themselves are listed once, in `schema::Section`.

mod check;
mod error;
mod model;
mod parse;
mod schema;
mod units;

pub use error::{ConfigError, ConfigErrors};
pub use model::*;
/// A YAML node as JSON, typed the way filter configs are (see `parse::to_json`).
pub use parse::to_json as yaml_to_json;

use std::path::Path;

/// Reads and checks the config file at `path`. Relative paths inside it
/// (filter and handler modules, certificates, the cache dir) are resolved
/// against the file's directory.
pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ConfigErrors(vec![ConfigError {
            path: "<document>".into(),
            line: None,
            message: format!("cannot read {}: {e}", path.display()),
        }])
    })?;
    let base_dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => std::env::current_dir().unwrap_or_default(),
    };
    parse(&text, &base_dir)
}

/// Checks config text; relative paths are resolved against `base_dir`.
pub fn parse(text: &str, base_dir: &Path) -> Result<Config, ConfigErrors> {
    let mut errors = Vec::new();
    let Some(doc) = parse::parse_document(text, &mut errors) else {
        return Err(ConfigErrors(errors));
    };
    check::check(&doc, base_dir, errors).map_err(ConfigErrors)
}

/// The line of the value at `keys` (e.g. `["filters", "auth", "grants"]`) in
/// config text, or of its nearest ancestor that exists: for errors found
/// after checking, such as a filter's `init` or its imports.
pub fn line_of(text: &str, keys: &[&str]) -> Option<usize> {
    let doc = parse::parse_document(text, &mut Vec::new())?;
    let path = keys
        .iter()
        .fold(parse::ConfigPath::default(), |path, key| path.key(key));
    parse::line_of(&doc.root, &path)
}

/// The JSON Schema of the config file (for editors and `weir schema`).
pub fn json_schema() -> serde_json::Value {
    schema::file_schema()
}
