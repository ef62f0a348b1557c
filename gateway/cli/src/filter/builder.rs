//! `weir filter build` and `weir handler build`: build the project in a
//! directory into `build/<name>.wasm`. The language is told by the
//! project's files: Rust through cargo, the others (JavaScript, Python, C,
//! Go) through the project's `build.sh`, which calls the language SDK's (or
//! weir's handler) build script.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use super::scaffold::{Kind, Lang};

/// Which language a project is written in, from the files it has.
pub fn detect(dir: &Path, kind: Kind) -> anyhow::Result<Lang> {
    let has = |file: &str| dir.join(file).is_file();
    if has("Cargo.toml") {
        Ok(Lang::Rust)
    } else if has("package.json") {
        Ok(Lang::Js)
    } else if has("pyproject.toml") || has("filter.py") || has("handler.py") {
        Ok(Lang::Python)
    } else if has("go.mod") || has("main.go") {
        Ok(Lang::Go)
    } else if has("filter.c") && kind == Kind::Filter {
        Ok(Lang::C)
    } else {
        let word = kind.word();
        let files = match kind {
            Kind::Filter => "Cargo.toml, package.json, pyproject.toml, main.go or filter.c",
            Kind::Handler => "Cargo.toml, package.json, pyproject.toml or main.go",
        };
        bail!(
            "{} is not a {word} project: no {files} (`weir {word} new` creates one)",
            dir.display()
        )
    }
}

/// Builds the project; returns the component's path.
pub fn build(dir: &Path, kind: Kind) -> anyhow::Result<PathBuf> {
    let lang = detect(dir, kind)?;
    println!(
        "building {} ({} {})",
        dir.display(),
        lang.label(),
        kind.word()
    );
    match lang {
        Lang::Rust => build_rust(dir),
        Lang::Js | Lang::Python | Lang::C | Lang::Go => {
            let script = dir.join("build.sh");
            if !script.is_file() {
                bail!(
                    "{} is missing (`weir {} new` writes one)",
                    script.display(),
                    kind.word()
                );
            }
            run(Command::new(&script).current_dir(dir))?;
            let name = dir_name(dir)?;
            built(dir.join("build").join(format!("{name}.wasm")))
        }
    }
}

fn build_rust(dir: &Path) -> anyhow::Result<PathBuf> {
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml"))?;
    let name = package_name(&manifest).context("Cargo.toml has no [package] name")?;
    // Cargo's own rule: CARGO_TARGET_DIR (relative to the project), else target/.
    let target_dir = dir.join(std::env::var_os("CARGO_TARGET_DIR").unwrap_or("target".into()));
    run(Command::new("cargo")
        .args([
            "build",
            "--release",
            "--target",
            "wasm32-wasip2",
            "--target-dir",
        ])
        .arg(&target_dir)
        .current_dir(dir))?;
    let component = target_dir
        .join("wasm32-wasip2/release")
        .join(format!("{}.wasm", name.replace('-', "_")));
    let out = dir.join("build").join(format!("{name}.wasm"));
    std::fs::create_dir_all(dir.join("build"))?;
    std::fs::copy(&component, &out).with_context(|| {
        format!(
            "cannot copy {} (is the crate a cdylib?)",
            component.display()
        )
    })?;
    built(out)
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("cannot run {:?}", command.get_program()))?;
    if !status.success() {
        bail!("the build failed ({status})");
    }
    Ok(())
}

fn built(path: PathBuf) -> anyhow::Result<PathBuf> {
    let size = std::fs::metadata(&path)
        .with_context(|| format!("the build did not produce {}", path.display()))?
        .len();
    println!("built {} ({size} bytes)", path.display());
    Ok(path)
}

fn dir_name(dir: &Path) -> anyhow::Result<String> {
    let dir = std::fs::canonicalize(dir)?;
    Ok(dir
        .file_name()
        .and_then(|n| n.to_str())
        .context("the project directory has no name")?
        .to_owned())
}

/// `name = "..."` under `[package]`.
fn package_name(manifest: &str) -> Option<String> {
    let mut in_package = false;
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_package = line == "[package]";
        } else if in_package && let Some(value) = line.strip_prefix("name") {
            let value = value.trim_start().strip_prefix('=')?.trim();
            return Some(value.trim_matches('"').to_owned());
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_package_name_is_read_from_its_section_only() {
        let manifest =
            "[workspace]\nname = \"no\"\n[package]\nversion = \"1\"\nname = \"demo-x\"\n";
        assert_eq!(package_name(manifest).as_deref(), Some("demo-x"));
        assert_eq!(package_name("[lib]\nname = \"x\"\n"), None);
    }
}
