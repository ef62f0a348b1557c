//! The C and Go examples through the real gateway: checksum-c verifies
//! request bodies against their SHA-256 header; ipblock-go answers 403 to
//! listed client addresses; the SDKs' test filters read secrets. The
//! components come from `scripts/build-language-filters.sh` (`weir_tests::filters`
//! names those it built: without them these tests do not compile).

use reqwest::Method;
use weir_tests::{Gateway, Upstream, filters, free_port};

use crate::languages::{check_filter_config, header, send, upstream_saw, with_cache};

fn checksum_config(upstream: &Upstream) -> String {
    let module = filters::CHECKSUM_C;
    with_cache(&format!(
        "upstreams:\n  api:\n    targets: [{{ address: \"{}\" }}]\n\
         filters:\n  optional:\n    module: {m}\n\
         \x20 required:\n    module: {m}\n    config: {{ header: x-digest, require: true }}\n\
         routes:\n  - match: {{ path: {{ prefix: /strict }} }}\n    upstream: api\n    filters: [required]\n\
         \x20 - match: {{ path: {{ prefix: / }} }}\n    upstream: api\n    filters: [optional]\n",
        upstream.address(),
        m = module
    ))
}

// SHA-256 digests from `sha256sum`.
const HELLO: &str = "sha256=d00cd3e34894fb8844344e97902f6919c40b62981c8789b774159758fa7558cd";
const HELLO_BANG: &str = "dfdef535d87e62de758bdfb01db4f8313931963fa9536baca711890c2393d864";
const EMPTY: &str = "sha256=e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

#[tokio::test(flavor = "multi_thread")]
async fn checksum_c_lets_matching_bodies_through_and_refuses_others() {
    let upstream = Upstream::start("api").await;
    let gw = Gateway::start(&checksum_config(&upstream));
    let hello = HELLO.to_owned();

    // A matching checksum (hex in either case) goes through untouched.
    let (status, _, body) = send(
        &gw,
        Method::POST,
        "/echo-body",
        &[("x-body-checksum", &hello)],
        "hello, weir",
    )
    .await;
    assert_eq!((status, body.as_str()), (200, "hello, weir"));
    let upper = format!("sha256={}", hello[7..].to_uppercase());
    let (status, _, _) = send(
        &gw,
        Method::POST,
        "/echo-body",
        &[("x-body-checksum", &upper)],
        "hello, weir",
    )
    .await;
    assert_eq!(status, 200);

    // A body that does not match, or a malformed header: 400, and the
    // upstream never sees the request.
    let hits = upstream.hits();
    let (status, headers, body) = send(
        &gw,
        Method::POST,
        "/echo-body",
        &[("x-body-checksum", &hello)],
        "hello, weir!",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body.contains("does not match") && body.contains(HELLO_BANG),
        "{body}"
    );
    assert_eq!(
        header(&headers, "content-type").as_deref(),
        Some("text/plain; charset=utf-8")
    );
    let (status, _, body) = send(
        &gw,
        Method::POST,
        "/echo-body",
        &[("x-body-checksum", "md5=abc")],
        "x",
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(upstream.hits(), hits, "refused bodies reached the upstream");

    // Without the header the optional filter lets the body through; the
    // strict one (its own header name) wants it on every body.
    let (status, _, _) = send(&gw, Method::POST, "/echo-body", &[], "no checksum").await;
    assert_eq!(status, 200);
    let (status, _, body) = send(&gw, Method::POST, "/strict/x", &[], "no checksum").await;
    assert_eq!(status, 400);
    assert!(body.contains("missing x-digest"), "{body}");
    let (status, _, _) = send(
        &gw,
        Method::POST,
        "/strict/x",
        &[("x-digest", &hello)],
        "hello, weir",
    )
    .await;
    assert_eq!(status, 200);
    // An empty body needs no header, and its digest checks out.
    let (status, _, _) = send(&gw, Method::GET, "/strict/x", &[], "").await;
    assert_eq!(status, 200);
    let (status, _, _) = send(
        &gw,
        Method::POST,
        "/echo-body",
        &[("x-body-checksum", EMPTY)],
        "",
    )
    .await;
    assert_eq!(status, 200);
}

fn ipblock_config(upstream: &Upstream, deny: &str) -> String {
    with_cache(&format!(
        "    trusted_proxies: [127.0.0.1/32]\nupstreams:\n  api:\n    targets: [{{ address: \"{}\" }}]\n\
         filters:\n  block:\n    module: {}\n    config: {{ deny: {deny}, message: \"go away\" }}\n\
         routes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: api\n    filters: [block]\n",
        upstream.address(),
        filters::IPBLOCK_GO
    ))
}

#[tokio::test(flavor = "multi_thread")]
async fn ipblock_go_answers_403_to_listed_clients_only() {
    let upstream = Upstream::start("api").await;
    let gw = Gateway::start(&ipblock_config(
        &upstream,
        "[\"203.0.113.7\", \"198.51.100.0/24\", \"2001:db8::/32\"]",
    ));
    // weir takes the client address from X-Forwarded-For: the peer
    // (loopback) is a trusted proxy here.
    let from = |ip: &'static str| [("x-forwarded-for", ip)];

    let hits = upstream.hits();
    for blocked in ["203.0.113.7", "198.51.100.200", "2001:db8::1"] {
        let (status, _, body) = send(&gw, Method::GET, "/x", &from(blocked), "").await;
        assert_eq!((status, body.as_str()), (403, "go away"), "{blocked}");
    }
    assert_eq!(
        upstream.hits(),
        hits,
        "a blocked client reached the upstream"
    );

    for allowed in ["203.0.113.8", "198.51.101.1", "2001:db9::1"] {
        let (status, _, body) = send(&gw, Method::GET, "/x", &from(allowed), "").await;
        assert_eq!(status, 200, "{allowed}: {body}");
        assert_eq!(
            upstream_saw(&body)["x-forwarded-for"],
            serde_json::json!([format!("{allowed}, 127.0.0.1")])
        );
    }
    // Without the header the client is the peer, 127.0.0.1: not listed.
    let (status, _, _) = send(&gw, Method::GET, "/x", &[], "").await;
    assert_eq!(status, 200);
}

#[test]
fn ipblock_go_reports_a_bad_block_list_at_check_time() {
    for (deny, expected) in [
        ("[\"10.0.0.0/8\", \"not-an-ip\"]", "not-an-ip"),
        ("5", "deny"),
    ] {
        let (ok, out) = check_filter_config(
            "block",
            filters::IPBLOCK_GO,
            &format!("{{ deny: {deny} }}"),
            "",
        );
        assert!(!ok, "{out}");
        assert!(
            out.contains("filters.block.config") && out.contains(expected),
            "{out}"
        );
    }
}

/// The SDKs' test filters: a granted secret reaches a C or Go filter; another
/// is refused with weir's reason, and its value never shows. Each queues
/// `x-early-response: <language>` in the request phase (it has no response
/// phase): weir applies it to the filter's own answer and to the route's.
#[tokio::test(flavor = "multi_thread")]
async fn c_and_go_filters_read_granted_secrets_only() {
    for (lang, module) in [("c", filters::SDK_C_TEST), ("go", filters::SDK_GO_TEST)] {
        let cfg = with_cache(&format!(
            "secrets:\n  token:\n    env: WEIR_CGO_TEST_TOKEN\n  other:\n    env: WEIR_CGO_TEST_TOKEN\n\
             filters:\n  caps:\n    module: {}\n    grants: {{ secrets: [token] }}\n\
             routes:\n  - match: {{ path: {{ prefix: / }} }}\n    respond: {{ status: 404 }}\n    filters: [caps]\n",
            module
        ));
        let port = free_port();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("weir.yaml"),
            cfg.replace("{port}", &port.to_string()),
        )
        .unwrap();
        let gw = Gateway::spawn_with_env(dir, port, &[("WEIR_CGO_TEST_TOKEN", "s3cret")]);

        let early = |headers: &reqwest::header::HeaderMap| header(headers, "x-early-response");
        let (status, headers, body) =
            send(&gw, Method::GET, "/", &[("x-secret", "token")], "").await;
        assert_eq!((status, body.as_str()), (200, "s3cret"), "{lang}");
        assert_eq!(early(&headers).as_deref(), Some(lang), "{lang}");
        let (status, _, body) = send(&gw, Method::GET, "/", &[("x-secret", "other")], "").await;
        assert_eq!(status, 500, "{lang}: {body}");
        assert!(
            body.contains("other") && !body.contains("s3cret"),
            "{lang}: {body}"
        );
        // Without the header the filter continues to the route's answer.
        let (status, headers, _) = send(&gw, Method::GET, "/", &[], "").await;
        assert_eq!(status, 404, "{lang}");
        assert_eq!(early(&headers).as_deref(), Some(lang), "{lang}");
    }
}
