//! `json-transform`: request and response bodies edited by JSON Pointer,
//! only for JSON content types, invalid JSON both ways, pointers to missing
//! fields, bodies over the cap, and `weir check` on bad pointers.

use std::net::SocketAddr;

use axum::Router;
use axum::body::Bytes;
use axum::http::HeaderMap;
use axum::response::IntoResponse;
use serde_json::json;
use weir_tests::{Gateway, Upstream, client, filters};

use crate::{check_fails, describe_config, described, filter, filter_with, gateway_config, route};

/// An upstream that answers each request with its own body, under the
/// content type the request asked for in `x-reply-type`: the tests choose
/// the response body a filter sees.
async fn start_reflector() -> SocketAddr {
    async fn reflect(headers: HeaderMap, body: Bytes) -> impl IntoResponse {
        let content_type = headers
            .get("x-reply-type")
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_else(|| "application/octet-stream".into());
        ([("content-type", content_type)], body)
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        axum::serve(listener, Router::new().fallback(reflect))
            .await
            .unwrap()
    });
    addr
}

/// Sends `body` as `content_type` through `path`; the upstream's report.
async fn post(gw: &Gateway, path: &str, content_type: &str, body: &str) -> reqwest::Response {
    client()
        .post(gw.url(path))
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .unwrap()
}

/// The body the describing upstream received.
async fn body_upstream_got(resp: reqwest::Response) -> String {
    let seen = described(resp).await;
    let body = seen["body"].as_str().unwrap().to_owned();
    assert_eq!(
        seen["body_len"],
        json!(body.len()),
        "framed with its new length"
    );
    body
}

#[tokio::test(flavor = "multi_thread")]
async fn request_bodies_have_fields_removed_renamed_redacted_and_added_in_order() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&describe_config(
        &up,
        &[filter(
            "json",
            filters::JSON_TRANSFORM,
            r#"{ request: {
                remove: [/password, /tags/0, /missing/deep],
                rename: { /user/name: /user/login, /absent: /elsewhere },
                redact: [/card/number, /nope],
                add: { /meta/source: weir, /tags/-: added, "/a~1b": { nested: [1] } } },
              create_parents: true }"#,
        )],
        &[route("/", "json")],
    ));
    let sent = r#"{"user":{"name":"ann","id":1},"password":"s3cret","card":{"number":"4111","exp":"12/30"},"tags":["a","b"],"z":1}"#;
    let got =
        body_upstream_got(post(&gw, "/", "application/vnd.api+json; charset=utf-8", sent).await)
            .await;
    // Members keep their order; missing pointers are skipped; `add` created
    // /meta; `~1` is a `/` in a member name.
    assert_eq!(
        got,
        r#"{"user":{"id":1,"login":"ann"},"card":{"number":"[redacted]","exp":"12/30"},"tags":["b","added"],"z":1,"a/b":{"nested":[1]},"meta":{"source":"weir"}}"#
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn add_skips_a_missing_parent_unless_told_and_redact_with_is_configurable() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&describe_config(
        &up,
        &[filter(
            "json",
            filters::JSON_TRANSFORM,
            r#"{ request: { redact: [/secret, /list/1], add: { /meta/source: weir, /top: 1, /list/9: x } },
                 redact_with: null }"#,
        )],
        &[route("/", "json")],
    ));
    let got = body_upstream_got(
        post(
            &gw,
            "/",
            "application/json",
            r#"{"a":1,"secret":{"k":"v"},"list":[1,2]}"#,
        )
        .await,
    )
    .await;
    assert_eq!(got, r#"{"a":1,"secret":null,"list":[1,null],"top":1}"#);

    // A body with nothing to change goes on byte for byte (spaces kept).
    let untouched = "{ \"b\" : 2 }";
    let gw2 = Gateway::start(&describe_config(
        &up,
        &[filter(
            "json",
            filters::JSON_TRANSFORM,
            "{ request: { remove: [/x] } }",
        )],
        &[route("/", "json")],
    ));
    assert_eq!(
        body_upstream_got(post(&gw2, "/", "application/json", untouched).await).await,
        untouched
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn non_json_bodies_pass_untouched_and_invalid_json_passes_or_gets_400() {
    let up = Upstream::start("svc").await;
    let edits = "request: { redact: [/password] }";
    let gw = Gateway::start(&describe_config(
        &up,
        &[
            filter("pass", filters::JSON_TRANSFORM, &format!("{{ {edits} }}")),
            filter(
                "reject",
                filters::JSON_TRANSFORM,
                &format!("{{ {edits}, on_invalid_json: reject }}"),
            ),
        ],
        &[route("/pass", "pass"), route("/reject", "reject")],
    ));
    let secret = r#"{"password":"x"}"#;
    for path in ["/pass", "/reject"] {
        for content_type in [
            "text/plain",
            "application/x-www-form-urlencoded",
            "application/json-seq",
        ] {
            let got = body_upstream_got(post(&gw, path, content_type, secret).await).await;
            assert_eq!(got, secret, "{path} {content_type}");
        }
        let got =
            body_upstream_got(post(&gw, path, "Application/JSON ; charset=utf-8", secret).await)
                .await;
        assert_eq!(got, r#"{"password":"[redacted]"}"#, "{path}");
    }

    let invalid = r#"{"password": "x""#;
    assert_eq!(
        body_upstream_got(post(&gw, "/pass", "application/json", invalid).await).await,
        invalid
    );
    let hits = up.hits();
    let resp = post(&gw, "/reject", "application/json", invalid).await;
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.json::<serde_json::Value>().await.unwrap(),
        json!({ "error": "request body is not valid JSON" })
    );
    assert_eq!(
        up.hits(),
        hits,
        "a rejected body never reaches the upstream"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn response_bodies_are_edited_after_the_headers_and_framed_by_weir() {
    let upstream = start_reflector().await;
    let gw = Gateway::start(&gateway_config(
        &upstream.to_string(),
        &[filter(
            "json",
            filters::JSON_TRANSFORM,
            "{ response: { redact: [/token], remove: [/internal], rename: { /id: /user_id } } }",
        )],
        &[route("/", "json")],
    ));
    let reply = |content_type: &'static str, body: &'static str| {
        client()
            .post(gw.url("/"))
            .header("x-reply-type", content_type)
            .body(body)
            .send()
    };
    let resp = reply(
        "application/problem+json",
        r#"{"token":"abc","internal":true,"id":7,"ok":1}"#,
    )
    .await
    .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers().get("content-length"),
        None,
        "weir framed the new body itself"
    );
    assert_eq!(
        resp.text().await.unwrap(),
        r#"{"token":"[redacted]","ok":1,"user_id":7}"#
    );

    for (content_type, body) in [
        ("text/plain", r#"{"token":"abc"}"#),
        ("application/json", r#"{"token": "abc""#),
    ] {
        let resp = reply(content_type, body).await.unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.text().await.unwrap(),
            body,
            "{content_type}: passed as it came"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_the_cap_gets_413_on_the_request_and_passes_unfiltered_on_the_response() {
    let upstream = start_reflector().await;
    let limits = "    limits: { max_body_bytes: 1KiB }\n";
    let gw = Gateway::start(&gateway_config(
        &upstream.to_string(),
        &[
            filter_with(
                "req",
                filters::JSON_TRANSFORM,
                "{ request: { redact: [/token] } }",
                limits,
            ),
            filter_with(
                "resp",
                filters::JSON_TRANSFORM,
                "{ response: { redact: [/token] } }",
                limits,
            ),
        ],
        &[route("/req", "req"), route("/resp", "resp")],
    ));
    let big = format!(r#"{{"token":"abc","pad":"{}"}}"#, "x".repeat(2048));
    let small = r#"{"token":"abc"}"#;

    let resp = post(&gw, "/req", "application/json", &big).await;
    assert_eq!(resp.status(), 413);
    let resp = post(&gw, "/req", "application/json", small).await;
    assert_eq!(resp.status(), 200);

    let reply = |body: String| {
        client()
            .post(gw.url("/resp"))
            .header("x-reply-type", "application/json")
            .body(body)
            .send()
    };
    let resp = reply(big.clone()).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.text().await.unwrap(),
        big,
        "over the cap: sent on unfiltered"
    );
    assert!(
        gw.logs().contains("passing it through unfiltered"),
        "{}",
        gw.logs()
    );
    let resp = reply(small.to_owned()).await.unwrap();
    assert_eq!(resp.text().await.unwrap(), r#"{"token":"[redacted]"}"#);
}

#[tokio::test(flavor = "multi_thread")]
async fn weir_check_rejects_bad_pointers_and_options_at_the_filter_config() {
    let cases = [
        (
            "{ request: { remove: [user/name] } }",
            "request.remove: \"user/name\" is not a JSON Pointer",
        ),
        (
            "{ response: { redact: ['/a~2b'] } }",
            "`~` must be followed by 0",
        ),
        (
            "{ request: { add: { '': 1 } } }",
            "request.add: \"\" is not a JSON Pointer",
        ),
        (
            "{ request: { rename: { /a: /b, /b: /c } } }",
            "both renamed and a rename target",
        ),
        (
            "{ request: { remove: [/a] }, on_invalid_json: drop }",
            "unknown variant `drop`",
        ),
        ("{}", "nothing to do"),
    ];
    for (cfg, message) in cases {
        let out = check_fails(&gateway_config(
            "127.0.0.1:9",
            &[filter("json", filters::JSON_TRANSFORM, cfg)],
            &[route("/", "json")],
        ));
        assert!(
            out.contains("filters.json.config (line") && out.contains(message),
            "{cfg}: expected {message:?} at filters.json.config:\n{out}"
        );
    }
}
