//! Builds the Rust filter components the tests load (the `filters/` cargo
//! workspace, target wasm32-wasip2) and names each one with a generated
//! constant, `$OUT_DIR/filters.rs`, which `src/lib.rs` includes as
//! `weir_tests::filters`: a component that does not build fails this build,
//! not a test at run time.
//!
//! The components of `scripts/build-language-filters.sh` (JavaScript, Python,
//! C, Go) need toolchains this build does not assume: they are not built
//! here, and only those present get a constant.
//!
//! The nested build always uses `filters/target`, whatever the outer build's
//! target directory: scripts and configs load the components from there (see
//! `scripts/build-filters.sh`). It runs only when something it reads changed
//! (the `cargo:rerun-if-changed` lines below).
//!
//! Past 400 lines because a nested cargo must be shielded from every variable
//! the outer build sets, and must rerun exactly when a filter's sources change:
//! both are spelled out here rather than left to chance.

use std::collections::{BTreeMap, BTreeSet};
use std::env;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::Value;

const WASM_TARGET: &str = "wasm32-wasip2";

/// Environment variables of this build that a nested cargo (or the rustc it
/// runs) would read: the outer build's wrappers (clippy), flags, profile
/// overrides, target and target directory, and the variables cargo sets for
/// build scripts. Left in place: what the nested build should share, such as
/// `CARGO_HOME`, the network and terminal settings, `RUSTUP_TOOLCHAIN`, and
/// `CARGO_MAKEFLAGS` (the jobserver, so that both builds share `-j`).
const CLEARED: &[&str] = &[
    "RUSTC_WRAPPER",
    "RUSTC_WORKSPACE_WRAPPER",
    "RUSTC_LINKER",
    "RUSTFLAGS",
    "RUSTDOCFLAGS",
    "CARGO_ENCODED_RUSTFLAGS",
    "CARGO_ENCODED_RUSTDOCFLAGS",
    "CARGO_INCREMENTAL",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_CRATE_NAME",
    "CARGO_BIN_NAME",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
    "TARGET",
    "HOST",
    "NUM_JOBS",
    "OPT_LEVEL",
    "DEBUG",
    "PROFILE",
];

/// Prefixes of cleared variables: cargo's configuration for a build
/// (`CARGO_BUILD_*`, including `CARGO_BUILD_TARGET`; `CARGO_TARGET_*`,
/// including `CARGO_TARGET_DIR` and per-target rustflags, linkers and
/// runners; `CARGO_PROFILE_*`; `CARGO_UNSTABLE_*`), what cargo sets for this
/// build script (`CARGO_CFG_*`, `CARGO_FEATURE_*`, `CARGO_PKG_*`,
/// `CARGO_MANIFEST_*`, `DEP_*`), clippy's (`CLIPPY_ARGS`, `CLIPPY_CONF_DIR`)
/// and cargo's internal ones (`__CARGO_FIX_PLZ` and the like).
const CLEARED_PREFIXES: &[&str] = &[
    "CARGO_BUILD_",
    "CARGO_TARGET_",
    "CARGO_PROFILE_",
    "CARGO_UNSTABLE_",
    "CARGO_CFG_",
    "CARGO_FEATURE_",
    "CARGO_PKG_",
    "CARGO_MANIFEST_",
    "DEP_",
    "CLIPPY_",
    "__CARGO_",
];

/// A Rust filter component: a cdylib of the filters workspace.
struct Component {
    /// The package name, such as `test-noop`.
    package: String,
    /// Its directory, relative to the repository root (for the docs).
    dir: String,
    /// The built component, `filters/target/wasm32-wasip2/release/<lib>.wasm`.
    wasm: PathBuf,
}

fn main() {
    let manifest_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("CARGO_MANIFEST_DIR"));
    let root = manifest_dir
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf();
    let filters = root.join("filters");
    let target_dir = filters.join("target");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let manifest = filters.join("Cargo.toml");

    let mut watched = Watched::default();
    let components = rust_components(&cargo, &filters, &manifest, &target_dir, &mut watched);
    watch_sources(&root, &filters, &mut watched);
    check_wasm_target(&filters);

    let build_args: Vec<OsString> = vec![
        "build".into(),
        "--release".into(),
        "--target".into(),
        WASM_TARGET.into(),
        "--manifest-path".into(),
        manifest.clone().into(),
        "--target-dir".into(),
        target_dir.clone().into(),
    ];
    let command_line = format!(
        "cargo {}",
        build_args
            .iter()
            .map(|a| a.to_string_lossy())
            .collect::<Vec<_>>()
            .join(" ")
    );
    let started = Instant::now();
    let status = nested(&cargo, &filters)
        .args(&build_args)
        // cargo reads `cargo:` lines from this script's stdout: the nested
        // build's output goes to stderr, shown when this build fails.
        .stdout(Stdio::from(std::io::stderr()))
        .status()
        .unwrap_or_else(|e| panic!("running `{command_line}`: {e}"));
    assert!(
        status.success(),
        "`{command_line}` failed ({status}): the filter components did not build, see its output above"
    );
    // Kept in this build script's output file (target/<profile>/build/weir-tests-*/output).
    println!(
        "weir-tests: `{command_line}` took {:.1} s",
        started.elapsed().as_secs_f64()
    );

    for component in &components {
        assert!(
            component.wasm.is_file(),
            "{} not found after `{command_line}`",
            component.wasm.display()
        );
        watch_dep_info(&root, &filters, &component.wasm, &mut watched);
    }
    watched.emit(&root);

    let generated = generate(&root, &components);
    fs::write(out_dir.join("filters.rs"), generated).expect("writing $OUT_DIR/filters.rs");
}

/// A command for the nested build: in `filters/` (so that its
/// `.cargo/config.toml` applies), without this build's variables.
fn nested(program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
    let mut cmd = Command::new(program);
    cmd.current_dir(dir);
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        if CLEARED.contains(&key) || CLEARED_PREFIXES.iter().any(|p| key.starts_with(p)) {
            cmd.env_remove(key);
        }
    }
    cmd
}

/// Fails the build with what to do when the standard library for
/// wasm32-wasip2 is not installed: the rustc of the nested build would fail
/// with a less direct message.
fn check_wasm_target(filters: &Path) {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let libdir = nested(&rustc, filters)
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    assert!(
        libdir.is_some_and(|dir| dir.is_dir()),
        "the Rust target {WASM_TARGET} is not installed (the filter components the tests load are built for it): \
         run `rustup target add {WASM_TARGET}`"
    );
}

/// The cdylib targets of the filters workspace, from `cargo metadata`.
fn rust_components(
    cargo: &OsString,
    filters: &Path,
    manifest: &Path,
    target_dir: &Path,
    watched: &mut Watched,
) -> Vec<Component> {
    let output = nested(cargo, filters)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--manifest-path",
        ])
        .arg(manifest)
        .stderr(Stdio::inherit())
        .output()
        .unwrap_or_else(|e| panic!("running `cargo metadata` for {}: {e}", manifest.display()));
    assert!(
        output.status.success(),
        "`cargo metadata --format-version 1 --no-deps --manifest-path {}` failed ({})",
        manifest.display(),
        output.status
    );
    let metadata: Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    let root = filters.parent().expect("filters/ has a parent");
    let release = target_dir.join(WASM_TARGET).join("release");
    let mut components = Vec::new();
    for package in metadata["packages"].as_array().expect("metadata packages") {
        let name = package["name"].as_str().expect("package name");
        let manifest_path = Path::new(package["manifest_path"].as_str().expect("manifest_path"));
        let dir = manifest_path.parent().expect("a manifest has a directory");
        for target in package["targets"].as_array().expect("package targets") {
            let cdylib = target["crate_types"]
                .as_array()
                .expect("crate_types")
                .iter()
                .any(|t| t == "cdylib");
            if !cdylib {
                continue;
            }
            let lib = target["name"]
                .as_str()
                .expect("target name")
                .replace('-', "_");
            components.push(Component {
                package: name.to_owned(),
                dir: dir.strip_prefix(root).unwrap_or(dir).display().to_string(),
                wasm: release.join(format!("{lib}.wasm")),
            });
        }
        // Every member's sources: a change in the SDK rebuilds the filters too.
        assert!(
            dir != filters,
            "{}: a package at the root of the filters workspace would make its target directory a source",
            manifest_path.display()
        );
        watched.add(dir);
    }
    assert!(
        !components.is_empty(),
        "cargo metadata lists no cdylib in {}",
        manifest.display()
    );
    components
}

/// Watches what the nested build reads besides the members' directories
/// (done in `rust_components`): the workspace's
/// manifest, lock file and cargo configuration, the directories its member
/// globs cover (a new member), and the WIT the SDK binds. Also the language
/// components' directory and the script naming them (see `generate`).
fn watch_sources(root: &Path, filters: &Path, watched: &mut Watched) {
    for file in ["Cargo.toml", "Cargo.lock", ".cargo/config.toml"] {
        let path = filters.join(file);
        // A missing path would count as changed on every build.
        if path.exists() {
            watched.add(&path);
        }
    }
    for dir in member_glob_dirs(&filters.join("Cargo.toml")) {
        let path = filters.join(dir);
        if path.is_dir() {
            watched.add(&path);
        }
    }
    // filters/sdk/src/lib.rs: `wit_bindgen::generate!({ path: "../../wit", .. })`.
    // (Any other file a component includes is found in its dep-info, see
    // `watch_dep_info`.)
    watched.add(&root.join("wit"));

    watched.add(&language_script(root));
    let languages = languages_dir(root);
    if !languages.is_dir() {
        fs::create_dir_all(&languages)
            .unwrap_or_else(|e| panic!("creating {}: {e}", languages.display()));
        // Created now, its modification time would count as a change on the
        // next build: backdate it to its recipe's.
        let recipe = fs::metadata(language_script(root))
            .and_then(|m| m.modified())
            .expect("scripts/build-language-filters.sh has a modification time");
        fs::File::open(&languages)
            .and_then(|dir| dir.set_modified(recipe))
            .unwrap_or_else(|e| panic!("backdating {}: {e}", languages.display()));
    }
    // A component built, rebuilt or removed, or filters/target removed.
    watched.add(&languages);
}

/// The directories of the `members` globs (`"builtin/*"` -> `builtin`) of
/// the workspace manifest: a new member there changes the set of components.
/// A plain reading of the `members = [...]` array, enough for this manifest.
fn member_glob_dirs(manifest: &Path) -> Vec<String> {
    let text = fs::read_to_string(manifest)
        .unwrap_or_else(|e| panic!("reading {}: {e}", manifest.display()));
    let Some(start) = text.find("\nmembers") else {
        return Vec::new();
    };
    let rest = &text[start..];
    let (Some(open), Some(close)) = (rest.find('['), rest.find(']')) else {
        return Vec::new();
    };
    rest[open + 1..close]
        .split(',')
        .filter_map(|entry| {
            entry
                .trim()
                .trim_matches('"')
                .strip_suffix("/*")
                .map(str::to_owned)
        })
        .collect()
}

/// Watches the files of the repository that a component's dep-info
/// (`<component>.d`, written by cargo beside it) lists outside the
/// directories already watched: files a member includes from
/// elsewhere, such as the WIT. Dependencies from the registry never change.
fn watch_dep_info(root: &Path, filters: &Path, wasm: &Path, watched: &mut Watched) {
    let dep_info = wasm.with_extension("d");
    let Ok(contents) = fs::read_to_string(&dep_info) else {
        return;
    };
    let target = filters.join("target");
    for line in contents.lines() {
        let Some((_, deps)) = line.split_once(": ") else {
            continue;
        };
        let mut parts = deps.split_whitespace();
        while let Some(part) = parts.next() {
            // A space in a path is escaped as `\ `.
            let mut file = part.to_owned();
            while file.ends_with('\\') {
                file.pop();
                file.push(' ');
                file.push_str(parts.next().unwrap_or_default());
            }
            let path = Path::new(&file);
            if path.starts_with(root) && !path.starts_with(&target) {
                watched.add(path);
            }
        }
    }
}

/// The paths of `cargo:rerun-if-changed`: this script runs again (and the
/// nested build with it) only when one of them changed. A directory counts
/// as changed when anything in it did.
#[derive(Default)]
struct Watched(BTreeSet<PathBuf>);

impl Watched {
    fn add(&mut self, path: &Path) {
        if !self.0.iter().any(|dir| path.starts_with(dir)) {
            self.0.retain(|inside| !inside.starts_with(path));
            self.0.insert(path.to_owned());
        }
    }

    /// Paths under the checkout relative to this package (cargo resolves
    /// them against the package being built), so that a target directory
    /// shared by several checkouts watches each one's own files.
    fn emit(&self, root: &Path) {
        println!("cargo:rerun-if-changed=build.rs");
        for path in &self.0 {
            match path.strip_prefix(root) {
                Ok(relative) => println!("cargo:rerun-if-changed=../{}", relative.display()),
                Err(_) => println!("cargo:rerun-if-changed={}", path.display()),
            }
        }
    }
}

fn language_script(root: &Path) -> PathBuf {
    root.join("scripts/build-language-filters.sh")
}

fn languages_dir(root: &Path) -> PathBuf {
    root.join("filters/target/languages")
}

/// The names of the components `scripts/build-language-filters.sh` builds,
/// from its `filters=(...)` table ("name language directory" per line).
fn language_names(root: &Path) -> Vec<String> {
    let script = language_script(root);
    let text =
        fs::read_to_string(&script).unwrap_or_else(|e| panic!("reading {}: {e}", script.display()));
    let names: Vec<String> = text
        .lines()
        .skip_while(|line| line.trim() != "filters=(")
        .skip(1)
        .take_while(|line| line.trim() != ")")
        .filter_map(|line| {
            let entry = line.trim().strip_prefix('"')?;
            entry.split_whitespace().next().map(str::to_owned)
        })
        .collect();
    assert!(
        !names.is_empty(),
        "{}: found no `filters=(` table of \"name language directory\" lines",
        script.display()
    );
    names
}

fn constant_name(name: &str) -> String {
    name.to_uppercase().replace('-', "_")
}

fn utf8(path: &Path) -> &str {
    path.to_str()
        .unwrap_or_else(|| panic!("{} is not UTF-8", path.display()))
}

/// A path under the checkout's root as a constant expression that names
/// the checkout being compiled.
fn in_checkout(root: &Path, path: &Path) -> String {
    let relative = path
        .strip_prefix(root)
        .unwrap_or_else(|_| panic!("{} is outside {}", path.display(), root.display()));
    format!(
        "concat!(env!(\"CARGO_MANIFEST_DIR\"), \"/../\", {:?})",
        utf8(relative)
    )
}

/// `$OUT_DIR/filters.rs`.
fn generate(root: &Path, components: &[Component]) -> String {
    let mut names = BTreeMap::new();
    let mut unique = |constant: &str, what: &str| {
        if let Some(other) = names.insert(constant.to_owned(), what.to_owned()) {
            panic!("{what} and {other} would both be `{constant}`");
        }
    };
    let mut code = String::from(
        "// Generated by tests/build.rs: the filter components the tests load, as\n\
         // absolute paths under this checkout (`CARGO_MANIFEST_DIR`, read when\n\
         // the crate compiles, so a target directory shared by several\n\
         // checkouts never points one at another's components).\n\n",
    );
    for c in components {
        let constant = constant_name(&c.package);
        unique(&constant, &c.dir);
        writeln!(
            code,
            "/// `{}` (Rust), built by tests/build.rs.\npub const {constant}: &str = {};",
            c.dir,
            in_checkout(root, &c.wasm)
        )
        .unwrap();
    }

    code.push_str(
        "\n// The components of scripts/build-language-filters.sh (not built by\n\
         // tests/build.rs: they need the toolchains of scripts/setup-languages.sh).\n\
         // Only those present when weir-tests was compiled have a constant: a test\n\
         // naming a missing one does not compile; run the script, then build again.\n",
    );
    let languages = languages_dir(root);
    let mut table = String::new();
    for name in language_names(root) {
        let constant = constant_name(&name);
        let wasm = languages.join(format!("{name}.wasm"));
        unique(&constant, &format!("{name} (build-language-filters.sh)"));
        if wasm.is_file() {
            writeln!(
                code,
                "/// `{name}`, built by scripts/build-language-filters.sh.\npub const {constant}: &str = {};",
                in_checkout(root, &wasm)
            )
            .unwrap();
            writeln!(table, "    ({name:?}, Some({constant})),").unwrap();
        } else {
            writeln!(
                code,
                "// {constant}: not built ({} missing).",
                wasm.display()
            )
            .unwrap();
            writeln!(table, "    ({name:?}, None),").unwrap();
        }
    }
    write!(
        code,
        "\n/// Every component of scripts/build-language-filters.sh, with its path if it\n\
         /// was built when weir-tests was compiled.\n\
         pub const LANGUAGE_FILTERS: &[(&str, Option<&str>)] = &[\n{table}];\n"
    )
    .unwrap();
    code
}
