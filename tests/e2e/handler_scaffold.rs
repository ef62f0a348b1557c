//! `weir handler new`, `weir handler build`, `weir handler test` as a user
//! runs them: a Rust project scaffolded into a temporary directory outside
//! the repository builds (offline), passes its own fixtures, and fails with
//! a diff once a fixture expects something else; the other languages'
//! scaffolds build where their toolchains are installed.

use std::path::Path;
use std::process::{Command, Output};

use weir_tests::{weir_bin, workspace_root};

/// `weir <args>` in `dir`, Rust builds offline into a target directory kept
/// across runs.
fn weir_in(dir: &Path, args: &[&str]) -> Output {
    Command::new(weir_bin())
        .args(["--log-level", "warn"])
        .args(args)
        .current_dir(dir)
        .env(
            "CARGO_TARGET_DIR",
            workspace_root().join("target/weir-e2e-handler-scaffold"),
        )
        .env("CARGO_NET_OFFLINE", "true")
        .output()
        .expect("running weir")
}

/// The same, panicking with the output when it fails.
fn weir_ok(dir: &Path, args: &[&str]) -> Output {
    let out = weir_in(dir, args);
    assert!(
        out.status.success(),
        "weir {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn cache_dir() -> String {
    workspace_root()
        .join("target/weir-e2e-filter-cache")
        .display()
        .to_string()
}

#[test]
fn a_new_rust_handler_builds_and_passes_its_fixtures_and_a_wrong_one_fails() {
    let parent = tempfile::tempdir().unwrap();
    weir_ok(
        parent.path(),
        &["handler", "new", "hello-handler", "--lang", "rust"],
    );
    let project = parent.path().join("hello-handler");
    for file in [
        "Cargo.toml",
        "Cargo.lock",
        "src/lib.rs",
        "build.sh",
        "README.md",
        "fixtures.yaml",
        "weir.yaml",
        ".gitignore",
    ] {
        assert!(project.join(file).is_file(), "{file} was not created");
    }
    let lib = std::fs::read_to_string(project.join("src/lib.rs")).unwrap();
    assert!(
        lib.contains("struct HelloHandler;") && !lib.contains("{{"),
        "{lib}"
    );

    weir_ok(&project, &["handler", "build"]);
    assert!(project.join("build/hello-handler.wasm").is_file());

    let out = weir_ok(&project, &["handler", "test", "--cache-dir", &cache_dir()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("  ok    greets\n"), "{stdout}");
    assert!(
        stdout.contains("fixtures.yaml: 2 passed, 0 failed"),
        "{stdout}"
    );

    // --env sets the environment of every case (a case's own `env` wins).
    let out = weir_in(
        &project,
        &[
            "handler",
            "test",
            "--env",
            "GREETING=howdy\n",
            "--cache-dir",
            &cache_dir(),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("    body\n      expected: \"hello from hello-handler\\n\"\n      actual:   \"howdy\\n\"\n"),
        "{stdout}"
    );
    assert!(stdout.contains(": 1 passed, 1 failed"), "{stdout}");

    // A fixture expecting another body fails, naming the field.
    let fixtures = project.join("fixtures.yaml");
    let text = std::fs::read_to_string(&fixtures).unwrap();
    let wrong = text.replace(
        "body: \"hello from hello-handler\\n\"",
        "body: \"goodbye\\n\"",
    );
    assert_ne!(text, wrong, "the template's fixture changed:\n{text}");
    std::fs::write(&fixtures, wrong).unwrap();
    let out = weir_in(&project, &["handler", "test", "--cache-dir", &cache_dir()]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("  FAIL  greets\n"), "{stdout}");
    assert!(
        stdout.contains("    body\n      expected: \"goodbye\\n\"\n      actual:   \"hello from hello-handler\\n\"\n"),
        "{stdout}"
    );
    assert!(stdout.contains(": 1 passed, 1 failed"), "{stdout}");
}

#[test]
fn handler_commands_refuse_what_is_not_a_handler_project() {
    let dir = tempfile::tempdir().unwrap();
    let out = weir_in(dir.path(), &["handler", "build"]);
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("is not a handler project") && stderr.contains("weir handler new"),
        "{stderr}"
    );
    // C has filters, not handlers.
    let out = weir_in(dir.path(), &["handler", "new", "x", "--lang", "c"]);
    assert!(!out.status.success());
    let out = weir_in(
        dir.path(),
        &["handler", "new", "Bad_Name", "--lang", "rust"],
    );
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("a handler's name"), "{stderr}");
}

/// What each language's handler build needs, as `scripts/setup-languages.sh`
/// installs it (the build scripts in filters/handler-build check the same).
fn toolchain_installed(lang: &str) -> bool {
    let tools = workspace_root().join("filters/.toolchains");
    let needs: &[&str] = match lang {
        "js" => &[
            "js/node_modules/@bytecodealliance/componentize-js",
            "js/node_modules/rolldown",
        ],
        "python" => &["python/bin/componentize-py"],
        "go" => &[
            "wit-bindgen/bin/wit-bindgen",
            "wasm/bin/wasm-tools",
            "wasm/bin/go",
            "go-pkg/go.mod",
            "adapter/wasi_snapshot_preview1.reactor.wasm",
        ],
        _ => unreachable!("{lang}"),
    };
    needs.iter().all(|path| tools.join(path).exists())
}

/// JavaScript, Python and Go scaffolds build with weir's handler build, for
/// each language whose toolchain is installed (1 to 15 s each). Go's also
/// runs its fixtures; JavaScript and Python components take 15 s each to
/// compile, which `weir handler test` would do for every fresh build.
#[test]
fn new_handlers_in_other_languages_build() {
    let parent = tempfile::tempdir().unwrap();
    for lang in ["js", "python", "go"] {
        if !toolchain_installed(lang) {
            eprintln!(
                "skipped {lang}: its toolchain is not installed (scripts/setup-languages.sh)"
            );
            continue;
        }
        let name = format!("hello-{lang}");
        weir_ok(parent.path(), &["handler", "new", &name, "--lang", lang]);
        let project = parent.path().join(&name);
        weir_ok(&project, &["handler", "build"]);
        assert!(
            project.join(format!("build/{name}.wasm")).is_file(),
            "{lang}"
        );
        if lang == "go" {
            let out = weir_ok(&project, &["handler", "test", "--cache-dir", &cache_dir()]);
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                stdout.contains("fixtures.yaml: 2 passed, 0 failed"),
                "{lang}: {stdout}"
            );
        }
    }
}
