use std::time::{Duration, Instant};

use super::*;
use crate::gcra::Quota;

fn deadline(store: &MemoryStore, key: &str) -> Option<Instant> {
    match store.cache.get(key).expect("entry present") {
        Slot::Bytes(stored) => stored.expires_at,
        Slot::Gcra(_) => panic!("rate-limit state, not bytes"),
    }
}

fn gcra(limit: u64, window: Duration) -> Gcra {
    Gcra::new(Quota { limit, window }, 1).unwrap()
}

const HOUR: Duration = Duration::from_secs(3600);

#[test]
fn holds_at_most_max_entries() {
    let store = MemoryStore::new(100);
    for i in 0..500 {
        store.set(&format!("k{i}"), b"v", None);
    }
    // moka evicts in its housekeeping, which it otherwise runs lazily.
    store.cache.run_pending_tasks();
    let readable = (0..500)
        .filter(|i| store.get(&format!("k{i}")).is_some())
        .count();
    assert!(readable <= 100, "{readable} entries readable");
    assert!(readable > 0, "the cache kept nothing");
}

#[test]
fn increment_keeps_an_existing_keys_lack_of_expiry() {
    let store = MemoryStore::new(10);
    store.set("n", b"5", None);
    assert_eq!(store.increment("n", 1, Some(Duration::from_secs(1))), Ok(6));
    assert_eq!(deadline(&store, "n"), None);
}

#[test]
fn increment_keeps_an_existing_deadline_and_sets_one_on_create() {
    let store = MemoryStore::new(10);
    let before = Instant::now();
    assert_eq!(
        store.increment("c", 2, Some(Duration::from_secs(10))),
        Ok(2)
    );
    let first = deadline(&store, "c").expect("a deadline on create");
    assert!(first >= before + Duration::from_secs(10));
    assert_eq!(
        store.increment("c", 3, Some(Duration::from_secs(999))),
        Ok(5)
    );
    assert_eq!(deadline(&store, "c"), Some(first));
}

#[test]
fn an_expired_entry_counts_as_absent() {
    let store = MemoryStore::new(10);
    // Planted already expired, so no waiting is needed.
    let past = Instant::now()
        .checked_sub(Duration::from_millis(5))
        .expect("clock past 5ms");
    let stale = || {
        Slot::Bytes(Stored {
            value: b"41".as_slice().into(),
            expires_at: Some(past),
        })
    };
    store.cache.insert("x".into(), stale());
    assert_eq!(store.get("x"), None);
    assert!(!store.delete("x"));
    store.cache.insert("x".into(), stale());
    assert_eq!(store.increment("x", 1, None), Ok(1));
    assert_eq!(deadline(&store, "x"), None);
}

#[test]
fn throttles_in_place_and_shows_the_tat() {
    let store = MemoryStore::new(10);
    let quota = gcra(3, HOUR);
    for remaining in [2, 1, 0] {
        let answer = store.throttle("rl", quota, 1);
        assert!(answer.allowed);
        assert_eq!(answer.remaining, remaining);
    }
    assert!(!store.throttle("rl", quota, 1).allowed);
    // The state is one entry, updated in place, and reads as decimal text:
    // the TAT, one hour (three intervals) ahead.
    let tat: u64 = String::from_utf8(store.get("rl").unwrap())
        .unwrap()
        .parse()
        .unwrap();
    let now = store.micros(Instant::now());
    assert!(tat > now + 3_599_000_000 && tat <= now + 3_600_000_000);
    assert!(matches!(store.cache.get("rl"), Some(Slot::Gcra(_))));
    // Deleting it gives the quota back.
    assert!(store.delete("rl"));
    assert_eq!(store.throttle("rl", quota, 1).remaining, 2);
}

#[test]
fn a_state_past_its_tat_is_no_state() {
    let store = MemoryStore::new(10);
    // Planted with a TAT already passed, so no waiting is needed.
    let state = GcraSlot::new(store.micros(Instant::now()), HOUR.as_micros() as u64);
    store.cache.insert("rl".into(), Slot::Gcra(Arc::new(state)));
    assert_eq!(store.get("rl"), None);
    let answer = store.throttle("rl", gcra(5, HOUR), 1);
    assert!(answer.allowed);
    assert_eq!(answer.remaining, 4);
}

#[test]
fn writes_replace_a_state_and_compare_against_its_text() {
    let store = MemoryStore::new(10);
    let quota = gcra(5, HOUR);
    store.throttle("rl", quota, 1);
    let tat = store.get("rl").unwrap();
    // A mismatch changes nothing and leaves the state counting.
    assert!(!store.compare_and_swap("rl", Some(b"nope"), b"x", None));
    assert_eq!(store.throttle("rl", quota, 1).remaining, 3);
    let tat = {
        assert_ne!(store.get("rl").unwrap(), tat);
        store.get("rl").unwrap()
    };
    assert!(store.compare_and_swap("rl", Some(&tat), b"x", None));
    assert_eq!(store.get("rl"), Some(b"x".to_vec()));
    // Bytes that are not a TAT count as no state.
    assert_eq!(store.throttle("rl", quota, 1).remaining, 4);
    store.set("rl", b"y", None);
    assert_eq!(store.get("rl"), Some(b"y".to_vec()));
    assert_eq!(store.throttle("rl", quota, 1).remaining, 4);
    // An increment counts on the TAT's text (as Redis would) and ends
    // with it.
    let tat: i64 = String::from_utf8(store.get("rl").unwrap())
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(store.increment("rl", 1, None), Ok(tat + 1));
    assert!(deadline(&store, "rl").is_some());
}

#[test]
fn a_longer_window_lengthens_the_states_life() {
    let store = MemoryStore::new(10);
    store.throttle("rl", gcra(10, Duration::from_secs(1)), 1);
    store.throttle("rl", gcra(10, HOUR), 1);
    let Some(Slot::Gcra(state)) = store.cache.get("rl") else {
        panic!("rate-limit state")
    };
    assert_eq!(state.horizon(), HOUR);
}

#[test]
fn exactly_the_quota_passes_across_threads() {
    let store = Arc::new(MemoryStore::new(10));
    let quota = gcra(50, HOUR);
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                (0..100)
                    .filter(|_| store.throttle("rl", quota, 1).allowed)
                    .count()
            })
        })
        .collect();
    let allowed: usize = threads.into_iter().map(|t| t.join().unwrap()).sum();
    assert_eq!(allowed, 50);
}

#[test]
fn throttles_racing_a_reset_never_lose_the_reset() {
    // Resets (deletes) interleave with throttles on other threads; after the
    // last reset, the key is fresh whatever the throttles did before.
    let store = Arc::new(MemoryStore::new(10));
    let quota = gcra(1_000_000, HOUR);
    let throttlers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            std::thread::spawn(move || {
                for _ in 0..2_000 {
                    assert!(store.throttle("rl", quota, 1).allowed);
                }
            })
        })
        .collect();
    for _ in 0..200 {
        store.delete("rl");
    }
    for t in throttlers {
        t.join().unwrap();
    }
    store.delete("rl");
    assert_eq!(store.get("rl"), None);
    assert_eq!(store.throttle("rl", quota, 1).remaining, 999_999);
}

#[test]
fn a_compare_and_swap_racing_throttles_loses_none_of_them() {
    // Each throttle moves the TAT one second (an interval) further, far more
    // than the test takes, so the final TAT counts them. A compare-and-swap
    // that rewrites the value it read turns the state into bytes; a throttle
    // landing between its read and its write would be lost.
    let store = Arc::new(MemoryStore::new(10));
    let quota = gcra(1_000_000, Duration::from_secs(1_000_000));
    let started = store.micros(Instant::now());
    let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let swapper = {
        let (store, done) = (store.clone(), done.clone());
        std::thread::spawn(move || {
            let mut swaps = 0;
            while !done.load(std::sync::atomic::Ordering::Acquire) {
                if let Some(value) = store.get("rl") {
                    swaps += usize::from(store.compare_and_swap("rl", Some(&value), &value, None));
                }
            }
            swaps
        })
    };
    const CALLS: u64 = 20_000;
    for _ in 0..CALLS {
        assert!(store.throttle("rl", quota, 1).allowed);
    }
    done.store(true, std::sync::atomic::Ordering::Release);
    let swaps = swapper.join().unwrap();
    let ended = store.micros(Instant::now());
    let tat: u64 = String::from_utf8(store.get("rl").unwrap())
        .unwrap()
        .parse()
        .unwrap();
    let first = tat - CALLS * 1_000_000;
    assert!(
        (started..=ended).contains(&first),
        "a throttle was lost ({swaps} swaps): the TAT counts from {first}, not from {started}..={ended}"
    );
}
