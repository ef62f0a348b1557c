//! `weir check`: the config checks plus each filter's `init`, all errors at once.

use std::path::Path;

use serde_json::json;
use weir_config::ConfigError;
use weir_wasm::{HostOptions, WasmHost};

use crate::OutputFormat;

pub fn check(path: &Path, format: OutputFormat) -> anyhow::Result<bool> {
    let errors = match weir_config::load(path) {
        Err(errors) => errors.0,
        Ok(config) => filter_errors(&config)?,
    };
    match format {
        OutputFormat::Json => {
            let out = json!({ "valid": errors.is_empty(), "errors": errors });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        OutputFormat::Text if errors.is_empty() => println!("{}: ok", path.display()),
        OutputFormat::Text => {
            for error in &errors {
                println!("{error}");
            }
            println!("{}: {} error(s)", path.display(), errors.len());
        }
    }
    Ok(errors.is_empty())
}

/// Loads every filter as a reload would (compile, link, `init` with its
/// config), so a filter that refuses its config fails the check.
fn filter_errors(config: &weir_config::Config) -> anyhow::Result<Vec<ConfigError>> {
    if config.filters.is_empty() {
        return Ok(Vec::new());
    }
    let host = WasmHost::new(HostOptions {
        cache_dir: config.server.cache_dir.clone(),
        ..HostOptions::default()
    })?;
    // Stores are not connected to: a check must not depend on Redis being
    // up. Each granted store is a fresh in-memory one, which is all `init`
    // may rely on (a store can always be down).
    let mut errors = Vec::new();
    for filter in config.filters.values() {
        let spec = weir_proxy::snapshot::filter_spec(filter, config, |_| {
            Some(weir_kv::Store::memory(1024))
        });
        if let Err(err) = host.block_on(host.load_filter(spec, None)) {
            errors.push(ConfigError {
                path: format!("filters.{}", filter.name),
                line: None,
                message: err.to_string(),
            });
        }
    }
    Ok(errors)
}
