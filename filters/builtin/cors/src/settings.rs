//! The filter's `config`, checked in full when weir loads it, into a
//! [`CorsPolicy`].

use serde::Deserialize;

use crate::origin::OriginPattern;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Settings {
    allow_origins: Vec<String>,
    #[serde(default = "default_methods")]
    allow_methods: Vec<String>,
    #[serde(default)]
    allow_headers: Vec<String>,
    #[serde(default)]
    expose_headers: Vec<String>,
    #[serde(default)]
    allow_credentials: bool,
    #[serde(default)]
    max_age: Option<u32>,
}

fn default_methods() -> Vec<String> {
    vec!["GET".into(), "HEAD".into(), "POST".into()]
}

/// A list that may be the wildcard `*`.
#[derive(Debug, PartialEq)]
pub enum Listed {
    Any,
    /// Normalized names (methods as written, headers lowercase).
    Only(Vec<String>),
}

pub struct CorsPolicy {
    pub origins: Vec<OriginPattern>,
    pub methods: Listed,
    pub headers: Listed,
    /// `Access-Control-Expose-Headers`, ready to send (or `None`).
    pub expose_headers: Option<String>,
    pub credentials: bool,
    pub max_age: Option<u32>,
}

impl CorsPolicy {
    pub fn load(config: &weir_filter_sdk::Config) -> Result<CorsPolicy, String> {
        let settings: Settings = config.deserialize()?;
        let origins = settings
            .allow_origins
            .iter()
            .enumerate()
            .map(|(i, o)| OriginPattern::parse(o).map_err(|e| format!("allow_origins[{i}]: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        if origins.is_empty() {
            return Err("config field \"allow_origins\" must list at least one origin".into());
        }
        let any_origin = origins.contains(&OriginPattern::Any);
        if any_origin && origins.len() > 1 {
            return Err("allow_origins: `*` already allows every origin; list it alone".into());
        }
        let methods = listed("allow_methods", &settings.allow_methods, normalize_method)?;
        let headers = listed("allow_headers", &settings.allow_headers, |h| {
            h.to_ascii_lowercase()
        })?;
        let expose = listed("expose_headers", &settings.expose_headers, |h| {
            h.to_ascii_lowercase()
        })?;
        // Fetch: with credentials, `*` is not a wildcard in any of these
        // headers, and browsers reject `Access-Control-Allow-Origin: *`.
        if settings.allow_credentials {
            for (field, wildcard) in [
                ("allow_origins", any_origin),
                ("allow_methods", methods == Listed::Any),
                ("allow_headers", headers == Listed::Any),
                ("expose_headers", expose == Listed::Any),
            ] {
                if wildcard {
                    return Err(format!(
                        "{field}: `*` cannot be used with allow_credentials (browsers refuse it); list the values"
                    ));
                }
            }
        }
        let expose_headers = match expose {
            Listed::Any => Some("*".to_owned()),
            Listed::Only(names) if names.is_empty() => None,
            Listed::Only(names) => Some(names.join(", ")),
        };
        Ok(CorsPolicy {
            origins,
            methods,
            headers,
            expose_headers,
            credentials: settings.allow_credentials,
            max_age: settings.max_age,
        })
    }
}

/// `["*"]` or a list of tokens (RFC 9110), each normalized.
fn listed(field: &str, values: &[String], normalize: fn(&str) -> String) -> Result<Listed, String> {
    if values.iter().any(|v| v == "*") {
        return if values.len() == 1 {
            Ok(Listed::Any)
        } else {
            Err(format!(
                "{field}: `*` stands for every value; list it alone"
            ))
        };
    }
    let mut names = Vec::with_capacity(values.len());
    for (i, value) in values.iter().enumerate() {
        if !is_token(value) {
            return Err(format!("{field}[{i}]: {value:?} is not a valid name"));
        }
        let name = normalize(value);
        if !names.contains(&name) {
            names.push(name);
        }
    }
    Ok(Listed::Only(names))
}

/// Fetch "normalizes" the six standard methods to uppercase; any other
/// method is case-sensitive (`patch` is not `PATCH`).
pub fn normalize_method(method: &str) -> String {
    const STANDARD: [&str; 6] = ["DELETE", "GET", "HEAD", "OPTIONS", "POST", "PUT"];
    match STANDARD.iter().find(|m| m.eq_ignore_ascii_case(method)) {
        Some(standard) => (*standard).to_owned(),
        None => method.to_owned(),
    }
}

pub fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
