//! Load-balancing policies. Each picks a target index among those that are
//! available and not excluded (already tried by this request).

use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};

use rand::Rng;
use weir_config::Balance;

use super::target::TargetState;

#[derive(Debug)]
pub struct Balancer {
    policy: Policy,
    cursor: AtomicUsize,
}

#[derive(Debug)]
enum Policy {
    RoundRobin,
    /// Precomputed smooth weighted round-robin order (nginx's algorithm), so
    /// picking is one atomic increment.
    Weighted(Vec<usize>),
    LeastConnections,
    PowerOfTwoChoices,
    ConsistentHash,
}

/// Hash key for consistent hashing; fixed seed so all workers agree.
pub fn key_hash(bytes: &[u8]) -> u64 {
    let mut h = FIXED_HASH.build_hasher();
    h.write(bytes);
    h.finish()
}

const FIXED_HASH: std::hash::BuildHasherDefault<std::collections::hash_map::DefaultHasher> =
    std::hash::BuildHasherDefault::new();

impl Balancer {
    pub fn new(balance: &Balance, targets: &[std::sync::Arc<TargetState>]) -> Self {
        let policy = match balance {
            Balance::RoundRobin => Policy::RoundRobin,
            Balance::Weighted => Policy::Weighted(smooth_weighted_order(targets)),
            Balance::LeastConnections => Policy::LeastConnections,
            Balance::PowerOfTwoChoices => Policy::PowerOfTwoChoices,
            Balance::ConsistentHash(_) => Policy::ConsistentHash,
        };
        Balancer {
            policy,
            cursor: AtomicUsize::new(0),
        }
    }

    /// `key` is the consistent-hash key when the policy uses one and the
    /// request has it. `usable(i)` says whether target `i` may be picked.
    pub fn pick(
        &self,
        targets: &[std::sync::Arc<TargetState>],
        key: Option<u64>,
        usable: impl Fn(usize) -> bool,
    ) -> Option<usize> {
        let n = targets.len();
        match &self.policy {
            Policy::ConsistentHash if key.is_some() => {
                rendezvous(targets, key.unwrap_or_default(), &usable)
            }
            Policy::RoundRobin | Policy::ConsistentHash => {
                let start = self.cursor.fetch_add(1, Ordering::Relaxed);
                (0..n).map(|k| (start + k) % n).find(|&i| usable(i))
            }
            Policy::Weighted(order) => {
                let start = self.cursor.fetch_add(1, Ordering::Relaxed);
                (0..order.len())
                    .map(|k| order[(start + k) % order.len()])
                    .find(|&i| usable(i))
            }
            Policy::LeastConnections => {
                // Rotate the starting point so ties spread evenly.
                let start = self.cursor.fetch_add(1, Ordering::Relaxed);
                (0..n)
                    .map(|k| (start + k) % n)
                    .filter(|&i| usable(i))
                    .min_by_key(|&i| targets[i].in_flight())
            }
            Policy::PowerOfTwoChoices => {
                let candidates: Vec<usize> = (0..n).filter(|&i| usable(i)).collect();
                match candidates.len() {
                    0 => None,
                    1 => Some(candidates[0]),
                    len => {
                        let mut rng = rand::rng();
                        let a = rng.random_range(0..len);
                        let mut b = rng.random_range(0..len - 1);
                        if b >= a {
                            b += 1;
                        }
                        let (a, b) = (candidates[a], candidates[b]);
                        Some(if targets[b].in_flight() < targets[a].in_flight() {
                            b
                        } else {
                            a
                        })
                    }
                }
            }
        }
    }
}

/// Rendezvous (highest random weight) hashing: the same key keeps landing on
/// the same target, and removing a target only moves the keys it had.
fn rendezvous(
    targets: &[std::sync::Arc<TargetState>],
    key: u64,
    usable: &impl Fn(usize) -> bool,
) -> Option<usize> {
    (0..targets.len()).filter(|&i| usable(i)).max_by(|&a, &b| {
        score(key, &targets[a])
            .partial_cmp(&score(key, &targets[b]))
            .unwrap_or(std::cmp::Ordering::Equal)
    })
}

fn score(key: u64, target: &TargetState) -> f64 {
    let mut h = FIXED_HASH.build_hasher();
    h.write_u64(key);
    h.write(target.address.as_bytes());
    // Weighted rendezvous: -w / ln(u), u uniform in (0, 1).
    let u = ((h.finish() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
    -(target.weight as f64) / u.ln()
}

/// The order smooth weighted round robin visits targets in, one full cycle.
fn smooth_weighted_order(targets: &[std::sync::Arc<TargetState>]) -> Vec<usize> {
    let weights: Vec<i64> = targets.iter().map(|t| i64::from(t.weight.max(1))).collect();
    let total: i64 = weights.iter().sum();
    // Keep the cycle short for large weights; proportions stay exact when
    // weights share a divisor, approximate otherwise.
    let divisor = weights.iter().copied().fold(0, gcd).max(1);
    let weights: Vec<i64> = weights.iter().map(|w| w / divisor).collect();
    let cycle = (total / divisor).min(10_000);
    let mut current = vec![0i64; weights.len()];
    let sum: i64 = weights.iter().sum();
    (0..cycle)
        .map(|_| {
            for (c, w) in current.iter_mut().zip(&weights) {
                *c += w;
            }
            let best = (0..current.len())
                .max_by_key(|&i| (current[i], -(i as i64)))
                .unwrap_or(0);
            current[best] -= sum;
            best
        })
        .collect()
}

fn gcd(a: i64, b: i64) -> i64 {
    if b == 0 { a } else { gcd(b, a % b) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn targets(weights: &[u32]) -> Vec<Arc<TargetState>> {
        weights
            .iter()
            .enumerate()
            .map(|(i, w)| {
                let addr = format!("127.0.0.1:{}", 9000 + i);
                Arc::new(TargetState::new(addr.clone(), addr.parse().unwrap(), *w))
            })
            .collect()
    }

    fn counts(
        b: &Balancer,
        t: &[Arc<TargetState>],
        n: usize,
        key: impl Fn(usize) -> Option<u64>,
    ) -> Vec<usize> {
        let mut c = vec![0; t.len()];
        for k in 0..n {
            c[b.pick(t, key(k), |_| true).unwrap()] += 1;
        }
        c
    }

    #[test]
    fn weighted_follows_weights_exactly_per_cycle() {
        let t = targets(&[5, 1, 2]);
        let b = Balancer::new(&Balance::Weighted, &t);
        assert_eq!(counts(&b, &t, 800, |_| None), vec![500, 100, 200]);
    }

    #[test]
    fn smooth_weighted_interleaves() {
        let t = targets(&[2, 1]);
        assert_eq!(smooth_weighted_order(&t), vec![0, 1, 0]);
    }

    #[test]
    fn round_robin_skips_unusable_targets() {
        let t = targets(&[1, 1, 1]);
        let b = Balancer::new(&Balance::RoundRobin, &t);
        let picks: Vec<usize> = (0..4)
            .map(|_| b.pick(&t, None, |i| i != 1).unwrap())
            .collect();
        assert!(picks.iter().all(|&i| i != 1));
        assert_eq!(b.pick(&t, None, |_| false), None);
    }

    #[test]
    fn consistent_hash_is_sticky_and_moves_only_removed_keys() {
        let t = targets(&[1, 1, 1, 1]);
        let b = Balancer::new(&Balance::ConsistentHash(weir_config::HashKey::ClientIp), &t);
        let before: Vec<usize> = (0..200u32)
            .map(|k| {
                b.pick(&t, Some(key_hash(&k.to_le_bytes())), |_| true)
                    .unwrap()
            })
            .collect();
        let again: Vec<usize> = (0..200u32)
            .map(|k| {
                b.pick(&t, Some(key_hash(&k.to_le_bytes())), |_| true)
                    .unwrap()
            })
            .collect();
        assert_eq!(before, again);
        let after: Vec<usize> = (0..200u32)
            .map(|k| {
                b.pick(&t, Some(key_hash(&k.to_le_bytes())), |i| i != 2)
                    .unwrap()
            })
            .collect();
        for (x, y) in before.iter().zip(&after) {
            if *x != 2 {
                assert_eq!(x, y, "keys on surviving targets must not move");
            }
        }
        for i in 0..4 {
            assert!(before.contains(&i), "target {i} got no keys");
        }
    }

    #[test]
    fn least_connections_prefers_idle_targets() {
        let t = targets(&[1, 1, 1]);
        let b = Balancer::new(&Balance::LeastConnections, &t);
        let _busy0 = super::super::target::InFlight::start(t[0].clone());
        let _busy2 = super::super::target::InFlight::start(t[2].clone());
        for _ in 0..5 {
            assert_eq!(b.pick(&t, None, |_| true), Some(1));
        }
    }

    #[test]
    fn power_of_two_never_picks_the_busiest_of_two() {
        let t = targets(&[1, 1]);
        let b = Balancer::new(&Balance::PowerOfTwoChoices, &t);
        let _busy = super::super::target::InFlight::start(t[0].clone());
        for _ in 0..20 {
            assert_eq!(b.pick(&t, None, |_| true), Some(1));
        }
    }
}
