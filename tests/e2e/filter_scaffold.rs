//! `weir filter new`, `weir filter build`, `weir filter test` as a user runs
//! them: a Rust project scaffolded into a temporary directory outside the
//! repository builds, passes its own fixtures, and then runs through a real
//! weir in front of a real upstream.

use std::path::Path;
use std::process::{Command, Output};

use weir_tests::{Gateway, Upstream, client, weir_bin, workspace_root};

use crate::config;

/// `weir <args>` in `dir`; panics with its output when it fails.
fn weir_in(dir: &Path, args: &[&str]) -> Output {
    let out = Command::new(weir_bin())
        .args(["--log-level", "warn"])
        .args(args)
        .current_dir(dir)
        // Dependencies built once for every run of this test.
        .env(
            "CARGO_TARGET_DIR",
            workspace_root().join("target/weir-e2e-scaffold"),
        )
        .output()
        .expect("running weir");
    assert!(
        out.status.success(),
        "weir {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_rust_filter_builds_tests_and_runs_through_weir() {
    let parent = tempfile::tempdir().unwrap();
    weir_in(parent.path(), &["filter", "new", "demo", "--lang", "rust"]);
    let project = parent.path().join("demo");
    for file in [
        "Cargo.toml",
        "src/lib.rs",
        "build.sh",
        "README.md",
        "fixtures.yaml",
        "weir.yaml",
        "wit/filter.wit",
    ] {
        assert!(project.join(file).is_file(), "{file} was not created");
    }
    weir_in(&project, &["filter", "build"]);
    let component = project.join("build/demo.wasm");
    assert!(component.is_file());

    let out = weir_in(&project, &["filter", "test"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("fixtures.yaml: 1 passed, 0 failed"),
        "{stdout}"
    );

    // The same component, through the gateway.
    let upstream = Upstream::start("app").await;
    let gw = Gateway::start(&config(&format!(
        "upstreams:\n  app:\n    targets: [{{ address: \"{}\" }}]\n\
         filters:\n  demo:\n    module: {}\n    config: {{ greeting: hi there }}\n\
         routes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: app\n    filters: [demo]\n",
        upstream.address(),
        component.display(),
    )));
    let resp = client().get(gw.url("/x")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-demo"], "hi there");
    let body: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(
        body["headers"]["x-demo"],
        serde_json::json!(["hi there"]),
        "{body}"
    );
}

/// A project without a recognisable language is refused with a hint.
#[test]
fn build_outside_a_project_says_what_is_missing() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(weir_bin())
        .args(["filter", "build"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not a filter project") && stderr.contains("weir filter new"),
        "{stderr}"
    );
}

/// Every other language's scaffold builds with its SDK and passes its own
/// fixtures (the toolchains come from scripts/setup-languages.sh).
#[test]
fn new_filters_in_every_other_language_build_and_pass_their_fixtures() {
    let parent = tempfile::tempdir().unwrap();
    for lang in ["js", "python", "c", "go"] {
        let name = format!("demo-{lang}");
        weir_in(parent.path(), &["filter", "new", &name, "--lang", lang]);
        let project = parent.path().join(&name);
        weir_in(&project, &["filter", "build"]);
        assert!(
            project.join(format!("build/{name}.wasm")).is_file(),
            "{lang}"
        );
        let out = weir_in(
            &project,
            &[
                "filter",
                "test",
                "--cache-dir",
                workspace_root()
                    .join("target/weir-e2e-filter-cache")
                    .to_str()
                    .unwrap(),
            ],
        );
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            stdout.contains("fixtures.yaml: 1 passed, 0 failed"),
            "{lang}: {stdout}"
        );
    }
}
