//! Header value templates: literal text with `${...}` variables, parsed once
//! when the filter starts and rendered for each request without re-parsing.
//!
//! Variables: `${ctx.KEY}`, `${client_ip}`, `${request_id}`, `${method}`,
//! `${path}`, `${query}`, `${host}`, `${header.NAME}`. `$$` is a literal `$`;
//! any other `$` is an error, so a typo never reaches a client as text.

use weir_filter_sdk::{Request, context};

/// A value known only when a request arrives.
#[derive(Debug, Clone, PartialEq)]
pub enum Variable {
    /// A value another filter of the chain put into the per-request context.
    Context(String),
    ClientIp,
    RequestId,
    Method,
    Path,
    Query,
    Host,
    /// The first value of a request header.
    Header(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Literal(String),
    Variable(Variable),
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
}

/// What rendering needs: the request the filter was handed.
pub struct Source<'a> {
    pub request: &'a Request,
}

impl Template {
    /// Parses `text`; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut rest = text;
        while let Some(dollar) = rest.find('$') {
            literal.push_str(&rest[..dollar]);
            let after = &rest[dollar + 1..];
            if let Some(tail) = after.strip_prefix('$') {
                literal.push('$');
                rest = tail;
            } else if let Some(tail) = after.strip_prefix('{') {
                let close = tail.find('}').ok_or_else(|| {
                    format!("unclosed `${{` in {text:?}: close it with `}}` or write `$$` for a literal `$`")
                })?;
                let variable =
                    parse_variable(&tail[..close]).map_err(|e| format!("{e} in {text:?}"))?;
                if !literal.is_empty() {
                    parts.push(Part::Literal(std::mem::take(&mut literal)));
                }
                parts.push(Part::Variable(variable));
                rest = &tail[close + 1..];
            } else {
                return Err(format!(
                    "a lone `$` in {text:?}: write `${{name}}` for a variable or `$$` for a literal `$`"
                ));
            }
        }
        literal.push_str(rest);
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template { parts })
    }

    /// The literal text of the template, for checks done once at start-up.
    pub fn literal_text(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Literal(text) => Some(text.as_str()),
            Part::Variable(_) => None,
        })
    }

    /// Renders the template; `Err` names the first variable that has no
    /// value for this request.
    pub fn render(&self, source: &Source) -> Result<Vec<u8>, Variable> {
        let mut out = Vec::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.extend_from_slice(text.as_bytes()),
                Part::Variable(variable) => {
                    let value = lookup(variable, source).ok_or_else(|| variable.clone())?;
                    out.extend_from_slice(&value);
                }
            }
        }
        Ok(out)
    }

    /// Renders with missing variables as empty text.
    pub fn render_or_empty(&self, source: &Source) -> Vec<u8> {
        let mut out = Vec::new();
        for part in &self.parts {
            match part {
                Part::Literal(text) => out.extend_from_slice(text.as_bytes()),
                Part::Variable(variable) => {
                    out.extend_from_slice(&lookup(variable, source).unwrap_or_default())
                }
            }
        }
        out
    }
}

fn parse_variable(name: &str) -> Result<Variable, String> {
    let simple = match name {
        "client_ip" => Some(Variable::ClientIp),
        "request_id" => Some(Variable::RequestId),
        "method" => Some(Variable::Method),
        "path" => Some(Variable::Path),
        "query" => Some(Variable::Query),
        "host" => Some(Variable::Host),
        _ => None,
    };
    if let Some(variable) = simple {
        return Ok(variable);
    }
    if let Some(key) = name.strip_prefix("ctx.") {
        if key.is_empty() {
            return Err("`${ctx.}` needs a key, e.g. `${ctx.sub}`".into());
        }
        return Ok(Variable::Context(key.to_owned()));
    }
    if let Some(header) = name.strip_prefix("header.") {
        if !crate::names::is_valid(header) {
            return Err(format!("`${{header.{header}}}` is not a valid header name"));
        }
        return Ok(Variable::Header(header.to_ascii_lowercase()));
    }
    Err(format!(
        "unknown variable `${{{name}}}` (known: ctx.KEY, client_ip, request_id, method, path, query, host, header.NAME)"
    ))
}

fn lookup(variable: &Variable, source: &Source) -> Option<Vec<u8>> {
    let req = source.request;
    let text = match variable {
        Variable::Context(key) => context::get(key)?,
        Variable::ClientIp => Some(req.client_ip()).filter(|ip| !ip.is_empty())?,
        Variable::RequestId => req.id(),
        Variable::Method => req.method(),
        Variable::Path => req.path(),
        Variable::Query => req.query()?,
        Variable::Host => return req.header("host"),
        Variable::Header(name) => return req.header(name),
    };
    Some(text.into_bytes())
}

impl std::fmt::Display for Variable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Variable::Context(key) => write!(f, "${{ctx.{key}}}"),
            Variable::ClientIp => f.write_str("${client_ip}"),
            Variable::RequestId => f.write_str("${request_id}"),
            Variable::Method => f.write_str("${method}"),
            Variable::Path => f.write_str("${path}"),
            Variable::Query => f.write_str("${query}"),
            Variable::Host => f.write_str("${host}"),
            Variable::Header(name) => write!(f, "${{header.{name}}}"),
        }
    }
}
