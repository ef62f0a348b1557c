//! The filter's config as written in weir's config file, checked and
//! compiled into [`Rule`]s once, when the filter starts.

use std::collections::BTreeMap;

use regex::Regex;
use serde::Deserialize;

use crate::replacement;
use crate::rules::{Prefix, QueryEdit, Redirect, RegexRewrite, Rule};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    rules: Vec<RuleSettings>,
}

/// One rule: a mapping with exactly one of these keys.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum RuleSettings {
    Prefix(PrefixSettings),
    Regex(RegexSettings),
    Query(QuerySettings),
    Redirect(RedirectSettings),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PrefixSettings {
    from: String,
    #[serde(default = "root")]
    to: String,
}

fn root() -> String {
    "/".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RegexSettings {
    pattern: String,
    replacement: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct QuerySettings {
    #[serde(default)]
    set: BTreeMap<String, String>,
    #[serde(default)]
    remove: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RedirectSettings {
    pattern: String,
    location: String,
    #[serde(default = "found")]
    status: u16,
    #[serde(default = "yes")]
    keep_query: bool,
}

fn found() -> u16 {
    302
}

fn yes() -> bool {
    true
}

impl Settings {
    pub fn compile(self) -> Result<Vec<Rule>, String> {
        if self.rules.is_empty() {
            return Err("`rules` is empty: give at least one rule".into());
        }
        self.rules
            .into_iter()
            .enumerate()
            .map(|(index, rule)| rule.compile().map_err(|e| format!("rules[{index}]: {e}")))
            .collect()
    }
}

impl RuleSettings {
    fn compile(self) -> Result<Rule, String> {
        Ok(match self {
            RuleSettings::Prefix(p) => {
                for (field, path) in [("from", &p.from), ("to", &p.to)] {
                    if !path.starts_with('/') {
                        return Err(format!("prefix.{field}: {path:?} must start with `/`"));
                    }
                }
                Rule::Prefix(Prefix {
                    from: p.from.trim_end_matches('/').to_owned(),
                    to: p.to.trim_end_matches('/').to_owned(),
                })
            }
            RuleSettings::Regex(r) => {
                let pattern = compile(&r.pattern, "regex.pattern")?;
                replacement::check(&r.replacement, &pattern)
                    .map_err(|e| format!("regex.replacement: {e}"))?;
                Rule::Regex(RegexRewrite {
                    pattern,
                    replacement: r.replacement,
                })
            }
            RuleSettings::Query(q) => {
                if q.set.is_empty() && q.remove.is_empty() {
                    return Err("query: give `set` or `remove`".into());
                }
                if let Some(name) = q.remove.iter().find(|name| q.set.contains_key(*name)) {
                    return Err(format!("query: {name:?} is both set and removed"));
                }
                Rule::Query(QueryEdit {
                    set: q.set.into_iter().collect(),
                    remove: q.remove,
                })
            }
            RuleSettings::Redirect(r) => {
                if ![301, 302, 307, 308].contains(&r.status) {
                    return Err(format!(
                        "redirect.status: {} is not a redirect status (301, 302, 307 or 308)",
                        r.status
                    ));
                }
                if r.location.is_empty() || r.location.contains(char::is_control) {
                    return Err(
                        "redirect.location: must be non-empty, without control characters".into(),
                    );
                }
                let pattern = compile(&r.pattern, "redirect.pattern")?;
                replacement::check(&r.location, &pattern)
                    .map_err(|e| format!("redirect.location: {e}"))?;
                Rule::Redirect(Redirect {
                    pattern,
                    location: r.location,
                    status: r.status,
                    keep_query: r.keep_query,
                })
            }
        })
    }
}

fn compile(pattern: &str, field: &str) -> Result<Regex, String> {
    // The regex crate's error spans several lines (the pattern, a caret);
    // keep it whole, weir check prints it as given.
    Regex::new(pattern).map_err(|e| format!("{field}: invalid regex: {e}"))
}
