//! Load-balancing distribution per policy.

use std::collections::BTreeMap;
use std::time::Duration;

use weir_tests::{Gateway, Upstream, client, wait_until};

use crate::{config, upstream_of};

async fn upstreams(names: &[&str]) -> Vec<Upstream> {
    let mut v = Vec::new();
    for n in names {
        v.push(Upstream::start(n).await);
    }
    v
}

fn pool(ups: &[Upstream], weights: &[u32], balance: &str) -> String {
    let targets: Vec<String> = ups
        .iter()
        .zip(weights)
        .map(|(u, w)| format!("{{ address: {}, weight: {w} }}", u.address()))
        .collect();
    config(&format!(
        "upstreams:\n  pool:\n    targets: [{}]\n{balance}routes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: pool\n",
        targets.join(", ")
    ))
}

async fn tally(gw: &Gateway, n: usize, header: Option<(&str, String)>) -> BTreeMap<String, usize> {
    let c = client();
    let mut counts = BTreeMap::new();
    for _ in 0..n {
        let mut req = c.get(gw.url("/"));
        if let Some((name, value)) = &header {
            req = req.header(*name, value);
        }
        *counts
            .entry(upstream_of(req.send().await.unwrap()).await)
            .or_insert(0) += 1;
    }
    counts
}

#[tokio::test(flavor = "multi_thread")]
async fn round_robin_spreads_evenly() {
    let ups = upstreams(&["a", "b", "c"]).await;
    let gw = Gateway::start(&pool(&ups, &[1, 5, 1], "    balance: round_robin\n"));
    let counts = tally(&gw, 30, None).await;
    assert_eq!(
        counts.values().copied().collect::<Vec<_>>(),
        vec![10, 10, 10],
        "{counts:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn weighted_follows_weights() {
    let ups = upstreams(&["a", "b"]).await;
    let gw = Gateway::start(&pool(&ups, &[3, 1], "    balance: weighted\n"));
    let counts = tally(&gw, 40, None).await;
    assert_eq!(counts["a"], 30, "{counts:?}");
    assert_eq!(counts["b"], 10, "{counts:?}");
}

/// With one target busy on a slow request, the policy sends new requests to
/// the idle one.
async fn avoids_busy_target(balance: &str) {
    let ups = upstreams(&["a", "b"]).await;
    let gw = Gateway::start(&pool(&ups, &[1, 1], balance));
    let url = gw.url("/slow?ms=3000");
    let slow = tokio::spawn(async move {
        client()
            .get(url)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    });
    wait_until(
        Duration::from_secs(10),
        "the slow request to reach an upstream",
        || ups[0].hits() + ups[1].hits() == 1,
    );
    let busy = if ups[0].hits() == 1 { "a" } else { "b" };
    let counts = tally(&gw, 10, None).await;
    assert!(
        !counts.contains_key(busy),
        "busy target {busy} got requests: {counts:?}"
    );
    assert!(slow.await.unwrap().starts_with("slow from"));
}

#[tokio::test(flavor = "multi_thread")]
async fn least_connections_avoids_busy_target() {
    avoids_busy_target("    balance: least_connections\n").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn power_of_two_choices_avoids_busy_target() {
    avoids_busy_target("    balance: power_of_two_choices\n").await;
}

#[tokio::test(flavor = "multi_thread")]
async fn consistent_hash_on_header_is_sticky_and_spreads() {
    let ups = upstreams(&["a", "b", "c"]).await;
    let gw = Gateway::start(&pool(
        &ups,
        &[1, 1, 1],
        "    balance: consistent_hash\n    hash_on: { header: x-user }\n",
    ));
    let mut used = std::collections::BTreeSet::new();
    for user in 0..30 {
        let counts = tally(&gw, 3, Some(("x-user", format!("user-{user}")))).await;
        assert_eq!(
            counts.len(),
            1,
            "user-{user} moved between targets: {counts:?}"
        );
        used.extend(counts.into_keys());
    }
    assert!(used.len() >= 2, "30 users all hashed to {used:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn consistent_hash_on_cookie_and_client_ip() {
    let ups = upstreams(&["a", "b", "c"]).await;
    let gw = Gateway::start(&pool(
        &ups,
        &[1, 1, 1],
        "    balance: consistent_hash\n    hash_on: { cookie: sid }\n",
    ));
    for sid in ["one", "two", "three"] {
        let counts = tally(&gw, 4, Some(("cookie", format!("theme=dark; sid={sid}")))).await;
        assert_eq!(counts.len(), 1, "sid={sid}: {counts:?}");
    }
    drop(gw);
    let gw = Gateway::start(&pool(
        &ups,
        &[1, 1, 1],
        "    balance: consistent_hash\n    hash_on: client_ip\n",
    ));
    let counts = tally(&gw, 9, None).await;
    assert_eq!(
        counts.len(),
        1,
        "one client IP must stick to one target: {counts:?}"
    );
}
