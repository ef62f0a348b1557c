//! `rewrite`: prefix and regex rewrites, query edits that keep the other
//! parameters byte for byte, redirects, the order against a route's
//! `strip_prefix`, and `weir check` on bad configs.

use reqwest::redirect::Policy;
use serde_json::json;
use weir_tests::{Gateway, Upstream, client, filters};

use crate::{check_fails, describe_config, described, filter, gateway_config, route};

/// A gateway whose only route `/` runs `rewrite` with these rules.
async fn rewriting(rules: &str) -> (Upstream, Gateway) {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&describe_config(
        &up,
        &[filter(
            "rw",
            filters::REWRITE,
            &format!("{{ rules: [{rules}] }}"),
        )],
        &[route("/", "rw")],
    ));
    (up, gw)
}

/// The path and query the upstream received for `path_and_query`.
async fn sent_upstream(gw: &Gateway, path_and_query: &str) -> (String, serde_json::Value) {
    let seen = described(client().get(gw.url(path_and_query)).send().await.unwrap()).await;
    (
        seen["path"].as_str().unwrap().to_owned(),
        seen["query"].clone(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn prefix_rules_strip_or_replace_whole_segments() {
    let (_up, gw) =
        rewriting("{ prefix: { from: /api/v1, to: /v2 } }, { prefix: { from: /strip/ } }").await;
    for (sent, path, query) in [
        ("/api/v1/users", "/v2/users", json!(null)),
        ("/api/v1", "/v2", json!(null)),
        ("/api/v1/", "/v2/", json!(null)),
        ("/api/v1x/users", "/api/v1x/users", json!(null)),
        ("/strip/a/b?x=1", "/a/b", json!("x=1")),
        ("/strip", "/", json!(null)),
        ("/other", "/other", json!(null)),
    ] {
        assert_eq!(
            sent_upstream(&gw, sent).await,
            (path.to_owned(), query),
            "{sent}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn regex_rules_rewrite_with_numbered_and_named_captures() {
    let (_up, gw) = rewriting(
        r#"{ regex: { pattern: '^/users/(\d+)/posts/(?P<post>\d+)$', replacement: '/v2/posts/${post}/by/$1' } },
           { regex: { pattern: '^/v2/posts/(\d+)/by/(\d+)$', replacement: '/v3/${1}_$2' } }"#,
    )
    .await;
    // The second rule sees what the first made.
    assert_eq!(
        sent_upstream(&gw, "/users/7/posts/99?x=%20").await,
        ("/v3/99_7".into(), json!("x=%20"))
    );
    assert_eq!(
        sent_upstream(&gw, "/users/x/posts/99").await.0,
        "/users/x/posts/99"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn query_parameters_are_set_and_removed_keeping_the_others_as_sent() {
    let (_up, gw) = rewriting(
        r#"{ query: { set: { version: "2 beta", "a b": "c&d/é" }, remove: [debug, "x y"] } }"#,
    )
    .await;
    // Untouched parameters keep their place and their exact encoding; names
    // are compared decoded (`x+y` is "x y"); repeats of a set name go.
    let (_, query) = sent_upstream(
        &gw,
        "/q?z=%2Fkeep%20me&debug=1&version=1&x+y=3&b=%C3%A9&version=0&debug",
    )
    .await;
    assert_eq!(
        query,
        json!("z=%2Fkeep%20me&version=2+beta&b=%C3%A9&a+b=c%26d%2F%C3%A9")
    );
    // Missing ones are appended in name order.
    assert_eq!(
        sent_upstream(&gw, "/q").await.1,
        json!("a+b=c%26d%2F%C3%A9&version=2+beta")
    );

    let (_up, gw) = rewriting("{ query: { remove: [debug] } }").await;
    assert_eq!(
        sent_upstream(&gw, "/q?debug=1&debug=2").await.1,
        json!(null),
        "no `?` left"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn redirects_answer_with_their_status_and_templated_location() {
    let (up, gw) = rewriting(
        r#"{ prefix: { from: /legacy, to: /old } },
           { redirect: { pattern: '^/old/(?P<rest>.*)$', location: 'https://new.example.com/${rest}', status: 301 } },
           { redirect: { pattern: '^/temp/(.*)$', location: '/moved/$1?via=weir', status: 307, keep_query: false } },
           { redirect: { pattern: '^/perm/(.*)$', location: '/moved/$1?via=weir', status: 308 } },
           { redirect: { pattern: '^/(found|perm)/', location: '/found' } }"#,
    )
    .await;
    let no_follow = reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .unwrap();
    for (sent, status, location) in [
        (
            "/old/a/b?x=1&y=%20z",
            301,
            "https://new.example.com/a/b?x=1&y=%20z",
        ),
        // A rewrite before a redirect: the redirect sees the rewritten path.
        ("/legacy/c", 301, "https://new.example.com/c"),
        ("/temp/t?dropped=1", 307, "/moved/t?via=weir"),
        // The first matching redirect answers, not the later `^/(found|perm)/`.
        ("/perm/p?k=v", 308, "/moved/p?via=weir&k=v"),
        ("/found/f", 302, "/found"),
    ] {
        let resp = no_follow.post(gw.url(sent)).send().await.unwrap();
        assert_eq!(resp.status(), status, "{sent}");
        assert_eq!(resp.headers()["location"], location, "{sent}");
    }
    assert_eq!(up.hits(), 0, "redirects never reach the upstream");
    assert_eq!(sent_upstream(&gw, "/elsewhere").await.0, "/elsewhere");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_routes_strip_prefix_applies_to_the_path_the_filter_made() {
    let up = Upstream::start("svc").await;
    let cfg = gateway_config(
        &up.address(),
        &[filter(
            "rw",
            filters::REWRITE,
            r#"{ rules: [{ regex: { pattern: '^/svc/items/(\d+)$', replacement: '/svc/item/$1' } }] }"#,
        )],
        &["  - match: { path: { prefix: /svc } }\n    upstream: svc\n    strip_prefix: true\n    filters: [rw]\n".to_owned()],
    );
    let gw = Gateway::start(&cfg);
    // The filter sees /svc/items/5 (not yet stripped) and makes /svc/item/5;
    // then the route strips /svc.
    assert_eq!(sent_upstream(&gw, "/svc/items/5").await.0, "/item/5");
    assert_eq!(sent_upstream(&gw, "/svc/other").await.0, "/other");
}

#[tokio::test(flavor = "multi_thread")]
async fn weir_check_rejects_bad_regexes_groups_and_statuses_at_the_filter_config() {
    let cases = [
        (
            "{ rules: [{ regex: { pattern: '^/(unclosed', replacement: / } }] }",
            "rules[0]: regex.pattern: invalid regex",
        ),
        (
            "{ rules: [{ regex: { pattern: '^/(a)$', replacement: '/$2' } }] }",
            "refers to group `2`",
        ),
        (
            "{ rules: [{ regex: { pattern: '^/(a)$', replacement: '/$1x' } }] }",
            "refers to group `1x`",
        ),
        (
            "{ rules: [{ prefix: { from: /a } }, { redirect: { pattern: '^/(?P<n>.*)', location: '/${m}' } }] }",
            "rules[1]: redirect.location",
        ),
        (
            "{ rules: [{ redirect: { pattern: '^/', location: /x, status: 303 } }] }",
            "not a redirect status",
        ),
        (
            "{ rules: [{ prefix: { from: api } }] }",
            "must start with `/`",
        ),
        (
            "{ rules: [{ query: { set: { a: b }, remove: [a] } }] }",
            "both set and removed",
        ),
        ("{ rules: [{ rename: {} }] }", "unknown variant `rename`"),
        ("{ rules: [] }", "`rules` is empty"),
    ];
    for (cfg, message) in cases {
        let out = check_fails(&gateway_config(
            "127.0.0.1:9",
            &[filter("rw", filters::REWRITE, cfg)],
            &[route("/", "rw")],
        ));
        assert!(
            out.contains("filters.rw.config (line") && out.contains(message),
            "{cfg}: expected {message:?} at filters.rw.config:\n{out}"
        );
    }
}
