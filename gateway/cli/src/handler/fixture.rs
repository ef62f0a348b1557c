//! The fixture file of `weir handler test` (YAML or JSON): requests to send
//! to a handler and the responses they must get. The request and the
//! expected response are written as in `weir filter test`'s fixtures
//! (`crate::filter::fixture`); unknown fields are errors.
//!
//! ```yaml
//! handler:
//!   module: build/hello.wasm      # relative to this file
//!   env: { GREETING: hi }         # the handler's environment
//! cases:
//!   - name: greets
//!     env: { GREETING: hello }    # this case's environment, over `handler.env`
//!     request: { method: POST, path: /x?y=1, headers: { a: b }, body: "..." }
//!     expect: { status: 200, headers: { x-a: b }, body: "...\n" }
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::bail;
use serde::Deserialize;

use crate::filter::fixture::{Message, Request, parse, relative_to};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandlerFixtureFile {
    /// The handler to test when the command line names none.
    pub handler: Option<HandlerUnderTest>,
    pub cases: Vec<Case>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct HandlerUnderTest {
    /// The component, relative to the fixture file.
    pub module: Option<PathBuf>,
    /// Environment variables of every case.
    pub env: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    /// Environment variables of this case, over the handler's.
    #[serde(default)]
    pub env: BTreeMap<String, String>,
    #[serde(default)]
    pub request: Request,
    /// The response: only what is written is checked.
    #[serde(default)]
    pub expect: Message,
}

/// Reads a fixture file; `${NAME}` in it is replaced by `vars[NAME]` first.
pub fn load(path: &Path, vars: &BTreeMap<String, String>) -> anyhow::Result<HandlerFixtureFile> {
    let (mut file, _): (HandlerFixtureFile, _) = parse(path, vars)?;
    if let Some(module) = file.handler.as_mut().and_then(|h| h.module.as_mut()) {
        *module = relative_to(path, module);
    }
    if file.cases.is_empty() {
        bail!("fixture file {} has no cases", path.display());
    }
    for case in &file.cases {
        // `Message` serves requests too: these fields are not a response's.
        let expect = &case.expect;
        for (field, set) in [
            ("method", expect.method.is_some()),
            ("path", expect.path.is_some()),
            ("query", expect.query.is_some()),
        ] {
            if set {
                bail!(
                    "{}: case {:?}: `expect.{field}` is not part of a response (status, headers, headers_absent, body, body_contains)",
                    path.display(),
                    case.name
                );
            }
        }
    }
    Ok(file)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(text: &str) -> anyhow::Result<HandlerFixtureFile> {
        let dir = std::env::temp_dir().join(format!(
            "weir-handler-fixture-{}-{}",
            std::process::id(),
            text.len()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fixtures.yaml");
        std::fs::write(&path, text).unwrap();
        let file = load(&path, &BTreeMap::new());
        std::fs::remove_dir_all(&dir).unwrap();
        file
    }

    #[test]
    fn the_template_format_reads_with_paths_relative_to_the_file() {
        let file = load_text(
            "handler:\n  module: build/x.wasm\n  env: { A: \"1\" }\ncases:\n\
             \x20 - name: one\n    env: { B: two }\n    request: { method: POST, path: /p, body: hi }\n\
             \x20   expect: { status: 200, headers: { x-a: b }, body: \"hi\" }\n",
        )
        .unwrap();
        let handler = file.handler.unwrap();
        assert!(handler.module.unwrap().ends_with("build/x.wasm"));
        assert_eq!(handler.env["A"], "1");
        let case = &file.cases[0];
        assert_eq!(case.env["B"], "two");
        assert_eq!(case.request.method, "POST");
        assert_eq!(case.expect.status, Some(200));
        assert_eq!(case.expect.body.as_deref(), Some("hi"));
    }

    #[test]
    fn request_fields_in_expect_and_typos_are_refused() {
        let err = load_text("cases:\n  - name: a\n    expect: { path: /x }\n").unwrap_err();
        assert!(err.to_string().contains("expect.path"), "{err:#}");
        let err = load_text("cases:\n  - name: a\n    expect: { stauts: 200 }\n").unwrap_err();
        assert!(format!("{err:#}").contains("stauts"), "{err:#}");
    }
}
