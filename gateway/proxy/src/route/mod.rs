//! Route matching. Routes arrive in evaluation order (priority, then
//! specificity, then file order; see weir-config's `order_key`); the first
//! route whose every condition holds wins. `matches` is the whole truth of
//! one route; the [`RouteIndex`] finds which routes are worth asking.

#[cfg(test)]
mod equivalence_tests;
mod index;
#[cfg(test)]
mod index_tests;
mod prefixes;
#[cfg(test)]
mod testing;

use http::HeaderMap;
use weir_config::{HostMatch, PathMatch, RouteMatch, ValueMatch};

pub use index::RouteIndex;

/// What a route matches on, read once from the request.
pub struct RequestFacts<'a> {
    /// Lower-case, without port.
    pub host: &'a str,
    pub path: &'a str,
    pub method: &'a str,
    pub headers: &'a HeaderMap,
    pub query: Option<&'a str>,
}

pub fn matches(m: &RouteMatch, req: &RequestFacts<'_>) -> bool {
    (m.hosts.is_empty() || m.hosts.iter().any(|h| host_matches(h, req.host)))
        && m.path.as_ref().is_none_or(|p| path_matches(p, req.path))
        && (m.methods.is_empty() || m.methods.iter().any(|x| x == req.method))
        && m.headers.iter().all(|h| {
            let mut values = req.headers.get_all(h.name.as_str()).iter();
            match &h.value {
                ValueMatch::Present => values.next().is_some(),
                other => values.any(|v| v.to_str().is_ok_and(|v| value_matches(other, v))),
            }
        })
        && m.query.iter().all(|q| {
            let mut pairs = req
                .query
                .map(|qs| form_urlencoded::parse(qs.as_bytes()))
                .into_iter()
                .flatten()
                .filter(|(name, _)| *name == q.name);
            match &q.value {
                ValueMatch::Present => pairs.next().is_some(),
                other => pairs.any(|(_, v)| value_matches(other, &v)),
            }
        })
}

fn host_matches(m: &HostMatch, host: &str) -> bool {
    match m {
        HostMatch::Exact(h) => h == host,
        HostMatch::WildcardSuffix(suffix) => {
            host.len() > suffix.len() && host.ends_with(suffix.as_str())
        }
    }
}

fn path_matches(m: &PathMatch, path: &str) -> bool {
    match m {
        PathMatch::Exact(p) => p == path,
        // `/api` matches `/api`, `/api/` and `/api/x`, not `/apix`.
        PathMatch::Prefix(p) => {
            path.starts_with(p.as_str())
                && (p.ends_with('/') || path.len() == p.len() || path.as_bytes()[p.len()] == b'/')
        }
        PathMatch::Regex(r) => r.is_match(path),
    }
}

fn value_matches(m: &ValueMatch, value: &str) -> bool {
    match m {
        ValueMatch::Present => true,
        ValueMatch::Exact(x) => x == value,
        ValueMatch::Regex(r) => r.is_match(value),
    }
}

/// The host a request names, as it sent it: the `Host` header, else the
/// URI's authority (HTTP/2). What logs and spans show.
pub fn host_as_sent<'a>(headers: &'a HeaderMap, uri: &'a http::Uri) -> Option<&'a str> {
    headers
        .get(http::header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()))
}

/// The host a request is for, as routes match it: `host_as_sent`,
/// lower-cased and without port.
pub fn request_host(headers: &HeaderMap, uri: &http::Uri) -> String {
    strip_port(host_as_sent(headers, uri).unwrap_or("")).to_ascii_lowercase()
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        // [::1]:8080
        return host
            .split_once(']')
            .map_or(host, |(h, _)| &host[..=h.len()]);
    }
    host.rsplit_once(':').map_or(host, |(h, port)| {
        if port.bytes().all(|b| b.is_ascii_digit()) {
            h
        } else {
            host
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_config::{HeaderMatch, QueryMatch};

    fn facts<'a>(
        host: &'a str,
        path: &'a str,
        headers: &'a HeaderMap,
        query: Option<&'a str>,
    ) -> RequestFacts<'a> {
        RequestFacts {
            host,
            path,
            method: "GET",
            headers,
            query,
        }
    }

    #[test]
    fn prefix_respects_segment_boundaries() {
        let p = PathMatch::Prefix("/api".into());
        assert!(path_matches(&p, "/api"));
        assert!(path_matches(&p, "/api/users"));
        assert!(!path_matches(&p, "/apix"));
        assert!(path_matches(&PathMatch::Prefix("/".into()), "/anything"));
    }

    #[test]
    fn wildcard_host_needs_a_label() {
        let m = HostMatch::WildcardSuffix(".example.com".into());
        assert!(host_matches(&m, "a.example.com"));
        assert!(!host_matches(&m, "example.com"));
        assert!(!host_matches(&m, "a.example.org"));
    }

    #[test]
    fn headers_and_query_all_must_match() {
        let m = RouteMatch {
            headers: vec![HeaderMatch {
                name: "x-env".into(),
                value: ValueMatch::Exact("staging".into()),
            }],
            query: vec![QueryMatch {
                name: "debug".into(),
                value: ValueMatch::Regex(regex::Regex::new("^(1|true)$").unwrap()),
            }],
            ..Default::default()
        };
        let mut h = HeaderMap::new();
        assert!(!matches(&m, &facts("x", "/", &h, Some("debug=1"))));
        h.insert("x-env", "staging".parse().unwrap());
        assert!(matches(&m, &facts("x", "/", &h, Some("a=b&debug=true"))));
        assert!(!matches(&m, &facts("x", "/", &h, Some("debug=2"))));
        assert!(!matches(&m, &facts("x", "/", &h, None)));
    }

    #[test]
    fn host_is_lowercased_without_port() {
        let mut h = HeaderMap::new();
        h.insert("host", "API.Example.com:8443".parse().unwrap());
        assert_eq!(request_host(&h, &"/".parse().unwrap()), "api.example.com");
        h.insert("host", "[::1]:80".parse().unwrap());
        assert_eq!(request_host(&h, &"/".parse().unwrap()), "[::1]");
    }
}
