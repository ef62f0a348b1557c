//! Each match kind, and the evaluation order (priority, specificity, file order).

use weir_tests::{Gateway, client};

use crate::config;

fn direct(name: &str, matcher: &str, extra: &str) -> String {
    format!(
        "  - name: {name}\n    match: {matcher}\n{extra}    respond: {{ status: 200, body: \"{name}\" }}\n"
    )
}

async fn route_for(
    gw: &Gateway,
    method: &str,
    host: &str,
    path: &str,
    header: Option<(&str, &str)>,
) -> String {
    let mut req = client()
        .request(method.parse().unwrap(), gw.url(path))
        .header("host", host);
    if let Some((n, v)) = header {
        req = req.header(n, v);
    }
    let resp = req.send().await.expect("request");
    let status = resp.status();
    let text = resp.text().await.unwrap();
    if status == 404 {
        return "404".into();
    }
    assert_eq!(status, 200, "{text}");
    text
}

#[tokio::test(flavor = "multi_thread")]
async fn every_match_kind() {
    let routes = [
        direct(
            "exact-host",
            "{ hosts: [api.test], path: { prefix: /hostcheck } }",
            "",
        ),
        direct(
            "wildcard-host",
            "{ hosts: [\"*.wild.test\"], path: { prefix: /hostcheck } }",
            "",
        ),
        direct("exact-path", "{ path: { exact: /exact } }", ""),
        direct(
            "regex-path",
            "{ path: { regex: \"^/v[0-9]+/items$\" } }",
            "",
        ),
        direct("prefix-path", "{ path: { prefix: /pre } }", ""),
        direct(
            "post-only",
            "{ path: { prefix: /method }, methods: [POST] }",
            "",
        ),
        direct(
            "header",
            "{ path: { prefix: /hdr }, headers: [{ name: x-env, exact: staging }] }",
            "",
        ),
        direct(
            "header-regex",
            "{ path: { prefix: /hdrx }, headers: [{ name: x-ver, regex: \"^v[12]$\" }] }",
            "",
        ),
        direct(
            "query",
            "{ path: { prefix: /query }, query: [{ name: debug, exact: \"1\" }] }",
            "",
        ),
    ]
    .concat();
    let gw = Gateway::start(&config(&format!("routes:\n{routes}")));

    assert_eq!(
        route_for(&gw, "GET", "api.test", "/hostcheck", None).await,
        "exact-host"
    );
    assert_eq!(
        route_for(&gw, "GET", "API.test:8080", "/hostcheck", None).await,
        "exact-host"
    );
    assert_eq!(
        route_for(&gw, "GET", "x.wild.test", "/hostcheck", None).await,
        "wildcard-host"
    );
    assert_eq!(
        route_for(&gw, "GET", "wild.test", "/hostcheck", None).await,
        "404"
    );
    assert_eq!(
        route_for(&gw, "GET", "h", "/exact", None).await,
        "exact-path"
    );
    assert_eq!(route_for(&gw, "GET", "h", "/exact/more", None).await, "404");
    assert_eq!(
        route_for(&gw, "GET", "h", "/v2/items", None).await,
        "regex-path"
    );
    assert_eq!(route_for(&gw, "GET", "h", "/vx/items", None).await, "404");
    assert_eq!(
        route_for(&gw, "GET", "h", "/pre/fix", None).await,
        "prefix-path"
    );
    assert_eq!(
        route_for(&gw, "GET", "h", "/prefix", None).await,
        "404",
        "prefix matches whole segments"
    );
    assert_eq!(
        route_for(&gw, "POST", "h", "/method", None).await,
        "post-only"
    );
    assert_eq!(route_for(&gw, "GET", "h", "/method", None).await, "404");
    assert_eq!(
        route_for(&gw, "GET", "h", "/hdr", Some(("x-env", "staging"))).await,
        "header"
    );
    assert_eq!(
        route_for(&gw, "GET", "h", "/hdr", Some(("x-env", "prod"))).await,
        "404"
    );
    assert_eq!(
        route_for(&gw, "GET", "h", "/hdrx", Some(("x-ver", "v2"))).await,
        "header-regex"
    );
    assert_eq!(
        route_for(&gw, "GET", "h", "/hdrx", Some(("x-ver", "v3"))).await,
        "404"
    );
    assert_eq!(
        route_for(&gw, "GET", "h", "/query?a=b&debug=1", None).await,
        "query"
    );
    assert_eq!(
        route_for(&gw, "GET", "h", "/query?debug=0", None).await,
        "404"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn evaluation_order_is_priority_then_specificity_then_file_order() {
    // Written least specific first, to show the file order is not what decides.
    let routes = [
        direct("catch-all", "{ path: { prefix: / } }", ""),
        direct("short-prefix", "{ path: { prefix: /a } }", ""),
        direct("long-prefix", "{ path: { prefix: /a/b } }", ""),
        direct("regex", "{ path: { regex: \"^/a/b/c\" } }", ""),
        direct("exact", "{ path: { exact: /a/b/c } }", ""),
        direct(
            "wildcard-host",
            "{ hosts: [\"*.example.test\"], path: { prefix: /a } }",
            "",
        ),
        direct(
            "exact-host",
            "{ hosts: [api.example.test], path: { prefix: /a } }",
            "",
        ),
        direct("first-twin", "{ path: { prefix: /twin } }", ""),
        direct("second-twin", "{ path: { prefix: /twin } }", ""),
        direct(
            "forced",
            "{ path: { prefix: /forced } }",
            "    priority: 10\n",
        ),
        direct("forced-exact", "{ path: { exact: /forced/x } }", ""),
    ]
    .concat();
    let gw = Gateway::start(&config(&format!("routes:\n{routes}")));

    assert_eq!(route_for(&gw, "GET", "h", "/a/b/c", None).await, "exact");
    assert_eq!(route_for(&gw, "GET", "h", "/a/b/cd", None).await, "regex");
    assert_eq!(
        route_for(&gw, "GET", "h", "/a/b/x", None).await,
        "long-prefix"
    );
    assert_eq!(
        route_for(&gw, "GET", "h", "/a/x", None).await,
        "short-prefix"
    );
    assert_eq!(route_for(&gw, "GET", "h", "/zzz", None).await, "catch-all");
    assert_eq!(
        route_for(&gw, "GET", "api.example.test", "/a/x", None).await,
        "exact-host"
    );
    assert_eq!(
        route_for(&gw, "GET", "w.example.test", "/a/x", None).await,
        "wildcard-host"
    );
    assert_eq!(
        route_for(&gw, "GET", "h", "/twin", None).await,
        "first-twin"
    );
    // Priority beats specificity.
    assert_eq!(
        route_for(&gw, "GET", "h", "/forced/x", None).await,
        "forced"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn direct_response_headers_and_proxy_rewrites() {
    let up = weir_tests::Upstream::start("rewrites").await;
    let gw = Gateway::start(&config(&format!(
        "upstreams:\n  svc:\n    targets: [{{ address: {} }}]\nroutes:\n  - match: {{ path: {{ exact: /moved }} }}\n    respond: {{ status: 301, headers: {{ location: /new }}, body: \"\" }}\n  - match: {{ path: {{ prefix: /api }} }}\n    upstream: svc\n    strip_prefix: true\n    host_rewrite: internal.svc\n",
        up.address()
    )));
    let c = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let moved = c.get(gw.url("/moved")).send().await.unwrap();
    assert_eq!(moved.status(), 301);
    assert_eq!(moved.headers()["location"], "/new");

    let body: serde_json::Value = client()
        .get(gw.url("/api/users?x=1"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(body["path"], "/users");
    assert_eq!(body["query"], "x=1");
    assert_eq!(body["headers"]["host"][0], "internal.svc");
    let root: serde_json::Value = client()
        .get(gw.url("/api"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(root["path"], "/");
}
