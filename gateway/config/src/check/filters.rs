//! Checks of the `filters` and `global_filters` sections (a filter's grants
//! are checked in `grants.rs`).

use std::collections::BTreeMap;
use std::time::Duration;

use super::checker::Checker;
use super::grants;
use crate::model::{CircuitBreaker, Filter, FilterLimits, Isolation, OnError};
use crate::parse::{ConfigPath, node_at, to_json};
use crate::schema::{CircuitBreakerFile, FilterFile, IsolationFile, OnErrorFile, Section};

/// The filters without errors, by name.
pub(super) fn filters(c: &mut Checker) -> BTreeMap<String, Filter> {
    let doc = c.doc;
    doc.filters
        .iter()
        .filter_map(|(path, name, file)| filter(c, path, name, file).map(|f| (name.clone(), f)))
        .collect()
}

fn filter(c: &mut Checker, path: &ConfigPath, name: &str, file: &FilterFile) -> Option<Filter> {
    let errors_before = c.errors.len();
    let l = file.limits.as_ref();
    let limits = FilterLimits {
        call_deadline: l
            .and_then(|l| l.call_deadline)
            .map_or(Duration::from_millis(100), |d| d.0),
        memory_bytes: l.and_then(|l| l.memory).map_or(64 << 20, |s| s.0 as usize),
        max_body_bytes: l
            .and_then(|l| l.max_body_bytes)
            .map_or(1 << 20, |s| s.0 as usize),
        recycle_after: l.and_then(|l| l.recycle_after).unwrap_or(10_000),
        max_idle_instances: l.and_then(|l| l.max_idle_instances).unwrap_or(64),
        max_concurrent_calls: l.and_then(|l| l.max_concurrent_calls).unwrap_or(100),
    };
    let limits_path = path.key("limits");
    c.more_than_zero(&limits_path.key("call_deadline"), limits.call_deadline);
    memory(c, &limits_path.key("memory"), limits.memory_bytes);
    c.at_least_one(
        &limits_path.key("recycle_after"),
        limits.recycle_after.into(),
    );
    c.at_least_one(
        &limits_path.key("max_concurrent_calls"),
        limits.max_concurrent_calls.into(),
    );
    let grants = grants::grants(c, &path.key("grants"), file.grants.as_ref());
    let circuit_breaker = circuit_breaker(
        c,
        &path.key("circuit_breaker"),
        file.circuit_breaker.as_ref(),
    );
    if file.module.trim().is_empty() {
        c.error(&path.key("module"), "module path is empty");
    }
    let config_json =
        node_at(&c.doc.root, &path.key("config")).map_or(serde_json::Value::Null, to_json);
    (c.errors.len() == errors_before).then(|| Filter {
        name: name.to_owned(),
        module: c.resolve(&file.module),
        config_json: config_json.to_string(),
        limits,
        on_error: match file.on_error.unwrap_or(OnErrorFile::FailClosed) {
            OnErrorFile::FailClosed => OnError::FailClosed,
            OnErrorFile::FailOpen => OnError::FailOpen,
        },
        isolation: match file.isolation.unwrap_or(IsolationFile::Pooled) {
            IsolationFile::Pooled => Isolation::Pooled,
            IsolationFile::Shared => Isolation::Shared,
            IsolationFile::PerRequest => Isolation::PerRequest,
        },
        grants,
        circuit_breaker,
    })
}

/// An instance's linear memory cap (`limits.memory` of filters and handlers).
pub(super) fn memory(c: &mut Checker, path: &ConfigPath, bytes: usize) {
    // Below 1MiB a Rust component cannot fit its default stack; 4GiB is the
    // whole wasm32 address space.
    if !((1 << 20)..=(4 << 30)).contains(&bytes) {
        c.error(
            path,
            format!("must be between 1MiB and 4GiB, got {bytes} bytes"),
        );
    }
}

/// A filter's or handler's `circuit_breaker`; absent is enabled with the
/// defaults.
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

/// The global chain as written. References are checked against every name
/// defined, even those whose definition has errors, so one mistake is
/// reported once.
pub(super) fn global_filters(c: &mut Checker) -> Vec<String> {
    let doc = c.doc;
    for (i, name) in doc.global_filters.iter().enumerate() {
        if !doc.filter_names.contains(name) {
            c.error(
                &ConfigPath::section(Section::GlobalFilters).index(i),
                format!("unknown filter {name:?}"),
            );
        }
    }
    doc.global_filters.clone()
}
