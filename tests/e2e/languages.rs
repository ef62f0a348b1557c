//! Filters in every language through the real gateway: the reference filter
//! (`filters/reference/README.md`) built from Rust, JavaScript, Python, C and Go,
//! held to one shared set of requests and answers; and the JavaScript and
//! Python examples. JavaScript, Python, C and Go components come from
//! `scripts/build-language-filters.sh` (`weir_tests::filters` names those it
//! built: without them these tests do not compile); the configs share one
//! compiled-artifact cache, so only the first run compiles them.

use std::time::Duration;

use reqwest::header::HeaderMap;
use weir_tests::{
    Gateway, Upstream, client, filters, free_port, wait_until, weir_check, workspace_root,
};

use crate::config;

/// The reference filter in each language, with the name it reports in
/// `x-ref-lang`.
const REFERENCE_BUILDS: [(&str, &str); 5] = [
    ("rust", filters::REFERENCE_RUST),
    ("js", filters::REFERENCE_JS),
    ("python", filters::REFERENCE_PYTHON),
    ("c", filters::REFERENCE_C),
    ("go", filters::REFERENCE_GO),
];

/// Compiled JavaScript and Python components take seconds to compile: every
/// gateway of these tests keeps the artifacts in one directory under target/.
fn cache_dir() -> String {
    workspace_root()
        .join("target/weir-e2e-filter-cache")
        .display()
        .to_string()
}

pub(crate) fn with_cache(rest: &str) -> String {
    config(rest).replacen(
        "server:\n",
        &format!("server:\n  cache_dir: {}\n", cache_dir()),
        1,
    )
}

/// `/ref` counts in a memory store; `/down` in a Redis store nobody serves.
fn reference_config(module: &str, upstream: &Upstream, redis_port: u16) -> String {
    with_cache(&format!(
        "upstreams:\n  api:\n    targets: [{{ address: \"{up}\" }}]\n\
         key_value:\n  counters:\n    memory: {{}}\n  down:\n    redis: {{ url: \"redis://127.0.0.1:{redis_port}/0\", connect_timeout: 100ms, command_timeout: 100ms }}\n\
         filters:\n  ref:\n    module: {m}\n    config: {{ store: counters }}\n    grants: {{ key_value: [counters] }}\n\
         \x20 ref-down:\n    module: {m}\n    config: {{ store: down }}\n    grants: {{ key_value: [down] }}\n    limits: {{ call_deadline: 2s }}\n\
         routes:\n  - match: {{ path: {{ prefix: /down }} }}\n    upstream: api\n    filters: [ref-down]\n\
         \x20 - match: {{ path: {{ prefix: / }} }}\n    upstream: api\n    filters: [ref]\n",
        up = upstream.address(),
        m = module,
    ))
}
/// `weir check` output for a config running `module` as filter `NAME` with
/// `config` (YAML) on a direct-response route; whether it passed.
pub(crate) fn check_filter_config(
    name: &str,
    module: &str,
    config: &str,
    extra: &str,
) -> (bool, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weir.yaml");
    let cfg = with_cache(&format!(
        "{extra}filters:\n  {name}:\n    module: {module}\n    config: {config}\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    respond: {{ status: 200 }}\n    filters: [{name}]\n"
    ));
    std::fs::write(&path, cfg.replace("{port}", &free_port().to_string())).unwrap();
    weir_check(&path, false)
}

pub(crate) fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get(name)
        .map(|v| v.to_str().expect("ASCII header").to_owned())
}

/// One request through the gateway: (status, headers, body).
pub(crate) async fn send(
    gw: &Gateway,
    method: reqwest::Method,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, HeaderMap, String) {
    let mut req = client().request(method, gw.url(path)).body(body.to_owned());
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let resp = req.send().await.expect("weir answers");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("body"))
}

/// The headers the upstream saw, from its describe answer.
pub(crate) fn upstream_saw(body: &str) -> serde_json::Value {
    serde_json::from_str::<serde_json::Value>(body).expect("JSON from the upstream")["headers"]
        .clone()
}

/// The shared requests and the answers every language must give.
async fn check_reference(lang: &str, gw: &Gateway, upstream: &Upstream) {
    use reqwest::Method;
    let get = Method::GET;

    // Request headers: a header read and one set; the context carries the
    // name to the response phase; the key-value counter counts per name.
    for expected_count in ["1", "2"] {
        let (status, headers, body) = send(
            gw,
            get.clone(),
            "/ref/hello",
            &[("x-ref-name", "alice")],
            "",
        )
        .await;
        assert_eq!(status, 200, "{lang}: {body}");
        assert_eq!(header(&headers, "x-ref-lang").as_deref(), Some(lang));
        assert_eq!(
            header(&headers, "x-ref-name").as_deref(),
            Some("alice"),
            "{lang}"
        );
        assert_eq!(
            header(&headers, "x-ref-count").as_deref(),
            Some(expected_count),
            "{lang}"
        );
        assert_eq!(
            upstream_saw(&body)["x-ref-greeting"],
            serde_json::json!(["hello, alice"]),
            "{lang}"
        );
    }
    let (status, headers, body) = send(gw, get.clone(), "/ref/hello", &[], "").await;
    assert_eq!(status, 200, "{lang}: {body}");
    assert_eq!(
        header(&headers, "x-ref-name").as_deref(),
        Some("anonymous"),
        "{lang}"
    );
    assert_eq!(
        header(&headers, "x-ref-count").as_deref(),
        Some("1"),
        "{lang}"
    );
    assert_eq!(
        upstream_saw(&body)["x-ref-greeting"],
        serde_json::json!(["hello, anonymous"]),
        "{lang}"
    );

    // The deny path: the filter answers, the upstream never sees the request,
    // the response phase still runs (x-ref-lang) without context values.
    let hits = upstream.hits();
    let (status, headers, body) = send(
        gw,
        get.clone(),
        "/ref/hello",
        &[("x-ref-deny", "yes"), ("x-ref-name", "eve")],
        "",
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (403, "denied by the reference filter"),
        "{lang}"
    );
    assert_eq!(
        header(&headers, "content-type").as_deref(),
        Some("text/plain"),
        "{lang}"
    );
    assert_eq!(
        header(&headers, "x-ref-denied").as_deref(),
        Some("yes"),
        "{lang}"
    );
    assert_eq!(header(&headers, "x-ref-lang").as_deref(), Some(lang));
    assert_eq!(header(&headers, "x-ref-name"), None, "{lang}");
    assert_eq!(header(&headers, "x-ref-count"), None, "{lang}");
    assert_eq!(
        upstream.hits(),
        hits,
        "{lang}: a denied request reached the upstream"
    );

    // Body replacement, request side (the upstream echoes what it got) and
    // response side (wrapped with the language and the context's name).
    let (status, headers, body) = send(
        gw,
        Method::POST,
        "/echo-body",
        &[("x-ref-upper", "yes")],
        "make me loud; 42!",
    )
    .await;
    assert_eq!(
        (status, body.as_str()),
        (200, "MAKE ME LOUD; 42!"),
        "{lang}"
    );
    assert_eq!(
        header(&headers, "x-ref-count").as_deref(),
        Some("2"),
        "{lang}: anonymous's second request"
    );
    let (status, _, body) = send(
        gw,
        Method::POST,
        "/echo-body",
        &[("x-ref-wrap", "yes"), ("x-ref-name", "bob")],
        "payload",
    )
    .await;
    assert_eq!(
        (status, body),
        (200, format!("[{lang}:bob]payload[/{lang}]")),
        "{lang}"
    );

    // A key-value error reaches the filter as an error value, not a trap.
    let (status, headers, _) = send(gw, get.clone(), "/down", &[("x-ref-name", "carol")], "").await;
    assert_eq!(status, 200, "{lang}");
    assert_eq!(
        header(&headers, "x-ref-count").as_deref(),
        Some("unavailable"),
        "{lang}"
    );

    // The log phase: one line per request, tagged with the filter's name.
    wait_until(Duration::from_secs(10), "the log phase's lines", || {
        let logs = gw.logs();
        [
            "reference: GET /ref/hello -> 200",
            "reference: GET /ref/hello -> 403",
            "reference: POST /echo-body -> 200",
        ]
        .iter()
        .all(|line| {
            logs.lines()
                .any(|l| l.contains(line) && l.contains("filter=\"ref\""))
        })
    });
}

#[tokio::test(flavor = "multi_thread")]
async fn the_reference_filter_behaves_the_same_in_every_language() {
    let upstream = Upstream::start("api").await;
    for (lang, module) in REFERENCE_BUILDS {
        let gw = Gateway::start(&reference_config(module, &upstream, free_port()));
        check_reference(lang, &gw, &upstream).await;
    }
}

#[test]
fn every_language_rejects_a_reference_config_without_a_store() {
    for (lang, module) in REFERENCE_BUILDS {
        // The grant has to be there: the store's absence is the error.
        let (ok, out) = check_filter_config(
            "ref",
            module,
            "{ other: 1 }\n    grants: { key_value: [counters] }",
            "key_value:\n  counters:\n    memory: {}\n",
        );
        assert!(!ok, "{lang}: {out}");
        assert!(
            out.contains("filters.ref.config") && out.contains("\"store\""),
            "{lang}: {out}"
        );
    }
}

fn ab_config(upstream: &Upstream) -> String {
    let module = filters::AB_ROUTING_JS;
    with_cache(&format!(
        "upstreams:\n  shop:\n    targets: [{{ address: \"{}\" }}]\n\
         filters:\n  all-b:\n    module: {m}\n    config: {{ split: 100 }}\n\
         \x20 all-a:\n    module: {m}\n    config: {{ split: 0, cookie: variant, prefix: {{ a: /v1, b: /v2 }} }}\n\
         routes:\n  - match: {{ path: {{ prefix: /b }} }}\n    upstream: shop\n    filters: [all-b]\n\
         \x20 - match: {{ path: {{ prefix: /a }} }}\n    upstream: shop\n    filters: [all-a]\n",
        upstream.address(),
        m = module
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn ab_routing_assigns_a_variant_once_and_keeps_it_by_cookie() {
    let upstream = Upstream::start("shop").await;
    let gw = Gateway::start(&ab_config(&upstream));

    // A new visitor is assigned (split 100: b) and gets the cookie.
    let (status, headers, body) = send(&gw, reqwest::Method::GET, "/b/cart", &[], "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(upstream_saw(&body)["x-variant"], serde_json::json!(["b"]));
    assert_eq!(header(&headers, "x-variant").as_deref(), Some("b"));
    let cookie = header(&headers, "set-cookie").expect("a new visitor gets the cookie");
    assert!(cookie.starts_with("ab=b; Path=/; Max-Age="), "{cookie}");

    // Sticky: the cookie wins over the split, and is not sent again.
    let (_, headers, body) = send(
        &gw,
        reqwest::Method::GET,
        "/b/cart",
        &[("cookie", "theme=dark; ab=a")],
        "",
    )
    .await;
    assert_eq!(upstream_saw(&body)["x-variant"], serde_json::json!(["a"]));
    assert_eq!(header(&headers, "x-variant").as_deref(), Some("a"));
    assert_eq!(header(&headers, "set-cookie"), None);

    // A cookie with another value is replaced.
    let (_, headers, _) = send(
        &gw,
        reqwest::Method::GET,
        "/b/cart",
        &[("cookie", "ab=zzz")],
        "",
    )
    .await;
    assert!(header(&headers, "set-cookie").unwrap().starts_with("ab=b;"));

    // The variant picks the upstream path; the cookie name is configurable.
    let (_, headers, body) = send(&gw, reqwest::Method::GET, "/a/cart", &[], "").await;
    let seen: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(seen["path"], "/v1/a/cart");
    assert!(
        header(&headers, "set-cookie")
            .unwrap()
            .starts_with("variant=a;")
    );
    let (_, _, body) = send(
        &gw,
        reqwest::Method::GET,
        "/a/cart",
        &[("cookie", "variant=b")],
        "",
    )
    .await;
    let seen: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(seen["path"], "/v2/a/cart");
}

fn validate_config(upstream: &Upstream, config_line: &str) -> String {
    with_cache(&format!(
        "upstreams:\n  api:\n    targets: [{{ address: \"{}\" }}]\n\
         filters:\n  validate:\n    module: {}\n{config_line}\
         routes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: api\n    filters: [validate]\n",
        upstream.address(),
        filters::VALIDATE_PY
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn validate_py_answers_400_with_the_schema_errors() {
    let upstream = Upstream::start("api").await;
    let schema = "    config:\n      schema:\n        type: object\n        required: [name]\n        properties:\n          name: { type: string }\n          age: { type: integer, minimum: 0 }\n";
    let gw = Gateway::start(&validate_config(&upstream, schema));
    let post = reqwest::Method::POST;

    let valid = r#"{"name":"ada","age":36}"#;
    let (status, _, body) = send(&gw, post.clone(), "/echo-body", &[], valid).await;
    assert_eq!((status, body.as_str()), (200, valid));

    let hits = upstream.hits();
    let (status, headers, body) = send(
        &gw,
        post.clone(),
        "/echo-body",
        &[],
        r#"{"name":"ada","age":-1}"#,
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(
        header(&headers, "content-type").as_deref(),
        Some("application/json")
    );
    let answer: serde_json::Value = serde_json::from_str(&body).unwrap();
    let errors = answer["errors"].as_array().expect("errors list");
    assert!(
        errors[0].as_str().unwrap().contains("age") && errors[0].as_str().unwrap().contains("0"),
        "{body}"
    );

    let (status, _, body) = send(&gw, post.clone(), "/echo-body", &[], r#"{"age":3}"#).await;
    assert_eq!(status, 400);
    assert!(body.contains("name"), "{body}");
    let (status, _, body) = send(&gw, post, "/echo-body", &[], "not json").await;
    assert_eq!(status, 400);
    assert!(body.contains("body is not JSON"), "{body}");
    assert_eq!(
        upstream.hits(),
        hits,
        "invalid bodies never reach the upstream"
    );

    // Other methods pass untouched.
    let (status, _, _) = send(&gw, reqwest::Method::GET, "/anything", &[], "").await;
    assert_eq!(status, 200);
}

#[test]
fn validate_py_reports_a_missing_schema_at_check_time() {
    let (ok, out) = check_filter_config("validate", filters::VALIDATE_PY, "{ schema: 5 }", "");
    assert!(!ok, "{out}");
    assert!(
        out.contains("filters.validate.config") && out.contains("schema"),
        "{out}"
    );
}

/// The SDKs' test filters: secrets and outbound HTTP from JavaScript and
/// Python; a response edit queued in the request phase reaches the client
/// whichever answers (the filter here).
#[tokio::test(flavor = "multi_thread")]
async fn javascript_and_python_filters_use_secrets_and_outbound_http() {
    let allowed = Upstream::start("allowed").await;
    let unreachable_port = free_port();
    for (lang, module) in [
        ("js", filters::SDK_JS_TEST),
        ("python", filters::SDK_PYTHON_TEST),
    ] {
        let filter = |filter: &str, config: &str| {
            format!(
                "  {filter}:\n    module: {module}\n    config: {config}\n    grants: {{ secrets: [token], http: {{ allow: [\"http://{}\"] }} }}\n    limits: {{ call_deadline: 5s }}\n",
                allowed.address()
            )
        };
        let cfg = with_cache(&format!(
            "secrets:\n  token:\n    env: WEIR_LANG_TEST_TOKEN\n  other:\n    env: WEIR_LANG_TEST_TOKEN\nfilters:\n{}{}routes:\n  - match: {{ path: {{ prefix: /denied }} }}\n    respond: {{ status: 404 }}\n    filters: [denied]\n  - match: {{ path: {{ prefix: / }} }}\n    respond: {{ status: 404 }}\n    filters: [caps]\n",
            filter(
                "caps",
                &format!(
                    "{{ url: \"http://{}/echo-body\", body: ping }}",
                    allowed.address()
                )
            ),
            // Without a body: see docs/languages.md on refused fetch() with a body.
            filter(
                "denied",
                &format!("{{ url: \"http://127.0.0.1:{unreachable_port}/x\" }}")
            ),
        ));
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("weir.yaml"),
            cfg.replace("{port}", &port.to_string()),
        )
        .unwrap();
        let gw = Gateway::spawn_with_env(dir, port, &[("WEIR_LANG_TEST_TOKEN", "s3cret")]);

        let (status, headers, body) = send(
            &gw,
            reqwest::Method::GET,
            "/secret",
            &[("x-secret", "token")],
            "",
        )
        .await;
        assert_eq!((status, body.as_str()), (200, "s3cret"), "{lang}");
        assert_eq!(
            header(&headers, "x-early-response").as_deref(),
            Some(lang),
            "{lang}"
        );
        let (status, _, body) = send(
            &gw,
            reqwest::Method::GET,
            "/secret",
            &[("x-secret", "other")],
            "",
        )
        .await;
        assert_eq!(status, 500, "{lang}: {body}");
        assert!(
            body.contains("other") && !body.contains("s3cret"),
            "{lang}: {body}"
        );

        // The upstream echoes the body the filter posted.
        let hits = allowed.hits();
        let (status, _, body) = send(&gw, reqwest::Method::GET, "/fetch", &[], "").await;
        assert_eq!((status, body.as_str()), (200, "200 ping"), "{lang}");
        assert_eq!(allowed.hits(), hits + 1, "{lang}");
        // An origin outside the grant is refused before any connection: the
        // filter gets an error (fetch() says only "NetworkError"), weir logs why.
        let (status, headers, body) = send(&gw, reqwest::Method::GET, "/denied", &[], "").await;
        assert_eq!(status, 502, "{lang}: {body}");
        assert!(body.starts_with("fetch failed"), "{lang}: {body}");
        assert_eq!(
            header(&headers, "x-early-response").as_deref(),
            Some(lang),
            "{lang}"
        );
        wait_until(Duration::from_secs(10), "the refusal in weir's log", || {
            gw.logs().contains("outbound request refused")
        });
    }
}
