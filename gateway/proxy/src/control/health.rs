//! Active HTTP health checks. One task per pool that has a `health_check`;
//! the task holds the pool weakly and ends once no snapshot uses the pool.

use std::sync::{Arc, Weak};

use async_trait::async_trait;
use pingora::lb::Backend;
use pingora::lb::health_check::{HealthCheck as _, HttpHealthCheck};
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use weir_config::HealthCheck;

use crate::snapshot::SnapshotStore;
use crate::upstream::Pool;

/// Starts a checker for every pool of every new snapshot that needs one.
pub struct HealthChecker {
    snapshots: Arc<SnapshotStore>,
}

impl HealthChecker {
    pub fn new(snapshots: Arc<SnapshotStore>) -> Self {
        HealthChecker { snapshots }
    }
}

#[async_trait]
impl BackgroundService for HealthChecker {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let mut changes = self.snapshots.subscribe();
        loop {
            let snapshot = self.snapshots.load();
            for pool in snapshot.pools.values() {
                if pool.definition.health_check.is_some()
                    && !pool
                        .checker_started
                        .swap(true, std::sync::atomic::Ordering::Relaxed)
                {
                    tokio::spawn(watch_pool(Arc::downgrade(pool)));
                }
            }
            drop(snapshot);
            tokio::select! {
                changed = changes.changed() => if changed.is_err() { return },
                _ = shutdown.changed() => return,
            }
        }
    }
}

async fn watch_pool(pool: Weak<Pool>) {
    let Some((checker, settings)) = pool.upgrade().and_then(|p| {
        let settings = p.definition.health_check.clone()?;
        Some((http_check(&p, &settings), settings))
    }) else {
        return;
    };
    // Consecutive successes / failures per target, known only to this task.
    let mut streaks: Vec<(u32, u32)> = Vec::new();
    loop {
        let Some(pool) = pool.upgrade() else { return };
        streaks.resize(pool.targets.len(), (0, 0));
        let checks = pool.targets.iter().map(|target| {
            let backend = Backend {
                addr: pingora::protocols::l4::socket::SocketAddr::Inet(target.socket_addr),
                weight: 1,
                ext: Default::default(),
            };
            let checker = &checker;
            async move {
                tokio::time::timeout(settings.timeout, checker.check(&backend))
                    .await
                    .map_err(|_| "timed out".to_string())
                    .and_then(|r| r.map_err(|e| e.to_string()))
            }
        });
        let results = futures::future::join_all(checks).await;
        for ((target, result), streak) in pool.targets.iter().zip(results).zip(streaks.iter_mut()) {
            match result {
                Ok(()) => {
                    *streak = (streak.0 + 1, 0);
                    if streak.0 >= settings.healthy_threshold && target.set_healthy(true) {
                        tracing::info!(upstream = pool.name(), target_addr = %target.address, "target healthy again");
                    }
                }
                Err(reason) => {
                    *streak = (0, streak.1 + 1);
                    if streak.1 >= settings.unhealthy_threshold && target.set_healthy(false) {
                        tracing::warn!(upstream = pool.name(), target_addr = %target.address, %reason, "target failed health checks");
                    }
                }
            }
        }
        drop(pool);
        tokio::time::sleep(settings.interval).await;
    }
}

fn http_check(pool: &Pool, settings: &HealthCheck) -> HttpHealthCheck {
    let tls = pool.definition.tls.as_ref();
    let host = tls
        .and_then(|t| t.sni.clone())
        .or_else(|| {
            pool.targets
                .first()
                .map(|t| host_part(&t.address).to_owned())
        })
        .unwrap_or_default();
    let mut check = HttpHealthCheck::new(&host, tls.is_some());
    check
        .req
        .set_uri(settings.path.parse().expect("checked path is a valid URI"));
    check.peer_template.options.connection_timeout = Some(settings.timeout);
    check.peer_template.options.read_timeout = Some(settings.timeout);
    if let Some(tls) = tls {
        check.peer_template.options.verify_cert = tls.verify;
        check.peer_template.options.verify_hostname = tls.verify;
        check.peer_template.options.ca = pool.ca.clone();
    }
    let (min, max) = settings.expected_status;
    check.validator = Some(Box::new(move |resp| {
        let status = resp.status.as_u16();
        if (min..=max).contains(&status) {
            Ok(())
        } else {
            pingora::Error::e_explain(
                pingora::ErrorType::CustomCode("unexpected health check status", status),
                "during health check",
            )
        }
    }));
    check
}

fn host_part(address: &str) -> &str {
    address.rsplit_once(':').map_or(address, |(host, _)| host)
}
