//! Checks of the `routes` section, and the evaluation order of routes.

use std::collections::BTreeSet;

use regex::Regex;

use super::checker::Checker;
use crate::model::{
    DirectResponse, HandlerAction, HeaderMatch, HostMatch, PathMatch, ProxyAction, QueryMatch,
    Route, RouteAction, RouteMatch, ValueMatch, host_match,
};
use crate::parse::{ConfigPath, node_at};
use crate::schema::{MatchFile, RespondFile, ValueMatchFile};

/// The routes without errors, in evaluation order (see `order_key`).
pub(super) fn routes(c: &mut Checker) -> Vec<Route> {
    let mut names = BTreeSet::new();
    let mut out = Vec::new();
    let doc = c.doc;
    for (path, index, file) in &doc.routes {
        let errors_before = c.errors.len();
        let name = file
            .name
            .clone()
            .unwrap_or_else(|| format!("routes[{index}]"));
        if !names.insert(name.clone()) {
            c.error(&path.key("name"), format!("duplicate route name {name:?}"));
        }
        let matcher = file
            .matcher
            .as_ref()
            .map(|m| route_match(c, &path.key("match"), m))
            .unwrap_or_default();
        let action = match (&file.upstream, &file.respond, &file.handler) {
            (Some(upstream), None, None) => {
                if !doc.upstream_names.contains(upstream) {
                    c.error(
                        &path.key("upstream"),
                        format!("unknown upstream {upstream:?}"),
                    );
                }
                let strip_prefix = file.strip_prefix.unwrap_or(false);
                if strip_prefix && !matches!(matcher.path, Some(PathMatch::Prefix(_))) {
                    c.error(
                        &path.key("strip_prefix"),
                        "strip_prefix needs a `prefix` path match",
                    );
                }
                Some(RouteAction::Proxy(ProxyAction {
                    upstream: upstream.clone(),
                    strip_prefix,
                    host_rewrite: file.host_rewrite.clone(),
                }))
            }
            (None, Some(respond), None) => {
                upstream_only_fields(c, path);
                Some(RouteAction::Respond(direct_response(c, path, respond)))
            }
            (None, None, Some(handler)) => {
                upstream_only_fields(c, path);
                if !doc.handler_names.contains(handler) {
                    c.error(&path.key("handler"), format!("unknown handler {handler:?}"));
                }
                Some(RouteAction::Handler(HandlerAction {
                    handler: handler.clone(),
                }))
            }
            _ => {
                c.error(
                    path,
                    "a route needs exactly one of `upstream`, `respond` or `handler`",
                );
                None
            }
        };
        for (i, filter) in file.filters.iter().enumerate() {
            if !doc.filter_names.contains(filter) {
                c.error(
                    &path.key("filters").index(i),
                    format!("unknown filter {filter:?}"),
                );
            }
        }
        if let (Some(action), true) = (action, c.errors.len() == errors_before) {
            out.push(Route {
                name,
                index: *index,
                priority: file.priority.unwrap_or(0),
                matcher,
                action,
                filters: file.filters.clone(),
            });
        }
    }
    out.sort_by(|a, b| order_key(b).cmp(&order_key(a)).then(a.index.cmp(&b.index)));
    out
}

/// `strip_prefix` and `host_rewrite` change what is sent upstream: an error
/// on a route that answers itself (`respond`, `handler`).
fn upstream_only_fields(c: &mut Checker, path: &ConfigPath) {
    for field in ["strip_prefix", "host_rewrite"] {
        if node_at(&c.doc.root, &path.key(field)).is_some() {
            c.error(
                &path.key(field),
                format!("`{field}` only applies to routes with an `upstream`"),
            );
        }
    }
}

fn direct_response(c: &mut Checker, path: &ConfigPath, respond: &RespondFile) -> DirectResponse {
    let status = respond.status.unwrap_or(200);
    if !(100..=599).contains(&status) {
        c.error(
            &path.key("respond").key("status"),
            format!("status {status} is not in 100-599"),
        );
    }
    for (header, value) in &respond.headers {
        let header_path = path.key("respond").key("headers").key(header);
        if http_name(header).is_none() {
            c.error(&header_path, format!("invalid header name {header:?}"));
        } else if value.bytes().any(|b| b == b'\r' || b == b'\n' || b == 0) {
            c.error(
                &header_path,
                format!("the value of header {header:?} contains a line break or NUL"),
            );
        }
    }
    DirectResponse {
        status,
        headers: respond
            .headers
            .iter()
            .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
            .collect(),
        body: respond.body.clone(),
    }
}

fn route_match(c: &mut Checker, path: &ConfigPath, file: &MatchFile) -> RouteMatch {
    let mut hosts = Vec::new();
    for (i, host) in file.hosts.iter().enumerate() {
        match host_match(host) {
            Some(host) => hosts.push(host),
            None => c.error(
                &path.key("hosts").index(i),
                format!("invalid host {host:?}; expected a name like api.example.com or *.example.com (no port)"),
            ),
        }
    }
    let path_match = file.path.as_ref().and_then(|p| {
        let path = path.key("path");
        match (&p.prefix, &p.exact, &p.regex) {
            (Some(prefix), None, None) => {
                if !prefix.starts_with('/') {
                    c.error(
                        &path.key("prefix"),
                        format!("prefix {prefix:?} must start with /"),
                    );
                }
                Some(PathMatch::Prefix(prefix.clone()))
            }
            (None, Some(exact), None) => {
                if !exact.starts_with('/') {
                    c.error(
                        &path.key("exact"),
                        format!("path {exact:?} must start with /"),
                    );
                }
                Some(PathMatch::Exact(exact.clone()))
            }
            (None, None, Some(regex)) => {
                compile_regex(c, &path.key("regex"), regex).map(PathMatch::Regex)
            }
            _ => {
                c.error(
                    &path,
                    "a path match needs exactly one of `prefix`, `exact` or `regex`",
                );
                None
            }
        }
    });
    let mut methods = Vec::new();
    for (i, method) in file.methods.iter().enumerate() {
        let upper = method.to_ascii_uppercase();
        if !is_token(&upper) {
            c.error(
                &path.key("methods").index(i),
                format!("invalid method {method:?}"),
            );
        }
        methods.push(upper);
    }
    let headers = file
        .headers
        .iter()
        .enumerate()
        .filter_map(|(i, h)| {
            let item = path.key("headers").index(i);
            let name = http_name(&h.name);
            if name.is_none() {
                c.error(
                    &item.key("name"),
                    format!("invalid header name {:?}", h.name),
                );
            }
            let value = value_match(c, &item, h)?;
            Some(HeaderMatch { name: name?, value })
        })
        .collect();
    let query = file
        .query
        .iter()
        .enumerate()
        .filter_map(|(i, q)| {
            let item = path.key("query").index(i);
            if q.name.is_empty() {
                c.error(&item.key("name"), "query parameter name is empty");
            }
            let value = value_match(c, &item, q)?;
            Some(QueryMatch {
                name: q.name.clone(),
                value,
            })
        })
        .collect();
    RouteMatch {
        hosts,
        path: path_match,
        methods,
        headers,
        query,
    }
}

fn value_match(c: &mut Checker, path: &ConfigPath, file: &ValueMatchFile) -> Option<ValueMatch> {
    match (file.present, &file.exact, &file.regex) {
        (Some(true), None, None) => Some(ValueMatch::Present),
        (Some(false), None, None) => {
            c.error(
                &path.key("present"),
                "`present: false` matches nothing; use a route without the condition",
            );
            None
        }
        (None, Some(exact), None) => Some(ValueMatch::Exact(exact.clone())),
        (None, None, Some(regex)) => {
            compile_regex(c, &path.key("regex"), regex).map(ValueMatch::Regex)
        }
        _ => {
            c.error(
                path,
                "needs exactly one of `present: true`, `exact` or `regex`",
            );
            None
        }
    }
}

/// An RFC 9110 token: the syntax of method and header names.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Lower-case header name if valid.
fn http_name(name: &str) -> Option<String> {
    is_token(name).then(|| name.to_ascii_lowercase())
}

fn compile_regex(c: &mut Checker, path: &ConfigPath, pattern: &str) -> Option<Regex> {
    Regex::new(pattern)
        .map_err(|e| c.error(path, format!("invalid regex: {}", one_line(&e.to_string()))))
        .ok()
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The evaluation order key, compared descending; ties keep file order.
/// First `priority`, then specificity, field by field:
/// - path kind: exact 3, regex 2, prefix 1, none 0;
/// - prefix length in bytes (0 unless a prefix), so `/a/b` precedes `/a`;
/// - host kind: any exact host 2, only wildcards 1, no hosts 0;
/// - number of conditions: methods (1 if any), each header, each query parameter.
///
/// docs/config.md ("Evaluation order") describes the same for users.
fn order_key(route: &Route) -> (i32, u8, usize, u8, usize) {
    let m = &route.matcher;
    let (path_kind, prefix_len) = match &m.path {
        Some(PathMatch::Exact(_)) => (3, 0),
        Some(PathMatch::Regex(_)) => (2, 0),
        Some(PathMatch::Prefix(p)) => (1, p.len()),
        None => (0, 0),
    };
    let host_kind = if m.hosts.iter().any(|h| matches!(h, HostMatch::Exact(_))) {
        2
    } else if m.hosts.is_empty() {
        0
    } else {
        1
    };
    let conditions = usize::from(!m.methods.is_empty()) + m.headers.len() + m.query.len();
    (route.priority, path_kind, prefix_len, host_kind, conditions)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens() {
        assert!(is_token("GET"));
        assert!(is_token("x-custom_header.1"));
        assert!(!is_token(""));
        assert!(!is_token("BAD METHOD"));
        assert!(!is_token("x:y"));
    }
}
