//! X-Forwarded-*, X-Request-Id and hop-by-hop headers.

use weir_tests::{Gateway, Upstream, client};

use crate::config;

fn proxied(up: &Upstream, listener_extra: &str) -> String {
    config(&format!(
        "{listener_extra}upstreams:\n  svc:\n    targets: [{{ address: {} }}]\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: svc\n",
        up.address()
    ))
}

async fn seen_by_upstream(
    gw: &Gateway,
    headers: &[(&str, &str)],
) -> (serde_json::Value, reqwest::header::HeaderMap) {
    let mut req = client().get(gw.url("/"));
    for (n, v) in headers {
        req = req.header(*n, *v);
    }
    let resp = req.send().await.unwrap();
    let response_headers = resp.headers().clone();
    (
        resp.json::<serde_json::Value>().await.unwrap()["headers"].clone(),
        response_headers,
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarded_headers_from_an_untrusted_client_are_replaced() {
    let up = Upstream::start("fwd").await;
    let gw = Gateway::start(&proxied(&up, ""));
    let (h, _) = seen_by_upstream(
        &gw,
        &[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "forged"),
        ],
    )
    .await;
    assert_eq!(h["x-forwarded-for"], serde_json::json!(["127.0.0.1"]));
    assert_eq!(h["x-forwarded-proto"], serde_json::json!(["http"]));
    assert_eq!(
        h["x-forwarded-host"],
        serde_json::json!([format!("127.0.0.1:{}", gw.port)])
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn forwarded_headers_from_a_trusted_proxy_are_kept_and_appended() {
    let up = Upstream::start("fwd").await;
    let gw = Gateway::start(&proxied(&up, "    trusted_proxies: [127.0.0.1/32]\n"));
    let (h, _) = seen_by_upstream(
        &gw,
        &[
            ("x-forwarded-for", "203.0.113.9"),
            ("x-forwarded-proto", "https"),
            ("x-forwarded-host", "shop.example"),
        ],
    )
    .await;
    assert_eq!(
        h["x-forwarded-for"],
        serde_json::json!(["203.0.113.9, 127.0.0.1"])
    );
    assert_eq!(h["x-forwarded-proto"], serde_json::json!(["https"]));
    assert_eq!(h["x-forwarded-host"], serde_json::json!(["shop.example"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn request_id_is_generated_or_passed_through() {
    let up = Upstream::start("rid").await;
    let gw = Gateway::start(&proxied(&up, ""));
    let (h, resp) = seen_by_upstream(&gw, &[]).await;
    let generated = resp["x-request-id"].to_str().unwrap().to_owned();
    assert_eq!(generated.len(), 36, "a UUID: {generated}");
    assert_eq!(h["x-request-id"], serde_json::json!([generated]));

    let (h, resp) = seen_by_upstream(&gw, &[("x-request-id", "trace-abc-123")]).await;
    assert_eq!(resp["x-request-id"], "trace-abc-123");
    assert_eq!(h["x-request-id"], serde_json::json!(["trace-abc-123"]));
}

#[tokio::test(flavor = "multi_thread")]
async fn hop_by_hop_headers_are_not_forwarded() {
    let up = Upstream::start("hop").await;
    let gw = Gateway::start(&proxied(&up, ""));
    let (h, _) = seen_by_upstream(
        &gw,
        &[
            ("connection", "x-conn-only"),
            ("x-conn-only", "1"),
            ("proxy-connection", "keep-alive"),
            ("keep-alive", "timeout=5"),
            ("proxy-authorization", "Basic d2Vpcjp3ZWly"),
            ("trailer", "x-checksum"),
            ("x-end-to-end", "kept"),
        ],
    )
    .await;
    for hop in [
        "x-conn-only",
        "proxy-connection",
        "keep-alive",
        "proxy-authorization",
        "trailer",
    ] {
        assert!(h.get(hop).is_none(), "{hop} was forwarded: {h}");
    }
    assert_eq!(h["x-end-to-end"], serde_json::json!(["kept"]));
}
