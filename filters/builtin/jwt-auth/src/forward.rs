//! Copying verified claims into request headers and the request context.

use serde_json::{Map, Value};
use weir_filter_sdk::{Request, context, log};

use crate::settings::ForwardSettings;

pub struct Forwarding {
    rules: Vec<Rule>,
}

struct Rule {
    claim: String,
    header: Option<String>,
    context: Option<String>,
}

impl Forwarding {
    pub fn new(settings: Vec<ForwardSettings>) -> Result<Forwarding, String> {
        let mut rules = Vec::with_capacity(settings.len());
        for (index, rule) in settings.into_iter().enumerate() {
            let at = format!("forward[{index}]");
            if rule.claim.is_empty() {
                return Err(format!("{at}.claim must not be empty"));
            }
            if rule.header.is_none() && rule.context.is_none() {
                return Err(format!("{at} needs `header`, `context` or both"));
            }
            if let Some(header) = &rule.header
                && !is_header_name(header)
            {
                return Err(format!("{at}.header {header:?} is not a valid header name"));
            }
            if rule.context.as_deref() == Some("") {
                return Err(format!("{at}.context must not be empty"));
            }
            rules.push(Rule {
                claim: rule.claim,
                header: rule.header.map(|h| h.to_ascii_lowercase()),
                context: rule.context,
            });
        }
        Ok(Forwarding { rules })
    }

    /// Sets the forwarded headers and context keys from the verified
    /// claims. A header whose claim the token lacks is removed: upstream,
    /// these headers only ever hold a verified claim, never a client's copy.
    /// (Refused requests never reach the upstream, so they need no cleanup.)
    pub fn apply(&self, req: &Request, claims: &Map<String, Value>) {
        for rule in &self.rules {
            let value = claims.get(&rule.claim).and_then(claim_text);
            if let Some(header) = &rule.header {
                match &value {
                    Some(value) => {
                        // Replaces every value the client sent.
                        if let Err(error) = req.set_header(header, value.as_bytes()) {
                            // A claim with CR or LF cannot be a header value.
                            req.remove_header(header);
                            log::info(&format!("claim {:?} not forwarded: {error}", rule.claim));
                        }
                    }
                    None => req.remove_header(header),
                }
            }
            if let (Some(key), Some(value)) = (&rule.context, &value) {
                context::set(key, value);
            }
        }
    }
}

/// A claim as text: strings as they are, numbers and booleans printed,
/// arrays of those joined with commas (e.g. roles), anything else as JSON.
fn claim_text(value: &Value) -> Option<String> {
    match value {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        Value::Number(_) | Value::Bool(_) => Some(value.to_string()),
        Value::Array(items) if items.iter().all(is_scalar) => Some(
            items
                .iter()
                .map(|item| match item {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
                .collect::<Vec<_>>()
                .join(","),
        ),
        other => Some(other.to_string()),
    }
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

/// RFC 9110 token characters.
fn is_header_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
