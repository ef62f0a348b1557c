//! For the router's tests: routes from config text (checked and put in
//! evaluation order by weir-config, as weir does), requests, and the linear
//! scan the index must agree with.

use std::path::Path;

use http::{HeaderMap, HeaderName, HeaderValue};
use weir_config::RouteMatch;

use super::{RequestFacts, RouteIndex, matches, request_host};

pub(super) struct Routes {
    pub names: Vec<String>,
    pub matchers: Vec<RouteMatch>,
    pub index: RouteIndex,
}

impl Routes {
    /// `routes_yaml`: the items of a config's `routes` list.
    pub fn parse(routes_yaml: &str) -> Routes {
        let text = format!(
            "listeners:\n  - name: main\n    address: 127.0.0.1:8080\nroutes:\n{routes_yaml}"
        );
        let config = weir_config::parse(&text, Path::new("."))
            .unwrap_or_else(|e| panic!("config refused: {e}\n{text}"));
        let matchers: Vec<RouteMatch> = config.routes.iter().map(|r| r.matcher.clone()).collect();
        Routes {
            names: config.routes.iter().map(|r| r.name.clone()).collect(),
            index: RouteIndex::build(&matchers),
            matchers,
        }
    }

    /// The oracle: every route in evaluation order, the first that matches.
    pub fn scan(&self, req: &RequestFacts<'_>) -> Option<usize> {
        self.matchers.iter().position(|m| matches(m, req))
    }

    pub fn indexed(&self, req: &RequestFacts<'_>) -> Option<usize> {
        self.index.find(req, |i| matches(&self.matchers[i], req))
    }

    /// The name of the route the index picks for `req` (`None`: a 404),
    /// after checking that the linear scan picks the same.
    pub fn route_for(&self, req: &Request) -> Option<&str> {
        let facts = req.facts();
        let indexed = self.indexed(&facts);
        assert_eq!(
            indexed,
            self.scan(&facts),
            "index and scan differ on {req:?}"
        );
        indexed.map(|i| self.names[i].as_str())
    }
}

/// A request as the proxy sees it: a `Host` header (port and case as sent),
/// a path with its query, a method and headers.
#[derive(Debug, Clone)]
pub(super) struct Request {
    /// As `request_host` reads it: lower-case, without port.
    pub host: String,
    pub uri: http::Uri,
    pub method: String,
    pub headers: HeaderMap,
}

impl Request {
    pub fn get(host: &str, path_and_query: &str) -> Request {
        Request::new("GET", host, path_and_query, &[])
    }

    pub fn new(
        method: &str,
        host: &str,
        path_and_query: &str,
        headers: &[(&str, &str)],
    ) -> Request {
        let mut map = HeaderMap::new();
        if !host.is_empty() {
            map.insert(http::header::HOST, HeaderValue::from_str(host).unwrap());
        }
        for (name, value) in headers {
            map.append(
                HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let uri: http::Uri = path_and_query.parse().unwrap();
        Request {
            host: request_host(&map, &uri),
            uri,
            method: method.to_owned(),
            headers: map,
        }
    }

    pub fn facts(&self) -> RequestFacts<'_> {
        RequestFacts {
            host: &self.host,
            path: self.uri.path(),
            method: &self.method,
            headers: &self.headers,
            query: self.uri.query(),
        }
    }
}
