//! The validated `routes` section, and host names parsed into the matches
//! routes, certificates and origins use.

use regex::Regex;

#[derive(Debug, Clone)]
pub struct Route {
    /// `name` from the file, or `routes[i]`.
    pub name: String,
    /// Index in the file; the last tie-breaker of the evaluation order.
    pub index: usize,
    pub priority: i32,
    pub matcher: RouteMatch,
    pub action: RouteAction,
    /// Filter names, run after the global chain.
    pub filters: Vec<String>,
}

#[derive(Debug, Clone, Default)]
pub struct RouteMatch {
    /// Any of these; empty matches every host.
    pub hosts: Vec<HostMatch>,
    pub path: Option<PathMatch>,
    /// Upper-case method names; empty matches every method.
    pub methods: Vec<String>,
    /// All of these must match.
    pub headers: Vec<HeaderMatch>,
    /// All of these must match.
    pub query: Vec<QueryMatch>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostMatch {
    /// Lower-case host without port.
    Exact(String),
    /// `*.example.com` stored as `.example.com`: matches any host with that suffix
    /// and at least one more label.
    WildcardSuffix(String),
}

#[derive(Debug, Clone)]
pub enum PathMatch {
    Exact(String),
    Prefix(String),
    Regex(Regex),
}

#[derive(Debug, Clone)]
pub struct HeaderMatch {
    /// Lower-case header name.
    pub name: String,
    pub value: ValueMatch,
}

#[derive(Debug, Clone)]
pub struct QueryMatch {
    pub name: String,
    pub value: ValueMatch,
}

#[derive(Debug, Clone)]
pub enum ValueMatch {
    Present,
    Exact(String),
    Regex(Regex),
}

#[derive(Debug, Clone, PartialEq)]
pub enum RouteAction {
    Proxy(ProxyAction),
    Respond(DirectResponse),
    /// A handler (`Config::handlers`) answers, after the route's filters.
    Handler(HandlerAction),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ProxyAction {
    pub upstream: String,
    /// Remove the matched path prefix before forwarding (prefix matches only).
    pub strip_prefix: bool,
    /// Replace the `Host` header sent upstream.
    pub host_rewrite: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct HandlerAction {
    /// A name in `Config::handlers`.
    pub handler: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DirectResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

/// `api.example.com` or `*.example.com`, lower-cased; `None` if invalid.
/// The wildcard is only allowed as a whole leading label, and ports are not
/// part of a host match.
pub(crate) fn host_match(host: &str) -> Option<HostMatch> {
    let host = host.to_ascii_lowercase();
    let is_dns_name = |name: &str| {
        name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
    };
    match host.strip_prefix("*.") {
        Some(suffix) if is_dns_name(suffix) => {
            Some(HostMatch::WildcardSuffix(format!(".{suffix}")))
        }
        None if is_dns_name(&host) => Some(HostMatch::Exact(host)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts() {
        assert_eq!(
            host_match("API.Example.com"),
            Some(HostMatch::Exact("api.example.com".into()))
        );
        assert_eq!(
            host_match("*.example.com"),
            Some(HostMatch::WildcardSuffix(".example.com".into()))
        );
        for bad in [
            "", "*", "*.", "a.*.b", "*a.b", "a..b", ".a", "a.b:80", "a_b.c",
        ] {
            assert_eq!(host_match(bad), None, "{bad}");
        }
    }
}
