//! The index on the cases where a shortcut would go wrong. Every lookup is
//! also checked against the linear scan (`Routes::route_for`).

use super::testing::{Request, Routes};

fn route(name: &str, matcher: &str) -> String {
    format!("  - name: {name}\n    match: {matcher}\n    respond: {{ body: {name} }}\n")
}

fn routes(items: &[(&str, &str)]) -> Routes {
    Routes::parse(
        &items
            .iter()
            .map(|(name, matcher)| route(name, matcher))
            .collect::<String>(),
    )
}

#[test]
fn prefixes_match_whole_segments() {
    let r = routes(&[
        ("api", "{ path: { prefix: /api } }"),
        ("apix", "{ path: { prefix: /apix } }"),
    ]);
    assert_eq!(r.route_for(&Request::get("h", "/api")), Some("api"));
    assert_eq!(r.route_for(&Request::get("h", "/api/")), Some("api"));
    assert_eq!(
        r.route_for(&Request::get("h", "/api/users?x=1")),
        Some("api")
    );
    assert_eq!(r.route_for(&Request::get("h", "/apix")), Some("apix"));
    assert_eq!(r.route_for(&Request::get("h", "/apixy")), None);
    assert_eq!(r.route_for(&Request::get("h", "/ap")), None);
}

#[test]
fn a_trailing_slash_prefix_does_not_match_the_bare_path() {
    let r = routes(&[
        ("slash", "{ path: { prefix: /api/ } }"),
        ("root", "{ path: { prefix: / } }"),
    ]);
    assert_eq!(r.route_for(&Request::get("h", "/api/x")), Some("slash"));
    assert_eq!(r.route_for(&Request::get("h", "/api/")), Some("slash"));
    assert_eq!(r.route_for(&Request::get("h", "/api")), Some("root"));
    assert_eq!(r.route_for(&Request::get("h", "/apix")), Some("root"));
}

#[test]
fn the_longest_matching_prefix_wins_over_file_order() {
    let r = routes(&[
        ("short", "{ path: { prefix: /a } }"),
        ("long", "{ path: { prefix: /a/b } }"),
        ("exact", "{ path: { exact: /a/b } }"),
    ]);
    assert_eq!(r.route_for(&Request::get("h", "/a/b/c")), Some("long"));
    assert_eq!(r.route_for(&Request::get("h", "/a/b")), Some("exact"));
    assert_eq!(r.route_for(&Request::get("h", "/a/bc")), Some("short"));
}

#[test]
fn a_wildcard_host_needs_one_or_more_labels_in_front() {
    let r = routes(&[
        ("wild", "{ hosts: [\"*.example.com\"] }"),
        (
            "deeper",
            "{ hosts: [\"*.b.example.com\"], path: { prefix: /only } }",
        ),
    ]);
    assert_eq!(
        r.route_for(&Request::get("a.example.com", "/")),
        Some("wild")
    );
    assert_eq!(
        r.route_for(&Request::get("x.y.example.com", "/")),
        Some("wild")
    );
    assert_eq!(r.route_for(&Request::get("example.com", "/")), None);
    assert_eq!(r.route_for(&Request::get("aexample.com", "/")), None);
    assert_eq!(r.route_for(&Request::get("a.example.org", "/")), None);
    // Both wildcards match; the more specific path decides.
    assert_eq!(
        r.route_for(&Request::get("a.b.example.com", "/only")),
        Some("deeper")
    );
    assert_eq!(
        r.route_for(&Request::get("b.example.com", "/only")),
        Some("wild")
    );
    // A host with more labels than any wildcard still finds it.
    let many = format!("{}example.com", "x.".repeat(200));
    assert_eq!(r.route_for(&Request::get(&many, "/only")), Some("wild"));
}

#[test]
fn the_host_is_compared_lower_case_without_its_port() {
    let r = routes(&[
        ("exact", "{ hosts: [api.example.com] }"),
        ("wild", "{ hosts: [\"*.example.com\"] }"),
    ]);
    assert_eq!(
        r.route_for(&Request::get("API.Example.com:8443", "/")),
        Some("exact")
    );
    assert_eq!(
        r.route_for(&Request::get("web.example.com:80", "/")),
        Some("wild")
    );
    assert_eq!(r.route_for(&Request::get("[::1]:80", "/")), None);
    // HTTP/2 has no Host header: the URI's authority stands in.
    assert_eq!(
        r.route_for(&Request::get("", "https://Api.Example.COM:8443/x")),
        Some("exact")
    );
}

#[test]
fn an_exact_host_comes_before_a_wildcard_and_no_host() {
    let r = routes(&[
        ("any", "{ path: { prefix: / } }"),
        (
            "wild",
            "{ hosts: [\"*.example.com\"], path: { prefix: / } }",
        ),
        ("exact", "{ hosts: [api.example.com], path: { prefix: / } }"),
    ]);
    assert_eq!(
        r.route_for(&Request::get("api.example.com", "/")),
        Some("exact")
    );
    assert_eq!(
        r.route_for(&Request::get("web.example.com", "/")),
        Some("wild")
    );
    assert_eq!(r.route_for(&Request::get("other.test", "/")), Some("any"));
}

#[test]
fn priority_overrides_specificity() {
    let r = routes(&[
        (
            "exact",
            "{ hosts: [api.example.com], path: { exact: /a/b } }",
        ),
        ("catch-all", "{}\n    priority: 1"),
        ("late", "{ path: { prefix: /late } }\n    priority: 2"),
        ("low", "{ path: { exact: /low } }\n    priority: -1"),
    ]);
    assert_eq!(
        r.route_for(&Request::get("api.example.com", "/a/b")),
        Some("catch-all")
    );
    assert_eq!(r.route_for(&Request::get("h", "/late/x")), Some("late"));
    assert_eq!(r.route_for(&Request::get("h", "/low")), Some("catch-all"));
}

#[test]
fn the_other_conditions_are_checked_on_candidates() {
    let r = routes(&[
        ("post", "{ path: { prefix: /m }, methods: [POST] }"),
        (
            "staging",
            "{ path: { prefix: /m }, headers: [{ name: x-env, exact: staging }] }",
        ),
        (
            "debug",
            "{ path: { prefix: /m }, query: [{ name: debug, regex: \"^(1|true)$\" }] }",
        ),
        ("rest", "{ path: { prefix: /m } }"),
    ]);
    let req = |method, headers: &[(&str, &str)], path| Request::new(method, "h", path, headers);
    assert_eq!(r.route_for(&req("POST", &[], "/m")), Some("post"));
    assert_eq!(
        r.route_for(&req("GET", &[("x-env", "staging")], "/m")),
        Some("staging")
    );
    assert_eq!(
        r.route_for(&req("GET", &[], "/m?debug=true")),
        Some("debug")
    );
    assert_eq!(
        r.route_for(&req("GET", &[("x-env", "prod")], "/m?debug=0")),
        Some("rest")
    );
}

#[test]
fn regex_paths_are_found_in_every_bucket_they_are_in() {
    let r = routes(&[
        (
            "versioned",
            "{ hosts: [\"*.example.com\"], path: { regex: \"^/v[0-9]+/\" } }",
        ),
        ("anywhere", "{ path: { regex: items } }"),
        ("prefix", "{ path: { prefix: /v1 } }"),
    ]);
    assert_eq!(
        r.route_for(&Request::get("a.example.com", "/v1/items")),
        Some("versioned")
    );
    assert_eq!(
        r.route_for(&Request::get("other.test", "/v1/items")),
        Some("anywhere")
    );
    assert_eq!(
        r.route_for(&Request::get("other.test", "/v1/x")),
        Some("prefix")
    );
    assert_eq!(r.route_for(&Request::get("other.test", "/x")), None);
}

#[test]
fn a_route_with_several_hosts_is_in_each_bucket() {
    let r = routes(&[
        (
            "both",
            "{ hosts: [a.test, \"*.b.test\", a.test], path: { exact: /x } }",
        ),
        ("fallback", "{ path: { prefix: / } }"),
    ]);
    assert_eq!(r.route_for(&Request::get("a.test", "/x")), Some("both"));
    assert_eq!(r.route_for(&Request::get("c.b.test", "/x")), Some("both"));
    assert_eq!(r.route_for(&Request::get("b.test", "/x")), Some("fallback"));
}

#[test]
fn no_routes_match_nothing() {
    let r = Routes::parse("  []\n");
    assert_eq!(r.route_for(&Request::get("h", "/")), None);
}
