//! Golden tests: each `golden/<name>.yaml` is checked and the result (the
//! `Debug` of the checked config, or the error list) compared with
//! `golden/<name>.out`. `WEIR_BLESS=1 cargo test -p weir-config` rewrites the
//! `.out` files; review the diff before committing it.

use std::path::{Path, PathBuf};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

fn bless() -> bool {
    std::env::var_os("WEIR_BLESS").is_some()
}

/// Relative paths resolve against the golden directory (secrets and granted
/// directories must exist: `golden/fixtures`); the output names it `<golden>`
/// so it is the same on every machine.
fn render(text: &str) -> String {
    let base = golden_dir();
    let stable = |out: String| out.replace(&base.display().to_string(), "<golden>");
    match weir_config::parse(text, &base) {
        Ok(config) => {
            let debug = stable(format!("{config:#?}\n"));
            if text.contains("threads:") {
                return debug;
            }
            // The default thread count is the machine's; the .out names it.
            let cpus = std::thread::available_parallelism().unwrap().get();
            assert_eq!(config.server.threads, cpus, "threads defaults to the CPUs");
            debug.replacen(
                &format!("threads: {cpus},"),
                "threads: <available_parallelism>,",
                1,
            )
        }
        Err(errors) => stable(format!("{errors}\n")),
    }
}

#[test]
fn golden_files() {
    let mut cases: Vec<PathBuf> = std::fs::read_dir(golden_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 7, "golden cases are missing");
    let mut mismatches = Vec::new();
    for case in &cases {
        let actual = render(&std::fs::read_to_string(case).unwrap());
        let expected_path = case.with_extension("out");
        if bless() {
            std::fs::write(&expected_path, &actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&expected_path).unwrap_or_default();
        if actual != expected {
            mismatches.push(format!("{}:\n{actual}", case.display()));
        }
    }
    assert!(
        mismatches.is_empty(),
        "golden mismatches (WEIR_BLESS=1 to accept):\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn shipped_configs_are_valid() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
    for name in ["demo.yaml", "gateway.yaml"] {
        if let Err(errors) = weir_config::load(&root.join(name)) {
            panic!("config/{name}:\n{errors}");
        }
    }
}

#[test]
fn committed_schema_matches_the_code() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/config.schema.json");
    let schema = serde_json::to_string_pretty(&weir_config::json_schema()).unwrap() + "\n";
    if bless() {
        std::fs::write(&path, &schema).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == schema,
        "docs/config.schema.json is stale: run WEIR_BLESS=1 cargo test -p weir-config"
    );
}

/// The example from the task description of the error format.
#[test]
fn reference_errors_and_their_lines() {
    let text = "\
listeners:
  - name: main
    address: 127.0.0.1:8080
routes:
  - match: { path: { prefix: / } }
    upstream: billing
  - match: { path: { regex: \"([\" } }
    respond: { status: 200 }
";
    let errors = weir_config::parse(text, Path::new("/etc/weir"))
        .unwrap_err()
        .0;
    let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(lines.len(), 2, "{lines:#?}");
    assert_eq!(
        lines[0],
        r#"routes[0].upstream (line 6): unknown upstream "billing""#
    );
    assert!(
        lines[1].starts_with("routes[1].match.path.regex (line 7): invalid regex: "),
        "{}",
        lines[1]
    );
}

#[test]
fn every_error_is_reported_with_its_line() {
    let text = std::fs::read_to_string(golden_dir().join("errors-many.yaml")).unwrap();
    let errors = weir_config::parse(&text, Path::new("/etc/weir"))
        .unwrap_err()
        .0;
    assert!(errors.len() >= 6, "{errors:?}");
    assert!(errors.iter().all(|e| e.line.is_some()), "{errors:?}");
    let mut lines: Vec<usize> = errors.iter().filter_map(|e| e.line).collect();
    let sorted = {
        let mut s = lines.clone();
        s.sort();
        s
    };
    assert_eq!(lines, sorted, "errors come in file order");
    lines.dedup();
    assert!(lines.len() >= 5, "errors from several places: {errors:?}");
}

/// Secrets are read, trimmed of one newline, and never shown: not in the
/// checked config's Debug, not in an error (a Redis password neither).
#[test]
fn secret_values_are_read_and_never_shown() {
    let dir = golden_dir();
    let text = std::fs::read_to_string(dir.join("capabilities.yaml")).unwrap();
    let config = weir_config::parse(&text, &dir).unwrap();
    assert_eq!(config.secrets["from_file"].value.0, b"golden-test-key");
    assert_eq!(config.secrets["from_env"].value.0, b"weir-config");
    let debug = format!("{config:?}{config:#?}");
    for value in ["golden-test-key", "weir-config", "hunter2"] {
        assert!(!debug.contains(value), "{value} in Debug");
    }
    let text = std::fs::read_to_string(dir.join("errors-capabilities.yaml")).unwrap();
    let errors = weir_config::parse(&text, &dir).unwrap_err();
    assert!(errors.0.iter().all(|e| e.line.is_some()), "{errors}");
    let shown = format!("{errors}{errors:?}");
    for value in ["hunter2", "s3cr3t"] {
        assert!(!shown.contains(value), "{value} in {shown}");
    }
}
