//! `headers`: request and response edits in their documented order, every
//! template variable, a missing context value both ways, values weir refuses,
//! and `weir check` on bad configs.

use serde_json::json;
use weir_tests::{Gateway, Upstream, client, filters};

use crate::{check_fails, describe_config, described, filter, route};

/// Puts `sub` into the context as an auth filter would.
fn set_sub(value: &str) -> String {
    filter(
        "auth",
        filters::TEST_SET_CONTEXT,
        &format!("{{ values: {{ sub: {value:?} }} }}"),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn request_headers_are_removed_renamed_set_and_added_from_templates() {
    let up = Upstream::start("svc").await;
    let headers = filter(
        "hdr",
        filters::HEADERS,
        r#"{ request: {
            remove: [x-drop, x-user],
            rename: { x-old: x-new },
            set: { x-user: "${ctx.sub}", x-ip: "${client_ip}", x-rid: "${request_id}",
                   x-line: "${method} ${path}?${query} on ${host} by ${header.x-agent}, cost $$5" },
            add: { x-via: [weir, edge], x-new: "added after the rename" } } }"#,
    );
    let gw = Gateway::start(&describe_config(
        &up,
        &[set_sub("alice"), headers],
        &[route("/", "auth, hdr")],
    ));
    let seen = described(
        client()
            .get(gw.url("/orders/7?limit=2"))
            .header("x-drop", "gone")
            .header("x-user", "mallory")
            .header("x-old", "v1")
            .header("x-request-id", "rid-42")
            .header("x-agent", "tester")
            .send()
            .await
            .unwrap(),
    )
    .await;
    let h = &seen["headers"];
    assert_eq!(h["x-drop"], json!(null), "removed");
    assert_eq!(h["x-old"], json!(null), "renamed away");
    // Rename runs before add: x-new has the renamed value, then the added one.
    assert_eq!(h["x-new"], json!(["v1", "added after the rename"]));
    // The client's own x-user was removed, then set from the context.
    assert_eq!(h["x-user"], json!(["alice"]));
    assert_eq!(h["x-ip"], json!(["127.0.0.1"]));
    assert_eq!(h["x-rid"], json!(["rid-42"]));
    let host = format!("127.0.0.1:{}", gw.port);
    assert_eq!(
        h["x-line"],
        json!([format!(
            "GET /orders/7?limit=2 on {host} by tester, cost $5"
        )])
    );
    assert_eq!(h["x-via"], json!(["weir", "edge"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn response_headers_are_edited_before_the_client() {
    let up = Upstream::start("svc").await;
    let headers = filter(
        "hdr",
        filters::HEADERS,
        r#"{ response: {
            remove: [content-type],
            rename: { x-upstream: x-served-by },
            set: { x-request-id: "${request_id}" },
            add: { x-subject: "${ctx.sub}", x-asked-for: "${path}" } } }"#,
    );
    let gw = Gateway::start(&describe_config(
        &up,
        &[set_sub("bob"), headers],
        &[route("/", "auth, hdr")],
    ));
    let resp = client()
        .get(gw.url("/a/b"))
        .header("x-request-id", "rid-7")
        .send()
        .await
        .unwrap();
    let h = resp.headers();
    assert_eq!(h.get("content-type"), None);
    assert_eq!(h.get("x-upstream"), None);
    assert_eq!(h["x-served-by"], "svc");
    assert_eq!(h["x-request-id"], "rid-7");
    assert_eq!(h["x-subject"], "bob");
    assert_eq!(h["x-asked-for"], "/a/b");
    // The request went upstream untouched: this filter has no request edits.
    let seen: serde_json::Value = resp.json().await.unwrap();
    assert_eq!(seen["headers"]["x-subject"], json!(null));
}

/// Response edits without a rename are handed to weir while the request
/// passes (no response-headers call): they land on whatever answers the
/// request, before the response phases, which see them.
#[tokio::test(flavor = "multi_thread")]
async fn response_edits_without_renames_land_on_whatever_answers() {
    let up = Upstream::start("svc").await;
    let early = filter(
        "early",
        filters::HEADERS,
        r#"{ response: { remove: [x-upstream], set: { x-early: "${ctx.sub}" },
                         add: { x-asked-for: "${path}" } } }"#,
    );
    let late = filter(
        "late",
        filters::HEADERS,
        r#"{ response: { rename: { x-early: x-renamed } } }"#,
    );
    let moved = filter(
        "moved",
        filters::REWRITE,
        r#"{ rules: [ { redirect: { pattern: '^/moved', location: /elsewhere } } ] }"#,
    );
    let admin_port = weir_tests::free_port();
    let gw = Gateway::start(&format!(
        "{}admin:\n  address: 127.0.0.1:{admin_port}\n",
        describe_config(
            &up,
            &[set_sub("carol"), early, late, moved],
            &[
                route("/both", "auth, early, late"),
                route("/moved", "auth, early, moved"),
                route("/", "auth, early"),
            ],
        )
    ));
    let resp = client().get(gw.url("/plain")).send().await.unwrap();
    let h = resp.headers();
    assert_eq!(h.get("x-upstream"), None);
    assert_eq!(h["x-early"], "carol");
    assert_eq!(h["x-asked-for"], "/plain");
    let seen = described(resp).await;
    assert_eq!(
        seen["headers"]["x-early"],
        json!(null),
        "not a request edit"
    );

    // A response-phase filter sees the early edits already applied.
    let resp = client().get(gw.url("/both")).send().await.unwrap();
    assert_eq!(resp.headers().get("x-early"), None);
    assert_eq!(resp.headers()["x-renamed"], "carol");

    // A later filter's answer carries them too.
    let no_follow = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let resp = no_follow.get(gw.url("/moved")).send().await.unwrap();
    assert_eq!(resp.status(), 302);
    assert_eq!(resp.headers()["location"], "/elsewhere");
    assert_eq!(resp.headers()["x-early"], "carol");
    assert_eq!(resp.headers()["x-asked-for"], "/moved");
    assert_eq!(up.hits(), 2, "the redirect never reached the upstream");

    // Edited early, the response cost `early` no response-headers call; the
    // filter with a rename still takes one. (A phase's call series exists
    // only for filters that declared the phase.)
    let metrics = weir_tests::metrics_text(admin_port).await;
    let calls = |filter: &str, phase: &str| {
        metrics.lines().any(|line| {
            line.starts_with("weir_filter_call_duration_seconds_count{")
                && line.contains(&format!("filter=\"{filter}\""))
                && line.contains(&format!("phase=\"{phase}\""))
        })
    };
    assert!(calls("early", "request_headers"), "{metrics}");
    assert!(!calls("early", "response_headers"), "{metrics}");
    assert!(calls("late", "response_headers"), "{metrics}");
}

/// An upstream that answers every request with a `103 Early Hints` and then
/// `200 OK`, on one connection per request.
async fn upstream_with_early_hints() -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = stream
                    .write_all(
                        b"HTTP/1.1 103 Early Hints\r\nlink: </app.css>; rel=preload\r\n\r\n\
                          HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok",
                    )
                    .await;
            });
        }
    });
    addr
}

/// Informational responses (1xx) before the final one do not take the
/// queued response edits, and response phases run on the final response.
#[tokio::test(flavor = "multi_thread")]
async fn queued_response_edits_wait_past_informational_responses() {
    let upstream = upstream_with_early_hints().await;
    let early = filter(
        "early",
        filters::HEADERS,
        r#"{ response: { set: { x-early: yes } } }"#,
    );
    let late = filter(
        "late",
        filters::HEADERS,
        r#"{ response: { rename: { x-early: x-renamed } } }"#,
    );
    let gw = Gateway::start(&crate::gateway_config(
        &upstream.to_string(),
        &[early, late],
        &[route("/both", "early, late"), route("/", "early")],
    ));
    let resp = client().get(gw.url("/one")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers()["x-early"], "yes");
    assert_eq!(resp.text().await.unwrap(), "ok");
    let resp = client().get(gw.url("/both")).send().await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.headers().get("x-early"), None);
    assert_eq!(resp.headers()["x-renamed"], "yes");
    assert_eq!(resp.text().await.unwrap(), "ok");
}

/// A response-body filter that fails closed replaces the upstream's
/// response with weir's 503, which carries the queued edits too.
#[tokio::test(flavor = "multi_thread")]
async fn queued_response_edits_also_land_on_the_503_that_replaces_a_response() {
    let up = Upstream::start("svc").await;
    let early = filter(
        "early",
        filters::HEADERS,
        r#"{ response: { set: { x-early: yes } } }"#,
    );
    let body = crate::filter_with(
        "body",
        filters::TEST_MISBEHAVE,
        "{ body_phase: true }",
        "    limits: { call_deadline: 200ms }\n    circuit_breaker: { enabled: false }\n",
    );
    let gw = Gateway::start(&describe_config(
        &up,
        &[early, body],
        &[route("/", "early, body")],
    ));
    let resp = client()
        .get(gw.url("/"))
        .header("x-misbehave-body", "loop")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    assert_eq!(resp.headers()["x-early"], "yes");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_context_value_skips_the_header_or_renders_empty_as_configured() {
    let up = Upstream::start("svc").await;
    let edits =
        r#"request: { remove: [x-user], set: { x-user: "user=${ctx.sub}", x-plain: fixed } }"#;
    let gw = Gateway::start(&describe_config(
        &up,
        &[
            filter("skip", filters::HEADERS, &format!("{{ {edits} }}")),
            filter(
                "empty",
                filters::HEADERS,
                &format!("{{ {edits}, on_missing: empty }}"),
            ),
        ],
        &[route("/skip", "skip"), route("/empty", "empty")],
    ));
    for (path, expected) in [("/skip", json!(null)), ("/empty", json!(["user="]))] {
        let seen = described(
            client()
                .get(gw.url(path))
                .header("x-user", "mallory")
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(seen["headers"]["x-user"], expected, "{path}");
        assert_eq!(seen["headers"]["x-plain"], json!(["fixed"]), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_context_value_with_cr_lf_is_refused_by_weir_and_logged_not_sent() {
    let up = Upstream::start("svc").await;
    let gw = Gateway::start(&describe_config(
        &up,
        &[
            set_sub("alice\r\nx-evil: 1"),
            filter(
                "hdr",
                filters::HEADERS,
                r#"{ request: { set: { x-user: "${ctx.sub}", x-ok: fine } },
                     response: { set: { x-user: "${ctx.sub}" } } }"#,
            ),
        ],
        &[route("/", "auth, hdr")],
    ));
    let resp = client().get(gw.url("/")).send().await.unwrap();
    assert_eq!(resp.headers().get("x-user"), None);
    assert_eq!(resp.headers().get("x-evil"), None);
    let seen = described(resp).await;
    let h = &seen["headers"];
    assert_eq!((&h["x-user"], &h["x-evil"]), (&json!(null), &json!(null)));
    assert_eq!(h["x-ok"], json!(["fine"]), "the other edits still apply");
    let logs = gw.logs();
    assert!(
        logs.contains("x-user left alone: weir refused its value"),
        "{logs}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn weir_check_rejects_bad_templates_and_names_at_the_filter_config() {
    let cases = [
        (
            r#"{ request: { set: { x-a: "${nope}" } } }"#,
            "unknown variable `${nope}`",
        ),
        (
            r#"{ request: { set: { x-a: "${ctx.sub" } } }"#,
            "unclosed `${`",
        ),
        (r#"{ request: { set: { x-a: "5 $" } } }"#, "a lone `$`"),
        (
            r#"{ request: { add: { x-a: "a\r\nb" } } }"#,
            "may not contain CR, LF or NUL",
        ),
        (
            r#"{ response: { set: { "bad name": x } } }"#,
            "not a valid header name",
        ),
        (
            r#"{ request: { remove: [content-length] } }"#,
            "managed by weir",
        ),
        (
            r#"{ request: { rename: { a: b, b: c } } }"#,
            "both renamed and a rename target",
        ),
        (r#"{ request: { sett: {} } }"#, "unknown field `sett`"),
        ("{}", "nothing to do"),
    ];
    for (cfg, message) in cases {
        let out = check_fails(&describe_config_for_check(&filter(
            "hdr",
            filters::HEADERS,
            cfg,
        )));
        assert!(
            out.contains("filters.hdr.config (line") && out.contains(message),
            "{cfg}: expected {message:?} at filters.hdr.config:\n{out}"
        );
    }
}

/// A config that only needs checking: the upstream is never contacted.
fn describe_config_for_check(filter: &str) -> String {
    crate::gateway_config("127.0.0.1:9", &[filter.to_owned()], &[route("/", "hdr")])
}
