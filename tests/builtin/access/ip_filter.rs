//! `ip-filter`: allow and deny lists over IPv4 and IPv6 clients, the
//! listener's trusted proxies deciding whether `X-Forwarded-For` counts, the
//! order of the lists, and the refusal's status and body.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

use weir_tests::{Gateway, Upstream, client, filters, wait_until};

use crate::{assert_check_rejects, filter, gateway_config};

/// A gateway with one route `/NAME` per `(name, config lines)` ip-filter;
/// `listeners` continues the main listener's mapping or adds listeners.
async fn gateway(listeners: &str, filters: &[(&str, &str)]) -> (Upstream, Gateway) {
    let up = Upstream::start("svc").await;
    let entries: Vec<String> = filters
        .iter()
        .map(|(name, rest)| filter(name, filters::IP_FILTER, rest))
        .collect();
    let routes: Vec<(String, &str)> = filters
        .iter()
        .map(|(name, _)| (format!("/{name}"), *name))
        .collect();
    let routes: Vec<(&str, &str)> = routes.iter().map(|(p, n)| (p.as_str(), *n)).collect();
    let gw = Gateway::start(&gateway_config(&up, listeners, &entries, &routes));
    (up, gw)
}

/// Status and body of a GET to `url` with an optional `X-Forwarded-For`.
async fn get(url: &str, forwarded_for: Option<&str>) -> (u16, String) {
    let mut req = client().get(url);
    if let Some(xff) = forwarded_for {
        req = req.header("x-forwarded-for", xff);
    }
    let resp = req.send().await.expect("weir answers");
    (resp.status().as_u16(), resp.text().await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv4_allow_and_deny_lists_decide_on_the_peer() {
    let (up, gw) = gateway(
        "",
        &[
            ("loopback_only", "    config: { allow: [127.0.0.0/8] }\n"),
            (
                "office_only",
                "    config: { allow: [10.0.0.0/8, 192.0.2.0/24] }\n",
            ),
            ("deny_me", "    config: { deny: [127.0.0.1] }\n"),
            (
                "deny_others",
                "    config: { deny: [203.0.113.0/24, \"2001:db8::/32\"] }\n",
            ),
        ],
    )
    .await;
    assert_eq!(get(&gw.url("/loopback_only"), None).await.0, 200);
    assert_eq!(get(&gw.url("/deny_others"), None).await.0, 200);
    assert_eq!(
        get(&gw.url("/office_only"), None).await,
        (403, "forbidden\n".to_owned())
    );
    assert_eq!(get(&gw.url("/deny_me"), None).await.0, 403);
    assert_eq!(up.hits(), 2, "a refused request reached the upstream");
}

#[tokio::test(flavor = "multi_thread")]
async fn ipv6_clients_are_matched_against_ipv6_networks() {
    let v6_port = TcpListener::bind("[::1]:0")
        .and_then(|l| l.local_addr())
        .expect("IPv6 loopback")
        .port();
    let (_up, gw) = gateway(
        &format!("  - name: v6\n    address: \"[::1]:{v6_port}\"\n"),
        &[
            ("v6_loopback", "    config: { allow: [\"::1\"] }\n"),
            ("v4_only", "    config: { allow: [127.0.0.0/8] }\n"),
            ("deny_v6_doc", "    config: { deny: [\"2001:db8::/32\"] }\n"),
            ("deny_all_v6", "    config: { deny: [\"::/0\"] }\n"),
        ],
    )
    .await;
    let v6: SocketAddr = ([0, 0, 0, 0, 0, 0, 0, 1], v6_port).into();
    wait_until(Duration::from_secs(30), "the IPv6 listener", || {
        TcpStream::connect_timeout(&v6, Duration::from_millis(100)).is_ok()
    });
    let url = |path: &str| format!("http://[::1]:{v6_port}{path}");
    assert_eq!(get(&url("/v6_loopback"), None).await.0, 200);
    assert_eq!(get(&url("/v4_only"), None).await.0, 403);
    assert_eq!(get(&url("/deny_v6_doc"), None).await.0, 200);
    assert_eq!(get(&url("/deny_all_v6"), None).await.0, 403);
    // The same filters on the IPv4 listener.
    assert_eq!(get(&gw.url("/v6_loopback"), None).await.0, 403);
    assert_eq!(get(&gw.url("/v4_only"), None).await.0, 200);
    assert_eq!(get(&gw.url("/deny_all_v6"), None).await.0, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn behind_a_trusted_proxy_the_forwarded_client_address_decides() {
    let (_up, gw) = gateway(
        "    trusted_proxies: [127.0.0.1/32]\n",
        &[(
            "partners",
            "    config: { allow: [203.0.113.0/24, \"2001:db8::/32\"], deny: [203.0.113.66] }\n",
        )],
    )
    .await;
    let url = gw.url("/partners");
    let cases = [
        (Some("203.0.113.7"), 200, "an allowed client"),
        (
            Some("203.0.113.66"),
            403,
            "a denied address inside the allowed range",
        ),
        (Some("2001:db8::7"), 200, "an IPv6 client"),
        (Some("198.51.100.9"), 403, "a client outside the allow list"),
        // The right-most untrusted hop is the client; what the client wrote
        // to the left of it is not believed.
        (Some("198.51.100.9, 203.0.113.7"), 200, "a forged left part"),
        (
            Some("203.0.113.7, 198.51.100.9"),
            403,
            "an allowed address forged on the left",
        ),
        // Trusted hops (the proxy itself) are skipped.
        (
            Some("203.0.113.7, 127.0.0.1"),
            200,
            "a trusted hop on the right",
        ),
        (None, 403, "no header: the proxy's own address"),
    ];
    for (xff, status, what) in cases {
        assert_eq!(get(&url, xff).await.0, status, "{what}: {xff:?}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn from_an_untrusted_peer_x_forwarded_for_is_ignored() {
    let (_up, gw) = gateway(
        "",
        &[
            ("partners", "    config: { allow: [203.0.113.0/24] }\n"),
            ("no_loopback", "    config: { deny: [127.0.0.0/8] }\n"),
        ],
    )
    .await;
    assert_eq!(get(&gw.url("/partners"), Some("203.0.113.7")).await.0, 403);
    // Nor can a denied client forge its way out.
    assert_eq!(
        get(&gw.url("/no_loopback"), Some("203.0.113.7")).await.0,
        403
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_order_decides_between_the_lists_and_the_refusal_is_configurable() {
    let both = "allow: [127.0.0.1], deny: [127.0.0.0/8]";
    let (_up, gw) = gateway(
        "",
        &[
            ("deny_wins", &format!("    config: {{ {both} }}\n")),
            (
                "allow_wins",
                &format!("    config: {{ {both}, order: allow_first }}\n"),
            ),
            (
                "hidden",
                "    config: { deny: [0.0.0.0/0], status: 404, body: \"no such thing\" }\n",
            ),
        ],
    )
    .await;
    assert_eq!(get(&gw.url("/deny_wins"), None).await.0, 403);
    assert_eq!(get(&gw.url("/allow_wins"), None).await.0, 200);
    assert_eq!(
        get(&gw.url("/hidden"), None).await,
        (404, "no such thing".to_owned())
    );
}

#[test]
fn weir_check_rejects_bad_ip_filter_configs() {
    let check = |config: &str, expected: &str| {
        assert_check_rejects(
            "",
            "ips",
            filters::IP_FILTER,
            &format!("    config: {config}\n"),
            expected,
        );
    };
    check(
        "{ allow: [10.0.0.1/8] }",
        "host bits set: did you mean 10.0.0.0/8?",
    );
    check(
        "{ deny: [10.0.0.0/33] }",
        "not an IP address or CIDR network",
    );
    check("{ allow: [], deny: [] }", "give `allow`, `deny` or both");
    check("{ deny: [10.0.0.0/8], status: 200 }", "not an error status");
    check("{ deny: [10.0.0.0/8], order: random }", "unknown variant");
    check("{ deny: [10.0.0.0/8], alow: [] }", "unknown field");
}
