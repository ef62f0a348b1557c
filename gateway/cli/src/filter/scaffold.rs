//! `weir filter new NAME --lang L` and `weir handler new NAME --lang L`: a
//! project from templates built into the binary. A filter project: the
//! filter (a header setter), a build script, a README, request fixtures for
//! `weir filter test`, a weir config, and the WIT. A handler project: the
//! handler (a greeting), a build script, a README, request fixtures for
//! `weir handler test` and a weir config.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use clap::ValueEnum;

/// What a project builds: a filter (weir's filter world) or a handler (the
/// `wasi:http/proxy` world).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Filter,
    Handler,
}

impl Kind {
    /// "filter" or "handler": the command and the word in messages.
    pub fn word(self) -> &'static str {
        match self {
            Kind::Filter => "filter",
            Kind::Handler => "handler",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Lang {
    Rust,
    Js,
    Python,
    C,
    Go,
}

impl Lang {
    pub fn label(self) -> &'static str {
        match self {
            Lang::Rust => "Rust",
            Lang::Js => "JavaScript",
            Lang::Python => "Python",
            Lang::C => "C",
            Lang::Go => "Go",
        }
    }

    /// The SDK's directory in weir's repository: a filter's SDK, or the
    /// handlers' build scripts (whose parent holds the `Cargo.lock` a Rust
    /// handler starts from).
    fn sdk_dir(self, kind: Kind) -> &'static str {
        match (kind, self) {
            (Kind::Handler, _) => "filters/handler-build",
            (Kind::Filter, Lang::Rust) => "filters/sdk",
            (Kind::Filter, Lang::Js) => "filters/sdk-js",
            (Kind::Filter, Lang::Python) => "filters/sdk-python",
            (Kind::Filter, Lang::C) => "filters/sdk-c",
            (Kind::Filter, Lang::Go) => "filters/sdk-go",
        }
    }

    fn toolchain(self) -> &'static str {
        match self {
            Lang::Rust => {
                "Needs Rust with the `wasm32-wasip2` target (`rustup target add wasm32-wasip2`)."
            }
            Lang::Js | Lang::Python | Lang::C | Lang::Go => {
                "Needs the language's toolchain as weir installs it: `scripts/setup-languages.sh` in weir's repository."
            }
        }
    }

    /// (path in the project, template, executable).
    fn files(self, kind: Kind) -> anyhow::Result<Vec<(&'static str, &'static str, bool)>> {
        match kind {
            Kind::Filter => Ok(self.filter_files()),
            Kind::Handler => self.handler_files(),
        }
    }

    fn filter_files(self) -> Vec<(&'static str, &'static str, bool)> {
        let mut files = vec![
            (
                "README.md",
                include_str!("templates/common/README.md"),
                false,
            ),
            (
                "fixtures.yaml",
                include_str!("templates/common/fixtures.yaml"),
                false,
            ),
            (
                "weir.yaml",
                include_str!("templates/common/weir.yaml"),
                false,
            ),
            (
                ".gitignore",
                include_str!("templates/common/gitignore"),
                false,
            ),
            (
                "wit/filter.wit",
                include_str!("../../../../wit/filter.wit"),
                false,
            ),
        ];
        files.extend(match self {
            Lang::Rust => vec![
                (
                    "Cargo.toml",
                    include_str!("templates/rust/Cargo.toml"),
                    false,
                ),
                ("src/lib.rs", include_str!("templates/rust/lib.rs"), false),
                ("build.sh", include_str!("templates/rust/build.sh"), true),
            ],
            Lang::Js => vec![
                ("filter.js", include_str!("templates/js/filter.js"), false),
                (
                    "package.json",
                    include_str!("templates/js/package.json"),
                    false,
                ),
                ("build.sh", include_str!("templates/js/build.sh"), true),
            ],
            Lang::Python => vec![
                (
                    "filter.py",
                    include_str!("templates/python/filter.py"),
                    false,
                ),
                (
                    "pyproject.toml",
                    include_str!("templates/python/pyproject.toml"),
                    false,
                ),
                ("build.sh", include_str!("templates/python/build.sh"), true),
            ],
            Lang::C => vec![
                ("filter.c", include_str!("templates/c/filter.c"), false),
                ("build.sh", include_str!("templates/c/build.sh"), true),
            ],
            Lang::Go => vec![
                ("main.go", include_str!("templates/go/main.go"), false),
                ("build.sh", include_str!("templates/go/build.sh"), true),
            ],
        });
        files
    }

    fn handler_files(self) -> anyhow::Result<Vec<(&'static str, &'static str, bool)>> {
        let mut files = vec![
            (
                "README.md",
                include_str!("templates/handler-common/README.md"),
                false,
            ),
            (
                "fixtures.yaml",
                include_str!("templates/handler-common/fixtures.yaml"),
                false,
            ),
            (
                "weir.yaml",
                include_str!("templates/handler-common/weir.yaml"),
                false,
            ),
            (
                ".gitignore",
                include_str!("templates/handler-common/gitignore"),
                false,
            ),
        ];
        files.extend(match self {
            Lang::Rust => vec![
                (
                    "Cargo.toml",
                    include_str!("templates/handler-rust/Cargo.toml"),
                    false,
                ),
                (
                    "src/lib.rs",
                    include_str!("templates/handler-rust/lib.rs"),
                    false,
                ),
                (
                    "build.sh",
                    include_str!("templates/handler-rust/build.sh"),
                    true,
                ),
            ],
            Lang::Js => vec![
                (
                    "handler.js",
                    include_str!("templates/handler-js/handler.js"),
                    false,
                ),
                (
                    "package.json",
                    include_str!("templates/handler-js/package.json"),
                    false,
                ),
                (
                    "build.sh",
                    include_str!("templates/handler-js/build.sh"),
                    true,
                ),
            ],
            Lang::Python => vec![
                (
                    "handler.py",
                    include_str!("templates/handler-python/handler.py"),
                    false,
                ),
                (
                    "pyproject.toml",
                    include_str!("templates/handler-python/pyproject.toml"),
                    false,
                ),
                (
                    "build.sh",
                    include_str!("templates/handler-python/build.sh"),
                    true,
                ),
            ],
            Lang::Go => vec![
                (
                    "main.go",
                    include_str!("templates/handler-go/main.go"),
                    false,
                ),
                (
                    "build.sh",
                    include_str!("templates/handler-go/build.sh"),
                    true,
                ),
            ],
            Lang::C => bail!("there is no C template for handlers (rust, js, python, go)"),
        });
        Ok(files)
    }

    fn source(self, kind: Kind) -> &'static str {
        match (kind, self) {
            (_, Lang::Rust) => "`src/lib.rs`, `Cargo.toml`",
            (Kind::Filter, Lang::Js) => "`filter.js`, `package.json`",
            (Kind::Filter, Lang::Python) => "`filter.py`, `pyproject.toml`",
            (Kind::Handler, Lang::Js) => "`handler.js`, `package.json`",
            (Kind::Handler, Lang::Python) => "`handler.py`, `pyproject.toml`",
            (_, Lang::C) => "`filter.c`",
            (_, Lang::Go) => "`main.go`",
        }
    }
}

/// Where this weir was built from: the default home of the SDKs.
fn weir_repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Creates `dir` (which must not exist, or be empty) as a project named
/// after its last component.
pub fn new(dir: &Path, kind: Kind, lang: Lang, sdk_path: Option<&Path>) -> anyhow::Result<()> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("the project needs a name")?
        .to_owned();
    check_name(&name, kind)?;
    let files = lang.files(kind)?;
    if dir.exists() && dir.read_dir()?.next().is_some() {
        bail!("{} exists and is not empty", dir.display());
    }
    let sdk = match sdk_path {
        Some(path) => path.to_owned(),
        None => weir_repository().join(lang.sdk_dir(kind)),
    };
    let sdk = std::fs::canonicalize(&sdk).with_context(|| {
        let what = match kind {
            Kind::Filter => format!("{} SDK", lang.label()),
            Kind::Handler => "handler build".to_owned(),
        };
        format!(
            "weir's {what} is not at {}: pass --sdk-path (a checkout of weir's {})",
            sdk.display(),
            lang.sdk_dir(kind)
        )
    })?;
    let sdk = sdk.to_str().context("the SDK's path is not UTF-8")?;
    let fill = |text: &str| {
        text.replace("{{name}}", &name)
            .replace("{{crate}}", &name.replace('-', "_"))
            .replace("{{class}}", &class_name(&name))
            .replace("{{sdk}}", sdk)
            .replace("{{language}}", lang.label())
            .replace("{{toolchain}}", lang.toolchain())
            .replace("{{source}}", lang.source(kind))
    };
    for (path, template, executable) in files {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .with_context(|| format!("cannot create {}", parent.display()))?;
        }
        std::fs::write(&target, fill(template))
            .with_context(|| format!("cannot write {}", target.display()))?;
        if executable {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o755))?;
        }
    }
    if lang == Lang::Rust {
        // The versions weir's own filters and handlers are built and tested with.
        let lock = Path::new(sdk).join("../Cargo.lock");
        if lock.is_file() {
            std::fs::copy(&lock, dir.join("Cargo.lock"))?;
        }
    }
    let word = kind.word();
    println!("created {} ({} {word})", dir.display(), lang.label());
    println!(
        "next: cd {} && weir {word} build && weir {word} test",
        dir.display()
    );
    Ok(())
}

/// Lower-case letters, digits and dashes, starting with a letter: valid as
/// a crate, a package, a header and a filter or handler name alike.
fn check_name(name: &str, kind: Kind) -> anyhow::Result<()> {
    let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
        && !name.ends_with('-');
    if !ok {
        bail!(
            "{name:?}: a {}'s name is lower-case letters, digits and dashes, starting with a letter",
            kind.word()
        );
    }
    Ok(())
}

/// `rate-guard` -> `RateGuard`.
fn class_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut chars = part.chars();
            chars
                .next()
                .map(|c| c.to_ascii_uppercase().to_string() + chars.as_str())
                .unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_classes_and_bad_names_are_refused() {
        assert_eq!(class_name("rate-guard2"), "RateGuard2");
        assert!(check_name("demo-1", Kind::Filter).is_ok());
        for bad in ["Demo", "1demo", "de_mo", "demo-", ""] {
            assert!(check_name(bad, Kind::Handler).is_err(), "{bad}");
        }
    }
}
