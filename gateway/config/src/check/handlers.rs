//! Checks of the `handlers` section. Grants, the memory cap and the circuit
//! breaker are checked as the filters' are.

use std::collections::BTreeMap;

use super::checker::Checker;
use super::filters::{circuit_breaker, memory};
use super::grants;
use crate::model::{Handler, HandlerLimits};
use crate::parse::ConfigPath;
use crate::schema::HandlerFile;

/// The handlers without errors, by name.
pub(super) fn handlers(c: &mut Checker) -> BTreeMap<String, Handler> {
    let doc = c.doc;
    doc.handlers
        .iter()
        .filter_map(|(path, name, file)| handler(c, path, name, file).map(|h| (name.clone(), h)))
        .collect()
}

fn handler(c: &mut Checker, path: &ConfigPath, name: &str, file: &HandlerFile) -> Option<Handler> {
    let errors_before = c.errors.len();
    let l = file.limits.as_ref();
    let defaults = HandlerLimits::default();
    let limits = HandlerLimits {
        deadline: l
            .and_then(|l| l.deadline)
            .map_or(defaults.deadline, |d| d.0),
        stream_timeout: l
            .and_then(|l| l.stream_timeout)
            .map_or(defaults.stream_timeout, |d| d.0),
        memory_bytes: l
            .and_then(|l| l.memory)
            .map_or(defaults.memory_bytes, |s| s.0 as usize),
        max_concurrent_requests: l
            .and_then(|l| l.max_concurrent_requests)
            .unwrap_or(defaults.max_concurrent_requests),
    };
    let limits_path = path.key("limits");
    c.more_than_zero(&limits_path.key("deadline"), limits.deadline);
    c.more_than_zero(&limits_path.key("stream_timeout"), limits.stream_timeout);
    // A zero `stream_timeout` has its error above.
    if !limits.stream_timeout.is_zero() && limits.stream_timeout < limits.deadline {
        c.error(
            &limits_path.key("stream_timeout"),
            format!(
                "must be at least `deadline` ({}), got {}",
                humantime::format_duration(limits.deadline),
                humantime::format_duration(limits.stream_timeout)
            ),
        );
    }
    memory(c, &limits_path.key("memory"), limits.memory_bytes);
    c.at_least_one(
        &limits_path.key("max_concurrent_requests"),
        limits.max_concurrent_requests.into(),
    );
    let env = file.env.as_ref().map_or_else(Vec::new, |env| {
        env.iter()
            .map(|(var, value)| {
                environment_variable(c, &path.key("env").key(var), var, value);
                (var.clone(), value.clone())
            })
            .collect()
    });
    let grants = grants::grants(c, &path.key("grants"), file.grants.as_ref());
    let circuit_breaker = circuit_breaker(
        c,
        &path.key("circuit_breaker"),
        file.circuit_breaker.as_ref(),
    );
    if file.module.trim().is_empty() {
        c.error(&path.key("module"), "module path is empty");
    }
    (c.errors.len() == errors_before).then(|| Handler {
        name: name.to_owned(),
        module: c.resolve(&file.module),
        env,
        limits,
        grants,
        circuit_breaker,
    })
}

/// A variable the component sees: what an environment can hold, nothing
/// stricter (a component may read any name).
fn environment_variable(c: &mut Checker, path: &ConfigPath, name: &str, value: &str) {
    if name.is_empty() {
        c.error(path, "environment variable name is empty");
    } else if name.contains(['=', '\0']) {
        c.error(
            path,
            format!("invalid environment variable name {name:?}: it contains `=` or NUL"),
        );
    }
    if value.contains('\0') {
        c.error(
            path,
            format!("the value of environment variable {name:?} contains NUL"),
        );
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// A NUL in a name is refused (the golden files stay free of NUL bytes).
    #[test]
    fn environment_names_and_values() {
        // YAML's `\0` escape: a NUL in a name and in a value.
        let text = r#"
listeners: [{ name: main, address: 127.0.0.1:8080 }]
handlers:
  h:
    module: h.wasm
    env: { "A\0B": x, "C=D": y, E: "\0", F: "ok=fine" }
"#;
        let errors = crate::parse(text, Path::new("/etc/weir")).unwrap_err().0;
        let messages: Vec<&str> = errors.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(
            messages,
            [
                r#"invalid environment variable name "A\0B": it contains `=` or NUL"#,
                r#"invalid environment variable name "C=D": it contains `=` or NUL"#,
                r#"the value of environment variable "E" contains NUL"#,
            ],
        );
        assert!(errors.iter().all(|e| e.line == Some(6)), "{errors:?}");
    }
}
