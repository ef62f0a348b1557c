//! The index against the linear scan on random route sets and requests.
//! Seeded, so a failure names its seed and reruns the same; the vocabularies
//! are small so that routes and requests collide often (shared hosts,
//! nested and trailing-slash prefixes, equal specificity).

use rand::rngs::StdRng;
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use super::testing::{Request, Routes};

const ROUTE_SETS: u64 = 400;
const REQUESTS_PER_SET: usize = 60;

const EXACT_HOSTS: &[&str] = &[
    "api.example.com",
    "b.example.com",
    "example.com",
    "a.b.example.com",
    "other.test",
];
const WILDCARDS: &[&str] = &[
    "*.example.com",
    "*.b.example.com",
    "*.test",
    "*.a.b.example.com",
];
const REQUEST_HOSTS: &[&str] = &[
    "api.example.com",
    "API.Example.com:8443",
    "b.example.com",
    "a.b.example.com",
    "x.a.b.example.com",
    "example.com",
    "example.com:80",
    "other.test",
    "x.test",
    "test",
    "x..example.com",
    "example.org",
    "[::1]:8080",
    "",
];
const SEGMENTS: &[&str] = &["api", "apix", "v1", "users", "a", ""];
const REGEXES: &[&str] = &["^/api/v[0-9]+", "users$", "^/a(/|$)", "x", "^/$"];
const METHODS: &[&str] = &["GET", "POST", "DELETE", "put"];
const REQUEST_METHODS: &[&str] = &["GET", "POST", "DELETE", "PUT", "PATCH"];
const QUERIES: &[&str] = &[
    "debug=1",
    "debug=true",
    "debug=0",
    "page=2",
    "a=%20b",
    "debug",
];

/// `/`, then 0 to 3 segments, sometimes a trailing `/`.
fn path(rng: &mut StdRng) -> String {
    let count = rng.random_range(0..4);
    let mut path: String = (0..count)
        .map(|_| format!("/{}", SEGMENTS.choose(rng).unwrap()))
        .collect();
    if path.is_empty() || rng.random_bool(0.2) {
        path.push('/');
    }
    path
}

fn pick<'a>(rng: &mut StdRng, from: &[&'a str], most: usize) -> Vec<&'a str> {
    let count = rng.random_range(0..=most);
    (0..count).map(|_| *from.choose(rng).unwrap()).collect()
}

fn value_condition(rng: &mut StdRng, name: &str, values: &[&str], regex: &str) -> Value {
    match rng.random_range(0..3) {
        0 => json!({ "name": name, "present": true }),
        1 => json!({ "name": name, "exact": values.choose(rng).unwrap() }),
        _ => json!({ "name": name, "regex": regex }),
    }
}

/// One route as a JSON object (JSON is YAML).
fn route(rng: &mut StdRng, i: usize) -> Value {
    let mut matcher = serde_json::Map::new();
    let mut hosts = Vec::new();
    if rng.random_bool(0.5) {
        hosts.extend(pick(rng, EXACT_HOSTS, 2));
        hosts.extend(pick(rng, WILDCARDS, 2));
    }
    if !hosts.is_empty() {
        matcher.insert("hosts".into(), json!(hosts));
    }
    let path_match = match rng.random_range(0..8) {
        0 | 1 => Some(json!({ "exact": path(rng) })),
        2..=5 => Some(json!({ "prefix": path(rng) })),
        6 => Some(json!({ "regex": REGEXES.choose(rng).unwrap() })),
        _ => None,
    };
    if let Some(p) = path_match {
        matcher.insert("path".into(), p);
    }
    let methods = pick(rng, METHODS, 2);
    if !methods.is_empty() {
        matcher.insert("methods".into(), json!(methods));
    }
    if rng.random_bool(0.25) {
        let header = value_condition(rng, "x-env", &["staging", "dev"], "^(staging|dev)$");
        matcher.insert("headers".into(), json!([header]));
    }
    if rng.random_bool(0.25) {
        let query = value_condition(rng, "debug", &["1", "true"], "^(1|true)$");
        matcher.insert("query".into(), json!([query]));
    }
    let mut route = json!({
        "name": format!("r{i}"),
        "match": matcher,
        "respond": { "status": 200 },
    });
    if rng.random_bool(0.3) {
        route["priority"] = json!(rng.random_range(-1..=2));
    }
    route
}

fn request(rng: &mut StdRng) -> Request {
    let mut target = path(rng);
    if rng.random_bool(0.1) {
        target.push_str("xy");
    }
    let query = pick(rng, QUERIES, 2);
    if !query.is_empty() {
        target = format!("{target}?{}", query.join("&"));
    }
    let mut headers = Vec::new();
    if rng.random_bool(0.4) {
        headers.push(("x-env", *["staging", "dev", "prod"].choose(rng).unwrap()));
    }
    Request::new(
        REQUEST_METHODS.choose(rng).unwrap(),
        REQUEST_HOSTS.choose(rng).unwrap(),
        &target,
        &headers,
    )
}

#[test]
fn the_index_picks_the_route_the_linear_scan_picks() {
    let (mut matched, mut unmatched) = (0, 0);
    for seed in 0..ROUTE_SETS {
        let mut rng = StdRng::seed_from_u64(seed);
        let count = rng.random_range(1..=40);
        let yaml: String = (0..count)
            .map(|i| format!("  - {}\n", route(&mut rng, i)))
            .collect();
        let routes = Routes::parse(&yaml);
        for _ in 0..REQUESTS_PER_SET {
            let req = request(&mut rng);
            let facts = req.facts();
            let (indexed, scanned) = (routes.indexed(&facts), routes.scan(&facts));
            assert_eq!(
                indexed, scanned,
                "seed {seed}: index and scan differ on {req:?}\nroutes in evaluation order: {:#?}",
                routes.names
            );
            if scanned.is_some() {
                matched += 1;
            } else {
                unmatched += 1;
            }
        }
    }
    // The generator reaches both outcomes often: a test of only 404s (or of
    // catch-alls only) would prove little.
    let total = matched + unmatched;
    assert!(
        matched * 5 > total && unmatched * 10 > total,
        "{matched} matched, {unmatched} unmatched"
    );
}
