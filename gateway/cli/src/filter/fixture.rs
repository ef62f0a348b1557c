//! The fixture file of `weir filter test` (YAML or JSON): requests to run
//! through a filter or a chain, what the upstream answers, and what must
//! come out. The format is documented in docs/filter-cli.md; unknown fields
//! are errors so a typo never turns into a check that silently passes.
//! `weir handler test` reads its own file with `parse`, and shares the
//! request and the expected message (`Request`, `Message`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FixtureFile {
    /// The filter to test when the command line names none.
    pub filter: Option<FilterUnderTest>,
    pub cases: Vec<Case>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilterUnderTest {
    /// The component, relative to the fixture file.
    pub module: PathBuf,
    /// The filter's config, written as in weir's config file.
    #[serde(default)]
    pub config: Option<serde_json::Value>,
    /// Key-value stores to grant (in memory, empty at each case).
    #[serde(default)]
    pub kv: Vec<String>,
    #[serde(default)]
    pub secrets: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub name: String,
    #[serde(default)]
    pub request: Request,
    /// The canned upstream response; a 200 with no headers and no body when absent.
    #[serde(default)]
    pub upstream: Upstream,
    /// Key-value entries present before the request, by store, then key.
    #[serde(default)]
    pub kv: BTreeMap<String, BTreeMap<String, String>>,
    #[serde(default)]
    pub expect: Expect,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Request {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub headers: BTreeMap<String, String>,
    pub body: String,
    pub client_ip: String,
}

impl Default for Request {
    fn default() -> Self {
        Request {
            method: "GET".into(),
            path: "/".into(),
            query: None,
            headers: BTreeMap::new(),
            body: String::new(),
            client_ip: "127.0.0.1".into(),
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Upstream {
    pub status: u16,
    pub headers: BTreeMap<String, String>,
    pub body: String,
}

impl Default for Upstream {
    fn default() -> Self {
        Upstream {
            status: 200,
            headers: BTreeMap::new(),
            body: String::new(),
        }
    }
}

/// How the request ended, as far as the chain is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// The upstream's response reached the client (perhaps edited).
    Continue,
    /// A filter answered instead of the upstream.
    Respond,
    /// A fail-closed filter failed: weir answered 503.
    Fail,
}

impl std::fmt::Display for DecisionKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DecisionKind::Continue => "continue",
            DecisionKind::Respond => "respond",
            DecisionKind::Fail => "fail",
        })
    }
}

/// Everything is optional: only what is written is checked.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Expect {
    pub decision: Option<DecisionKind>,
    /// The request as the upstream would receive it (after the request phases).
    pub upstream_request: Option<Message>,
    /// The response as the client would receive it.
    pub response: Option<Message>,
    /// Context values at the end of the request.
    pub context: BTreeMap<String, String>,
    pub context_absent: Vec<String>,
}

/// Expected parts of a request or a response.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Message {
    /// Responses only.
    pub status: Option<u16>,
    /// Requests only.
    pub method: Option<String>,
    pub path: Option<String>,
    pub query: Option<String>,
    /// Each header must be present with this value (several values: joined by ", ").
    pub headers: BTreeMap<String, String>,
    pub headers_absent: Vec<String>,
    pub body: Option<String>,
    pub body_contains: Option<String>,
}

/// Reads a fixture file; `${NAME}` in it is replaced by `vars[NAME]` first
/// (`$$` is a literal `$`), so one file can serve several builds of a filter.
pub fn load(path: &Path, vars: &BTreeMap<String, String>) -> anyhow::Result<FixtureFile> {
    let (mut file, text): (FixtureFile, _) = parse(path, vars)?;
    if !is_json(path) {
        // serde sees YAML scalars as strings; a filter's config is typed as
        // in weir's config file (`limit: 5` is a number).
        if let Some(filter) = &mut file.filter
            && filter.config.is_some()
        {
            // Quoted scalars stay strings ("7" is not 7), as in weir's config.
            let options = marked_yaml::LoaderOptions::default().prevent_coercion(true);
            filter.config = marked_yaml::parse_yaml_with_options(0, &text, options)
                .ok()
                .and_then(|root| {
                    root.as_mapping()?
                        .get_mapping("filter")?
                        .get_node("config")
                        .map(weir_config::yaml_to_json)
                });
        }
    }
    if let Some(filter) = &mut file.filter {
        filter.module = relative_to(path, &filter.module);
    }
    if file.cases.is_empty() {
        bail!("fixture file {} has no cases", path.display());
    }
    Ok(file)
}

/// Reads a fixture file of any shape (`weir filter test`'s, `weir handler
/// test`'s): `${NAME}` replaced, then YAML, or JSON when the name ends in
/// `.json`. Returns the text parsed too.
pub fn parse<T: serde::de::DeserializeOwned>(
    path: &Path,
    vars: &BTreeMap<String, String>,
) -> anyhow::Result<(T, String)> {
    let raw = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read fixture file {}", path.display()))?;
    let text = substitute(&raw, vars).with_context(|| format!("in {}", path.display()))?;
    let file = if is_json(path) {
        serde_json::from_str(&text)
            .with_context(|| format!("invalid fixture file {}", path.display()))?
    } else {
        marked_yaml::from_yaml(0, &text)
            .map_err(|e| anyhow::anyhow!("{e}"))
            .with_context(|| format!("invalid fixture file {}", path.display()))?
    };
    Ok((file, text))
}

fn is_json(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("json"))
}

/// A path in a fixture file: relative to the file's directory.
pub fn relative_to(fixtures: &Path, path: &Path) -> PathBuf {
    if path.is_relative() {
        fixtures.parent().unwrap_or(Path::new(".")).join(path)
    } else {
        path.to_owned()
    }
}

fn substitute(text: &str, vars: &BTreeMap<String, String>) -> anyhow::Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(open) = after.strip_prefix('{') {
            let Some(close) = open.find('}') else {
                bail!("unclosed ${{ in the fixture file");
            };
            let name = &open[..close];
            let Some(value) = vars.get(name) else {
                bail!("the fixture file uses ${{{name}}}: pass --var {name}=VALUE");
            };
            out.push_str(value);
            rest = &open[close + 1..];
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variables_are_replaced_and_unknown_ones_refused() {
        let vars = BTreeMap::from([("lang".to_owned(), "rust".to_owned())]);
        assert_eq!(substitute("a ${lang} $$ $x", &vars).unwrap(), "a rust $ $x");
        assert!(substitute("${nope}", &vars).is_err());
    }

    #[test]
    fn a_filter_config_is_typed_as_in_weirs_config() {
        let dir = std::env::temp_dir().join(format!("weir-fixture-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fixtures.yaml");
        let text = "filter:\n  module: f.wasm\n  config: { limit: 5, name: x, on: true, id: \"7\" }\ncases:\n  - name: a\n    request: {}\n    expect: {}\n";
        std::fs::write(&path, text).unwrap();
        let file = load(&path, &BTreeMap::new()).unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(
            file.filter.unwrap().config.unwrap(),
            serde_json::json!({ "limit": 5, "name": "x", "on": true, "id": "7" })
        );
    }

    #[test]
    fn unknown_fields_are_refused() {
        let text = "cases:\n  - name: a\n    expect:\n      decison: continue\n";
        let err = marked_yaml::from_yaml::<FixtureFile>(0, text).unwrap_err();
        assert!(err.to_string().contains("decison"), "{err}");
    }
}
