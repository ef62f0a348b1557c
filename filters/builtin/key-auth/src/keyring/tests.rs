//! Host-side tests of the lookup (`cargo test --target x86_64-unknown-linux-gnu`).

use std::hint::black_box;
use std::time::{Duration, Instant};

use super::*;

fn ring(keys: usize) -> Keyring {
    let mut ring = Keyring::default();
    let alice = ring.add_consumer("alice").unwrap();
    let bob = ring.add_consumer("bob").unwrap();
    for i in 0..keys {
        let owner = if i + 1 == keys { bob } else { alice };
        ring.add_key(owner, hash_key(format!("key-{i:06}").as_bytes()))
            .unwrap();
    }
    ring
}

#[test]
fn finds_the_owner_of_a_key_and_nobody_for_near_misses() {
    let ring = ring(3);
    assert_eq!(ring.find(b"key-000000"), Some("alice"));
    assert_eq!(ring.find(b"key-000002"), Some("bob"));
    for miss in ["key-00000", "key-0000000", "Key-000000", "key-000003", ""] {
        assert_eq!(ring.find(miss.as_bytes()), None, "{miss:?}");
    }
}

#[test]
fn keys_may_be_given_as_their_hash_and_bad_hashes_are_refused() {
    let hex = "ab".repeat(32);
    assert_eq!(parse_key(&format!("sha256:{hex}")).unwrap(), [0xab; 32]);
    assert_eq!(parse_key("plain").unwrap(), hash_key(b"plain"));
    assert!(parse_key("sha256:abc").is_err());
    assert!(parse_key(&format!("sha256:{}", "zz".repeat(32))).is_err());
    assert!(parse_key("").is_err());
    let mut ring = ring(1);
    assert!(
        ring.add_key(0, hash_key(b"key-000000")).is_err(),
        "duplicate key"
    );
    assert!(ring.add_consumer("alice").is_err(), "duplicate consumer");
}

/// The time of a lookup must not depend on which key matches or how close a
/// wrong key is. An early-exit scan (or early-exit comparison of plain keys)
/// makes a hit on the first of 5000 keys thousands of times faster than a
/// miss, so this fails by orders of magnitude, not by noise; the bound (1.5x
/// between medians of interleaved batches) leaves room for a busy machine.
#[test]
fn lookup_time_does_not_depend_on_the_key() {
    let ring = ring(5000);
    let probes: [&[u8]; 5] = [
        b"key-000000", // hit, first entry
        b"key-004999", // hit, last entry
        b"key-004998", // hit, next to last
        b"key-00499x", // miss sharing a long prefix with a key
        b"xey-004999", // miss differing in the first byte
    ];
    let mut samples: Vec<Vec<Duration>> = vec![Vec::new(); probes.len()];
    for round in 0..41 {
        // Rotate the order so drift in machine load hits every probe alike.
        for k in 0..probes.len() {
            let i = (k + round) % probes.len();
            let started = Instant::now();
            for _ in 0..8 {
                black_box(ring.find(black_box(probes[i])));
            }
            samples[i].push(started.elapsed());
        }
    }
    let medians: Vec<Duration> = samples
        .iter_mut()
        .map(|s| {
            s.sort();
            s[s.len() / 2]
        })
        .collect();
    let (fast, slow) = (medians.iter().min().unwrap(), medians.iter().max().unwrap());
    assert!(
        slow.as_secs_f64() < fast.as_secs_f64() * 1.5,
        "lookup medians differ by key: {medians:?}"
    );
}
