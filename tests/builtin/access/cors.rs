//! `cors`: preflights answered or refused, exact and wildcard origins,
//! credentials, exposed headers, `Vary`, and requests without `Origin`
//! passing untouched.

use reqwest::{Method, header::HeaderMap};
use weir_tests::{Gateway, Upstream, client, filters};

use crate::{assert_check_rejects, filter, gateway_config, upstream_saw};

/// `/app`: named origins and subdomains of example.org, credentials.
/// `/public`: any origin, any header, no credentials.
async fn gateway() -> (Upstream, Gateway) {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&gateway_config(
        &up,
        "",
        &[
            filter(
                "app_cors",
                filters::CORS,
                "    config:\n      allow_origins: [\"https://app.example.com\", \"https://*.example.org\"]\n      allow_methods: [GET, POST, PUT]\n      allow_headers: [Content-Type, X-Trace]\n      expose_headers: [X-Upstream]\n      allow_credentials: true\n      max_age: 600\n",
            ),
            filter(
                "public_cors",
                filters::CORS,
                "    config: { allow_origins: [\"*\"], allow_headers: [\"*\"] }\n",
            ),
        ],
        &[("/app", "app_cors"), ("/public", "public_cors")],
    ));
    (up, gw)
}

async fn preflight(
    gw: &Gateway,
    path: &str,
    origin: &str,
    method: &str,
    headers: Option<&str>,
) -> (u16, HeaderMap) {
    let mut req = client()
        .request(Method::OPTIONS, gw.url(path))
        .header("origin", origin)
        .header("access-control-request-method", method);
    if let Some(headers) = headers {
        req = req.header("access-control-request-headers", headers);
    }
    let resp = req.send().await.expect("weir answers");
    (resp.status().as_u16(), resp.headers().clone())
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).map(|v| v.to_str().unwrap())
}

fn cors_headers(headers: &HeaderMap) -> Vec<String> {
    headers
        .keys()
        .map(|k| k.as_str().to_owned())
        .filter(|k| k.starts_with("access-control-"))
        .collect()
}

fn vary_tokens(headers: &HeaderMap) -> Vec<String> {
    headers
        .get_all("vary")
        .iter()
        .flat_map(|v| {
            v.to_str()
                .unwrap()
                .split(',')
                .map(|t| t.trim().to_ascii_lowercase())
                .collect::<Vec<_>>()
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_allowed_preflight_is_answered_by_the_filter() {
    let (up, gw) = gateway().await;
    let (status, h) = preflight(
        &gw,
        "/app/items",
        "https://app.example.com",
        "PUT",
        Some("content-type, X-TRACE"),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(
        header(&h, "access-control-allow-origin"),
        Some("https://app.example.com")
    );
    assert_eq!(
        header(&h, "access-control-allow-methods"),
        Some("GET, POST, PUT")
    );
    assert_eq!(
        header(&h, "access-control-allow-headers"),
        Some("content-type, x-trace")
    );
    assert_eq!(header(&h, "access-control-allow-credentials"), Some("true"));
    assert_eq!(header(&h, "access-control-max-age"), Some("600"));
    assert!(vary_tokens(&h).contains(&"origin".to_owned()), "{h:?}");
    // Methods are normalized like browsers do: `put` is PUT.
    assert_eq!(
        preflight(&gw, "/app/items", "https://app.example.com", "put", None)
            .await
            .0,
        204
    );
    assert_eq!(up.hits(), 0, "a preflight went upstream");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_preflight_carries_no_cors_headers() {
    let (up, gw) = gateway().await;
    let cases = [
        ("https://evil.example.net", "GET", None, "unknown origin"),
        (
            "https://app.example.com",
            "DELETE",
            None,
            "method not allowed",
        ),
        (
            "https://app.example.com",
            "PATCH",
            None,
            "method not allowed",
        ),
        (
            "https://app.example.com",
            "GET",
            Some("content-type, x-admin"),
            "header not allowed",
        ),
        ("http://app.example.com", "GET", None, "other scheme"),
        ("https://app.example.com:8443", "GET", None, "other port"),
        ("null", "GET", None, "the opaque origin"),
    ];
    for (origin, method, headers, what) in cases {
        let (status, h) = preflight(&gw, "/app", origin, method, headers).await;
        assert_eq!(status, 403, "{what}");
        assert!(cors_headers(&h).is_empty(), "{what}: {h:?}");
        assert!(vary_tokens(&h).contains(&"origin".to_owned()), "{what}");
    }
    assert_eq!(up.hits(), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn wildcard_origins_match_subdomains_on_a_label_boundary_only() {
    let (_up, gw) = gateway().await;
    for origin in [
        "https://eu.example.org",
        "https://api.eu.example.org",
        "HTTPS://EU.EXAMPLE.ORG",
    ] {
        let (status, h) = preflight(&gw, "/app", origin, "GET", None).await;
        assert_eq!(status, 204, "{origin}");
        assert_eq!(header(&h, "access-control-allow-origin"), Some(origin));
    }
    for origin in [
        "https://example.org",
        "https://evilexample.org",
        "https://eu.example.org.evil.net",
        "http://eu.example.org",
    ] {
        assert_eq!(
            preflight(&gw, "/app", origin, "GET", None).await.0,
            403,
            "{origin}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_actual_request_gets_the_origin_credentials_and_exposed_headers() {
    let (up, gw) = gateway().await;
    let resp = client()
        .post(gw.url("/app/orders"))
        .header("origin", "https://shop.example.org")
        .send()
        .await
        .unwrap();
    let h = resp.headers().clone();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        header(&h, "access-control-allow-origin"),
        Some("https://shop.example.org")
    );
    assert_eq!(header(&h, "access-control-allow-credentials"), Some("true"));
    assert_eq!(
        header(&h, "access-control-expose-headers"),
        Some("x-upstream")
    );
    assert_eq!(vary_tokens(&h), ["origin"]);

    // A disallowed origin still reaches the upstream (CORS is enforced by
    // the browser, which will not show the page the answer).
    let resp = client()
        .get(gw.url("/app/orders"))
        .header("origin", "https://evil.example.net")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(
        cors_headers(resp.headers()).is_empty(),
        "{:?}",
        resp.headers()
    );
    assert_eq!(vary_tokens(resp.headers()), ["origin"]);
    assert_eq!(up.hits(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lone_wildcard_answers_star_without_vary_or_credentials() {
    let (_up, gw) = gateway().await;
    let resp = client()
        .get(gw.url("/public/x"))
        .header("origin", "https://anyone.example")
        .send()
        .await
        .unwrap();
    let h = resp.headers();
    assert_eq!(header(h, "access-control-allow-origin"), Some("*"));
    assert_eq!(header(h, "access-control-allow-credentials"), None);
    assert!(!vary_tokens(h).contains(&"origin".to_owned()), "{h:?}");
    // `*` in allow_headers: the requested names are echoed, which also
    // covers `authorization` (a `*` answer would not).
    let (status, h) = preflight(
        &gw,
        "/public/x",
        "https://anyone.example",
        "POST",
        Some("Authorization, X-Anything"),
    )
    .await;
    assert_eq!(status, 204);
    assert_eq!(header(&h, "access-control-allow-origin"), Some("*"));
    assert_eq!(
        header(&h, "access-control-allow-headers"),
        Some("authorization, x-anything")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn requests_without_origin_pass_untouched() {
    let (up, gw) = gateway().await;
    let resp = client()
        .get(gw.url("/app/plain?x=1"))
        .header("x-trace", "t1")
        .send()
        .await
        .unwrap();
    let h = resp.headers().clone();
    assert!(cors_headers(&h).is_empty(), "{h:?}");
    // The answer would differ with an Origin: caches are told so.
    assert_eq!(vary_tokens(&h), ["origin"]);
    let seen = upstream_saw(resp).await;
    assert_eq!(seen["query"], "x=1");
    assert_eq!(seen["headers"]["x-trace"], serde_json::json!(["t1"]));
    // OPTIONS with Origin but no Access-Control-Request-Method is not a
    // preflight: it goes upstream like any request.
    let resp = client()
        .request(Method::OPTIONS, gw.url("/app/plain"))
        .header("origin", "https://app.example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(upstream_saw(resp).await["method"], "OPTIONS");
    assert_eq!(up.hits(), 2);
}

#[test]
fn weir_check_rejects_bad_cors_configs() {
    let check = |config: &str, expected: &str| {
        assert_check_rejects(
            "",
            "cors",
            filters::CORS,
            &format!("    config: {config}\n"),
            expected,
        );
    };
    check(
        "{ allow_origins: [\"*\"], allow_credentials: true }",
        "cannot be used with allow_credentials",
    );
    check(
        "{ allow_origins: [\"https://a.*.example.com\"] }",
        "a wildcard may only stand for the leftmost labels",
    );
    check(
        "{ allow_origins: [\"https://app.example.com/\"] }",
        "no path",
    );
    check("{ allow_origins: [] }", "at least one origin");
    check(
        "{ allow_origins: [\"*\"], allow_methods: [\"GET POST\"] }",
        "not a valid name",
    );
    check("{ allow_origins: [\"*\"], max_age: -1 }", "max_age");
    check("{ allow_origin: [\"*\"] }", "unknown field");
}
