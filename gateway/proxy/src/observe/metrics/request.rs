//! Per-route request metrics: counts by method and status class, and the
//! duration histogram, resolved once per route when a snapshot is built.

use std::sync::Arc;
use std::time::Duration;

use http::Method;
use prometheus::{Histogram, IntCounter};

use super::{Families, UpstreamMetrics};

/// The `route` label of requests no route matched.
pub const UNMATCHED_ROUTE: &str = "(unmatched)";

/// The `method` label: a fixed set, anything else is `OTHER`.
const METHODS: [&str; 10] = [
    "GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH", "OTHER",
];
/// The `status_class` label; `0xx` when no response was sent.
const CLASSES: [&str; 6] = ["0xx", "1xx", "2xx", "3xx", "4xx", "5xx"];

/// A route's handles; all `None` while metrics are off.
pub struct RouteMetrics {
    /// `[method][class]`.
    requests: Option<Box<[[IntCounter; CLASSES.len()]; METHODS.len()]>>,
    duration: Option<Histogram>,
    /// The handles of the route's upstream pool, if it proxies.
    pub upstream: Option<Arc<UpstreamMetrics>>,
}

impl RouteMetrics {
    pub fn new(route: &str, upstream: Option<Arc<UpstreamMetrics>>, enabled: bool) -> Self {
        if !enabled {
            return RouteMetrics {
                requests: None,
                duration: None,
                upstream: None,
            };
        }
        let f = super::families();
        let requests = Box::new(std::array::from_fn(|m| {
            std::array::from_fn(|c| {
                f.requests
                    .with_label_values(&[route, METHODS[m], CLASSES[c]])
            })
        }));
        RouteMetrics {
            requests: Some(requests),
            duration: Some(f.request_duration.with_label_values(&[route])),
            upstream,
        }
    }

    /// The handles of the upstream target the request's last attempt went to.
    pub fn last_target(&self, tried: &[usize]) -> Option<&super::TargetMetrics> {
        self.upstream.as_ref()?.targets.get(*tried.last()?)
    }

    /// Counts one finished request: no allocation, no lookup by name.
    pub fn record(&self, method: &Method, status: u16, took: Duration) {
        let class = match status {
            100..=599 => usize::from(status / 100),
            _ => 0,
        };
        if let (Some(requests), Some(duration)) = (&self.requests, &self.duration) {
            requests[method_index(method)][class].inc();
            duration.observe(took.as_secs_f64());
        }
    }
}

fn method_index(method: &Method) -> usize {
    // Method's constants compare without touching a string.
    match *method {
        Method::GET => 0,
        Method::HEAD => 1,
        Method::POST => 2,
        Method::PUT => 3,
        Method::DELETE => 4,
        Method::CONNECT => 5,
        Method::OPTIONS => 6,
        Method::TRACE => 7,
        Method::PATCH => 8,
        _ => 9,
    }
}

pub(super) fn remove(f: &Families, route: &str) {
    for method in METHODS {
        for class in CLASSES {
            let _ = f.requests.remove_label_values(&[route, method, class]);
        }
    }
    let _ = f.request_duration.remove_label_values(&[route]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_set_are_other() {
        assert_eq!(METHODS[method_index(&Method::GET)], "GET");
        assert_eq!(METHODS[method_index(&Method::PATCH)], "PATCH");
        let odd = Method::from_bytes(b"PROPFIND").unwrap();
        assert_eq!(METHODS[method_index(&odd)], "OTHER");
    }
}
