//! Every operation, run with the same body against the memory store and a
//! real Redis, so both backends are held to one contract.

mod common;

use std::time::Duration;

use common::{RedisServer, eventually, redis_store};
use weir_kv::{KvError, MAX_KEY_BYTES, MAX_VALUE_BYTES, Quota, Store};

const LONG: Option<Duration> = Some(Duration::from_secs(60));

async fn get_set_delete(store: &Store) {
    assert_eq!(store.get("missing").await, Ok(None));
    store.set("a", b"one", None).await.unwrap();
    assert_eq!(store.get("a").await, Ok(Some(b"one".to_vec())));
    store.set("a", b"two", LONG).await.unwrap();
    assert_eq!(store.get("a").await, Ok(Some(b"two".to_vec())));
    // Values are bytes, not text; empty values are values.
    let binary = [0u8, 255, 10, 13, 0, b'\\', 0xC3];
    store.set("bin", &binary, None).await.unwrap();
    assert_eq!(store.get("bin").await, Ok(Some(binary.to_vec())));
    store.set("empty", b"", None).await.unwrap();
    assert_eq!(store.get("empty").await, Ok(Some(Vec::new())));
    assert_eq!(store.delete("a").await, Ok(true));
    assert_eq!(store.delete("a").await, Ok(false));
    assert_eq!(store.get("a").await, Ok(None));
}

async fn increments(store: &Store) {
    assert_eq!(store.increment("n", 1, None).await, Ok(1));
    assert_eq!(store.increment("n", 2, None).await, Ok(3));
    assert_eq!(store.get("n").await, Ok(Some(b"3".to_vec())));
    assert_eq!(store.increment("n", -10, None).await, Ok(-7));
    assert_eq!(store.get("n").await, Ok(Some(b"-7".to_vec())));
    // A value set as text counts if it is a canonical integer.
    store.set("s", b"41", None).await.unwrap();
    assert_eq!(store.increment("s", 1, LONG).await, Ok(42));
    for bad in [&b"abc"[..], b"1.5", b" 1", b"007", b""] {
        store.set("bad", bad, None).await.unwrap();
        assert!(
            matches!(
                store.increment("bad", 1, None).await,
                Err(KvError::Invalid(_))
            ),
            "{bad:?}"
        );
        // Left as it was.
        assert_eq!(store.get("bad").await, Ok(Some(bad.to_vec())));
    }
    store
        .set("max", i64::MAX.to_string().as_bytes(), None)
        .await
        .unwrap();
    assert!(matches!(
        store.increment("max", 1, None).await,
        Err(KvError::Invalid(_))
    ));
    assert_eq!(store.increment("max", -1, None).await, Ok(i64::MAX - 1));
}

async fn compare_and_swap(store: &Store) {
    // None: only if absent.
    assert_eq!(
        store.compare_and_swap("c", None, b"v1", None).await,
        Ok(true)
    );
    assert_eq!(
        store.compare_and_swap("c", None, b"v2", None).await,
        Ok(false)
    );
    assert_eq!(store.get("c").await, Ok(Some(b"v1".to_vec())));
    // Some: only if equal.
    assert_eq!(
        store
            .compare_and_swap("c", Some(b"nope"), b"v2", None)
            .await,
        Ok(false)
    );
    assert_eq!(store.get("c").await, Ok(Some(b"v1".to_vec())));
    assert_eq!(
        store.compare_and_swap("c", Some(b"v1"), b"v2", LONG).await,
        Ok(true)
    );
    assert_eq!(store.get("c").await, Ok(Some(b"v2".to_vec())));
    // Some never matches a missing key, even an empty expectation.
    assert_eq!(
        store
            .compare_and_swap("absent", Some(b""), b"x", None)
            .await,
        Ok(false)
    );
    assert_eq!(store.get("absent").await, Ok(None));
    // Binary values compare byte for byte.
    store.set("b", &[0, 1, 2], None).await.unwrap();
    assert_eq!(
        store.compare_and_swap("b", Some(&[0, 1]), b"x", None).await,
        Ok(false)
    );
    assert_eq!(
        store
            .compare_and_swap("b", Some(&[0, 1, 2]), b"x", None)
            .await,
        Ok(true)
    );
    assert_eq!(store.get("b").await, Ok(Some(b"x".to_vec())));
}

async fn limits(store: &Store) {
    let long_key = "k".repeat(MAX_KEY_BYTES + 1);
    let big = vec![7u8; MAX_VALUE_BYTES + 1];
    let invalid = |r: Result<_, KvError>| matches!(r, Err(KvError::Invalid(_)));
    assert!(invalid(store.get(&long_key).await.map(drop)));
    assert!(invalid(store.set(&long_key, b"v", None).await));
    assert!(invalid(store.delete(&long_key).await.map(drop)));
    assert!(invalid(store.increment(&long_key, 1, None).await.map(drop)));
    assert!(invalid(store.set("k", &big, None).await));
    assert!(invalid(
        store
            .compare_and_swap("k", None, &big, None)
            .await
            .map(drop)
    ));
    assert!(invalid(
        store
            .compare_and_swap("k", Some(&big), b"v", None)
            .await
            .map(drop)
    ));
    // At the limits exactly: accepted and stored whole.
    let key = "k".repeat(MAX_KEY_BYTES);
    let value = vec![7u8; MAX_VALUE_BYTES];
    store.set(&key, &value, None).await.unwrap();
    assert_eq!(
        store.get(&key).await.unwrap().map(|v| v.len()),
        Some(MAX_VALUE_BYTES)
    );
}

/// Many clients at once on one key: increments add up, one CAS wins.
async fn atomic_under_contention(store: &Store) {
    const CLIENTS: i64 = 32;
    let increments = (0..CLIENTS).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.increment("race", 1, None).await })
    });
    for task in increments.collect::<Vec<_>>() {
        task.await.unwrap().unwrap();
    }
    assert_eq!(
        store.get("race").await,
        Ok(Some(CLIENTS.to_string().into_bytes()))
    );

    let claims = (0..CLIENTS).map(|i| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .compare_and_swap("owner", None, i.to_string().as_bytes(), None)
                .await
        })
    });
    let mut winners = 0;
    for task in claims.collect::<Vec<_>>() {
        winners += usize::from(task.await.unwrap().unwrap());
    }
    assert_eq!(winners, 1);
}

/// GCRA: of many clients at once exactly the quota passes; a refusal says
/// when to come back; nonsense quotas are invalid.
async fn throttles(store: &Store) {
    let quota = Quota {
        limit: 5,
        window: Duration::from_secs(3600),
    };
    let calls = (0..32).map(|_| {
        let store = store.clone();
        tokio::spawn(async move { store.throttle("rl", quota, 1).await })
    });
    let mut allowed = Vec::new();
    for task in calls.collect::<Vec<_>>() {
        let answer = task.await.unwrap().unwrap();
        if answer.allowed {
            allowed.push(answer.remaining);
        } else {
            // One interval (720 s) minus the time since the first call.
            let retry = answer.retry_after.as_secs();
            assert!((700..=720).contains(&retry), "retry after {retry}s");
            assert_eq!(answer.remaining, 0);
        }
    }
    allowed.sort();
    assert_eq!(allowed, [0, 1, 2, 3, 4]);
    let cost_too_high = store.throttle("rl2", quota, 6).await;
    assert!(matches!(cost_too_high, Err(KvError::Invalid(_))));
    let other_key = store.throttle("rl3", quota, 5).await.unwrap();
    assert_eq!((other_key.allowed, other_key.remaining), (true, 0));
}

async fn everything(store: &Store) {
    get_set_delete(store).await;
    increments(store).await;
    compare_and_swap(store).await;
    limits(store).await;
    atomic_under_contention(store).await;
    throttles(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_store_does_everything() {
    let store = Store::memory(1000);
    assert_eq!(store.kind(), "memory");
    everything(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_store_does_everything() {
    let server = RedisServer::start();
    let store = redis_store(&server.url(), "ops:");
    assert_eq!(store.kind(), "redis");
    everything(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn redis_over_tls_does_everything() {
    let server = RedisServer::start_tls();
    let store = redis_store(&server.url(), "tls:");
    everything(&store).await;
}

/// A short TTL ends the entry; a long one set alongside does not.
async fn ttl_expires(store: &Store) {
    store
        .set("short", b"v", Some(Duration::from_millis(50)))
        .await
        .unwrap();
    store.set("long", b"v", LONG).await.unwrap();
    store
        .compare_and_swap("cas", None, b"v", Some(Duration::from_millis(50)))
        .await
        .unwrap();
    let expired = eventually(Duration::from_secs(10), || async {
        store.get("short").await.unwrap().is_none() && store.get("cas").await.unwrap().is_none()
    })
    .await;
    assert!(expired, "50 ms TTLs still readable after 10 s");
    assert_eq!(store.get("long").await, Ok(Some(b"v".to_vec())));
}

/// The first increment opens the window; later ones neither extend nor drop it.
async fn increment_ttl_only_on_create(store: &Store) {
    assert_eq!(
        store
            .increment("w", 1, Some(Duration::from_millis(200)))
            .await,
        Ok(1)
    );
    assert_eq!(store.increment("w", 1, LONG).await, Ok(2));
    assert_eq!(store.increment("w", 1, None).await, Ok(3));
    let window_closed = eventually(Duration::from_secs(10), || async {
        store.get("w").await.unwrap().is_none()
    })
    .await;
    assert!(
        window_closed,
        "the first increment's 200 ms TTL was extended"
    );
    // A new window.
    assert_eq!(store.increment("w", 5, LONG).await, Ok(5));
}

#[tokio::test]
async fn memory_ttls_expire() {
    let store = Store::memory(100);
    ttl_expires(&store).await;
    increment_ttl_only_on_create(&store).await;
}

#[tokio::test]
async fn redis_ttls_expire() {
    let server = RedisServer::start();
    let store = redis_store(&server.url(), "ttl:");
    ttl_expires(&store).await;
    increment_ttl_only_on_create(&store).await;
    // Behind the store: an existing key without expiry keeps none when
    // incremented with a TTL, and TTLs are set in milliseconds.
    store.set("plain", b"5", None).await.unwrap();
    assert_eq!(store.increment("plain", 1, LONG).await, Ok(6));
    store
        .set("px", b"v", Some(Duration::from_millis(1999)))
        .await
        .unwrap();
    let mut raw = server.raw();
    let mut pttl = |key: &str| -> i64 { redis::cmd("PTTL").arg(key).query(&mut raw).unwrap() };
    assert_eq!(pttl("ttl:plain"), -1);
    let px = pttl("ttl:px");
    // Above 1000: not rounded down to seconds; at most 1999: not up.
    assert!(px > 1000 && px <= 1999, "PTTL {px}");
}

#[tokio::test]
async fn memory_stores_do_not_share() {
    let (a, b) = (Store::memory(10), Store::memory(10));
    a.set("k", b"a", None).await.unwrap();
    assert_eq!(b.get("k").await, Ok(None));
}

#[tokio::test]
async fn key_prefixes_isolate_redis_stores() {
    let server = RedisServer::start();
    let a = redis_store(&server.url(), "a:");
    let b = redis_store(&server.url(), "b:");
    a.set("k", b"from a", None).await.unwrap();
    assert_eq!(b.get("k").await, Ok(None));
    assert_eq!(
        b.compare_and_swap("k", None, b"from b", None).await,
        Ok(true)
    );
    assert_eq!(a.increment("n", 1, None).await, Ok(1));
    assert_eq!(b.increment("n", 1, None).await, Ok(1));
    assert_eq!(a.delete("k").await, Ok(true));
    assert_eq!(b.get("k").await, Ok(Some(b"from b".to_vec())));
    let mut raw = server.raw();
    let mut keys: Vec<String> = redis::cmd("KEYS").arg("*").query(&mut raw).unwrap();
    keys.sort();
    assert_eq!(keys, ["a:n", "b:k", "b:n"]);
}
