//! The compiled rules and what each does to a request.

use regex::Regex;
use weir_filter_sdk::{Decision, Request, log, respond};

use crate::query;

pub enum Rule {
    Prefix(Prefix),
    Regex(RegexRewrite),
    Query(QueryEdit),
    Redirect(Redirect),
}

/// Replaces a leading path prefix, matched on whole segments.
pub struct Prefix {
    /// Without a trailing `/` (`/` itself becomes empty).
    pub from: String,
    /// Without a trailing `/`; empty strips the prefix.
    pub to: String,
}

pub struct RegexRewrite {
    pub pattern: Regex,
    pub replacement: String,
}

pub struct QueryEdit {
    pub set: Vec<(String, String)>,
    pub remove: Vec<String>,
}

pub struct Redirect {
    pub pattern: Regex,
    pub location: String,
    pub status: u16,
    pub keep_query: bool,
}

/// The path and query as the rules so far left them.
pub struct Target {
    pub path: String,
    pub query: Option<String>,
}

/// Runs `rules` in order over `target`; a matching redirect answers at once.
pub fn run(rules: &[Rule], target: &mut Target) -> Option<Decision> {
    for rule in rules {
        match rule {
            Rule::Prefix(prefix) => {
                if let Some(path) = prefix.apply(&target.path) {
                    target.path = path;
                }
            }
            Rule::Regex(rewrite) => {
                if rewrite.pattern.is_match(&target.path) {
                    let path = rewrite
                        .pattern
                        .replace(&target.path, rewrite.replacement.as_str())
                        .into_owned();
                    target.path = if path.starts_with('/') {
                        path
                    } else {
                        format!("/{path}")
                    };
                }
            }
            Rule::Query(edit) => {
                target.query = query::edit(target.query.as_deref(), &edit.set, &edit.remove);
            }
            Rule::Redirect(redirect) => {
                if let Some(decision) = redirect.answer(target) {
                    return Some(decision);
                }
            }
        }
    }
    None
}

impl Prefix {
    fn apply(&self, path: &str) -> Option<String> {
        let rest = path.strip_prefix(self.from.as_str())?;
        // Whole segments only: `/api` matches `/api` and `/api/x`, not `/apix`.
        if !(rest.is_empty() || rest.starts_with('/')) {
            return None;
        }
        let path = format!("{}{rest}", self.to);
        Some(if path.is_empty() { "/".into() } else { path })
    }
}

impl Redirect {
    fn answer(&self, target: &Target) -> Option<Decision> {
        let captures = self.pattern.captures(&target.path)?;
        let mut location = String::new();
        captures.expand(&self.location, &mut location);
        if let Some(query) = target.query.as_deref().filter(|_| self.keep_query) {
            location.push(if location.contains('?') { '&' } else { '?' });
            location.push_str(query);
        }
        if location.contains(char::is_control) {
            // Not reachable from a parsed request line, but a Location must
            // never carry a line break: leave this request to the next rule.
            log::warn("redirect skipped: its Location would contain a control character");
            return None;
        }
        Some(respond(self.status).header("location", location).into())
    }
}

/// Sends the rewritten path and query upstream, where they changed.
pub fn write_back(req: &Request, original: &Target, target: Target) {
    if target.path != original.path
        && let Err(refused) = req.set_path(&target.path)
    {
        log::warn(&format!(
            "path left as it was: weir refused {:?}: {refused}",
            target.path
        ));
    }
    if target.query != original.query
        && let Err(refused) = req.set_query(target.query.as_deref())
    {
        log::warn(&format!("query left as it was: weir refused it: {refused}"));
    }
}
