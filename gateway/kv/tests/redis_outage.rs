//! The Redis store when Redis is not there, hangs, dies, or comes back:
//! construction never fails or blocks, calls fail within the command
//! timeout, and the store heals by itself.

mod common;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use common::{
    COMMAND_TIMEOUT, MARGIN, RedisServer, eventually, free_port, redis_store, store_runtime,
};
use weir_kv::{KvError, RedisConfig, Store};

/// Runs every operation once; each must fail as Unavailable, in time.
async fn every_call_fails_in_time(store: &Store) {
    let bound = COMMAND_TIMEOUT + MARGIN;
    for op in 0..5 {
        let started = Instant::now();
        let result = match op {
            0 => store.get("k").await.map(drop),
            1 => store.set("k", b"v", None).await,
            2 => store.delete("k").await.map(drop),
            3 => store.increment("k", 1, None).await.map(drop),
            _ => store
                .compare_and_swap("k", Some(b"v"), b"w", None)
                .await
                .map(drop),
        };
        let elapsed = started.elapsed();
        assert!(
            matches!(result, Err(KvError::Unavailable(_))),
            "op {op}: {result:?}"
        );
        assert!(elapsed < bound, "op {op} took {elapsed:?}, bound {bound:?}");
    }
}

#[tokio::test]
async fn starts_and_fails_fast_when_nothing_listens() {
    let started = Instant::now();
    let store = redis_store(&format!("redis://127.0.0.1:{}", free_port()), "");
    assert!(
        started.elapsed() < Duration::from_millis(100),
        "construction blocked"
    );
    every_call_fails_in_time(&store).await;
    // Still failing, not stuck, on a second round.
    every_call_fails_in_time(&store).await;
}

#[tokio::test]
async fn times_out_on_a_server_that_never_answers() {
    // Accepts connections (the kernel does) but never replies.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = silent.local_addr().unwrap().port();
    let store = redis_store(&format!("redis://127.0.0.1:{port}"), "");
    every_call_fails_in_time(&store).await;
    drop(silent);
}

#[test]
fn only_an_unparsable_url_is_refused() {
    let config = |url: &str| RedisConfig {
        url: url.to_owned(),
        pool_size: 0, // counts as 1
        connect_timeout: Duration::from_millis(100),
        command_timeout: Duration::from_millis(100),
        key_prefix: String::new(),
    };
    for bad in ["not a url", "http://example.com", "redis://:99999999"] {
        let result = Store::redis(config(bad), store_runtime());
        assert!(matches!(result, Err(KvError::Invalid(_))), "{bad}");
    }
    // Unresolvable and TLS URLs are fine until used; no runtime context needed.
    for good in [
        "redis://no-such-host.invalid:6379/0",
        "rediss://user:pw@127.0.0.1:1",
    ] {
        let store = Store::redis(config(good), store_runtime()).expect(good);
        assert!(!format!("{store:?}").contains("pw"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn survives_redis_dying_and_coming_back() {
    let mut server = RedisServer::start();
    let store = redis_store(&server.url(), "life:");
    store.set("k", b"before", None).await.unwrap();

    server.stop();
    every_call_fails_in_time(&store).await;

    server.restart();
    // Reconnecting is up to the store; give it a bounded while.
    let healed = eventually(Duration::from_secs(15), || async {
        store.set("k", b"after", None).await.is_ok()
    })
    .await;
    assert!(
        healed,
        "no successful call within 15 s of Redis coming back"
    );
    // Every connection of the pool works again, scripts included (Redis
    // forgot them when it restarted).
    for _ in 0..4 {
        assert_eq!(store.get("k").await, Ok(Some(b"after".to_vec())));
        assert_eq!(
            store
                .compare_and_swap("k", Some(b"after"), b"after", None)
                .await,
            Ok(true)
        );
        assert!(store.increment("n", 1, None).await.is_ok());
    }
}

/// The connections live on the store's runtime: a caller's runtime ending
/// does not take them down, and any other runtime can use the store.
#[test]
fn connections_outlive_the_callers_runtime() {
    let server = RedisServer::start();
    let store = redis_store(&server.url(), "rt:");
    let caller = || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
    };
    let first = caller();
    first.block_on(store.set("k", b"v", None)).unwrap();
    first.block_on(store.increment("n", 1, None)).unwrap();
    drop(first);
    let second = caller();
    // Both pooled connections, each on its first try.
    for _ in 0..2 {
        assert_eq!(second.block_on(store.get("k")), Ok(Some(b"v".to_vec())));
    }
    // A runtime without a timer is fine too: the timeouts run on the store's.
    let bare = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    assert_eq!(bare.block_on(store.get("k")), Ok(Some(b"v".to_vec())));
}
