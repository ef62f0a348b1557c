//! `weir check`: the config checks plus each filter's `init`, all errors at once.

use std::path::Path;

use serde_json::json;
use weir_config::ConfigError;
use weir_wasm::{HostOptions, LoadError, WasmHost};

use crate::OutputFormat;

pub fn check(path: &Path, format: OutputFormat) -> anyhow::Result<bool> {
    // Warnings (a certificate expiring soon) do not fail the check.
    let (errors, warnings) = match weir_config::load(path) {
        Err(errors) => (errors.0, Vec::new()),
        Ok(config) => {
            let text = std::fs::read_to_string(path).unwrap_or_default();
            (filter_errors(&config, &text)?, config.warnings.clone())
        }
    };
    match format {
        OutputFormat::Json => {
            let out = json!({ "valid": errors.is_empty(), "errors": errors, "warnings": warnings });
            println!("{}", serde_json::to_string_pretty(&out)?);
        }
        OutputFormat::Text => {
            for warning in &warnings {
                println!("warning: {warning}");
            }
            for error in &errors {
                println!("{error}");
            }
            match (errors.len(), warnings.len()) {
                (0, 0) => println!("{}: ok", path.display()),
                (0, w) => println!("{}: ok, {w} warning(s)", path.display()),
                (e, _) => println!("{}: {e} error(s)", path.display()),
            }
        }
    }
    Ok(errors.is_empty())
}

/// Loads every filter and handler as a reload would (compile, check its
/// imports against its grants, link; a filter's `init` with its config, a
/// handler's first instance), so one that refuses its config or imports
/// what it was not granted fails the check. Each error points at the part
/// of the entry it is about.
fn filter_errors(config: &weir_config::Config, text: &str) -> anyhow::Result<Vec<ConfigError>> {
    if config.filters.is_empty() && config.handlers.is_empty() {
        return Ok(Vec::new());
    }
    let host = WasmHost::new(HostOptions {
        cache_dir: config.server.cache_dir.clone(),
        max_instances: config.server.max_filter_instances,
        ..HostOptions::default()
    })?;
    // Stores are not connected to: a check must not depend on Redis being
    // up. Each granted store is a fresh in-memory one, which is all `init`
    // may rely on (a store can always be down).
    let memory_store = |_: &str| Some(weir_kv::Store::memory(1024));
    let mut errors = Vec::new();
    for filter in config.filters.values() {
        let spec = weir_proxy::snapshot::filter_spec(filter, config, memory_store);
        if let Err(err) = host.block_on(host.load_filter(spec, None)) {
            errors.push(load_error(text, "filters", &filter.name, &err));
        }
    }
    for handler in config.handlers.values() {
        let spec = weir_proxy::snapshot::handler_spec(handler, config, memory_store);
        if let Err(err) = host.block_on(host.load_handler(spec, None)) {
            errors.push(load_error(text, "handlers", &handler.name, &err));
        }
    }
    Ok(errors)
}

/// A load error, at the field of the entry it is about.
fn load_error(text: &str, section: &str, name: &str, err: &LoadError) -> ConfigError {
    let field = match err {
        LoadError::InitRejected(_) => Some("config"),
        LoadError::NotGranted { .. } | LoadError::Capability { .. } => Some("grants"),
        LoadError::Read { .. }
        | LoadError::Compile { .. }
        | LoadError::Link { .. }
        | LoadError::NotAHandler { .. } => Some("module"),
        _ => None,
    };
    let keys: Vec<&str> = [section, name].into_iter().chain(field).collect();
    ConfigError {
        path: keys.join("."),
        line: weir_config::line_of(text, &keys),
        message: err.to_string(),
    }
}
