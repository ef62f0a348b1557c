//! Per-upstream-target metrics, resolved once per pool when a snapshot is
//! built and indexed like the pool's targets.

use std::sync::Arc;

use pingora::{Error, ErrorType};
use prometheus::IntCounter;

use super::Families;
use crate::upstream::Pool;

pub struct UpstreamMetrics {
    /// Same order as `Pool::targets`; empty while metrics are off.
    pub targets: Vec<TargetMetrics>,
}

pub struct TargetMetrics {
    requests: IntCounter,
    connect_failures: IntCounter,
    retries: IntCounter,
    timeouts: IntCounter,
}

impl UpstreamMetrics {
    pub fn new(name: &str, pool: &Pool, enabled: bool) -> Self {
        if !enabled {
            return UpstreamMetrics {
                targets: Vec::new(),
            };
        }
        let f = super::families();
        let targets = pool
            .targets
            .iter()
            .map(|t| {
                let labels = [name, t.address.as_str()];
                TargetMetrics {
                    requests: f.upstream_requests.with_label_values(&labels),
                    connect_failures: f.upstream_connect_failures.with_label_values(&labels),
                    retries: f.upstream_retries.with_label_values(&labels),
                    timeouts: f.upstream_timeouts.with_label_values(&labels),
                }
            })
            .collect();
        UpstreamMetrics { targets }
    }
}

impl TargetMetrics {
    /// An attempt is about to go to this target.
    pub fn attempt(&self) {
        self.requests.inc();
    }

    /// The attempt failed with `e` (before or after connecting); `retried`
    /// when weir tries again.
    pub fn failed(&self, e: &Error, connecting: bool, retried: bool) {
        if connecting {
            self.connect_failures.inc();
        }
        if matches!(
            e.etype(),
            ErrorType::ConnectTimedout | ErrorType::ReadTimedout | ErrorType::WriteTimedout
        ) {
            self.timeouts.inc();
        }
        if retried {
            self.retries.inc();
        }
    }
}

pub(super) fn remove(f: &Families, upstream: &str, target: &str) {
    let labels = [upstream, target];
    let _ = f.upstream_requests.remove_label_values(&labels);
    let _ = f.upstream_connect_failures.remove_label_values(&labels);
    let _ = f.upstream_retries.remove_label_values(&labels);
    let _ = f.upstream_timeouts.remove_label_values(&labels);
}

/// Health is kept by the targets themselves; copy it into the gauge.
pub(super) fn refresh<'a>(f: &Families, pools: impl Iterator<Item = (&'a String, &'a Arc<Pool>)>) {
    f.target_healthy.reset();
    for (name, pool) in pools {
        for target in &pool.targets {
            f.target_healthy
                .with_label_values(&[name.as_str(), target.address.as_str()])
                .set(i64::from(target.is_available()));
        }
    }
}
