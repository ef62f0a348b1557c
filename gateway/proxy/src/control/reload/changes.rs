//! What a new generation changes against the running one: the routes,
//! upstreams, filters, handlers and certificates it adds, removes or changes (for the
//! log and the admin endpoint), the sections that only a restart applies,
//! and the metric series it retires.

use std::collections::{BTreeMap, HashSet};
use std::time::Duration;

use serde::Serialize;
use weir_config::Listener;

use crate::observe::metrics;
use crate::snapshot::Snapshot;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Changes {
    pub routes: Diff,
    pub upstreams: Diff,
    pub filters: Diff,
    pub handlers: Diff,
    /// TLS listeners whose certificates (files or server names) changed.
    pub certificates: Diff,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Diff {
    pub added: Vec<String>,
    pub removed: Vec<String>,
    pub changed: Vec<String>,
}

/// What a reload cannot change on a bound listener: its address, whether it
/// terminates TLS, and the protocols it offers. Certificates and server names
/// reload live (`Snapshot::certificates`).
/// The sections whose change a reload cannot apply (the rest of the new
/// config is applied meanwhile).
pub(super) fn restart_changes(
    started: &weir_config::Config,
    next: &weir_config::Config,
) -> Vec<String> {
    let listener = |l: &Listener| (l.name.clone(), l.address, l.tls.is_some(), l.http2);
    let listeners = |c: &weir_config::Config| c.listeners.iter().map(listener).collect::<Vec<_>>();
    // The expiry warning is read by every check: it applies at once.
    let server = |c: &weir_config::Config| weir_config::ServerSettings {
        certificate_expiry_warning: Duration::ZERO,
        ..c.server.clone()
    };
    let admin_address = |c: &weir_config::Config| c.admin.as_ref().map(|a| a.address);
    let mut changed = Vec::new();
    for (section, differs) in [
        ("listeners", listeners(started) != listeners(next)),
        ("server", server(started) != server(next)),
        (
            "admin.address",
            admin_address(started) != admin_address(next),
        ),
        ("access_log", started.access_log != next.access_log),
        ("tracing", started.tracing != next.tracing),
    ] {
        if differs {
            changed.push(section.to_owned());
        }
    }
    changed
}

pub(super) fn diff(old: &Snapshot, new: &Snapshot) -> Changes {
    let (o, n) = (&old.config, &new.config);
    Changes {
        routes: diff_by_name(
            o.routes
                .iter()
                .map(|r| (r.name.clone(), format!("{:?}", r))),
            n.routes
                .iter()
                .map(|r| (r.name.clone(), format!("{:?}", r))),
        ),
        upstreams: diff_by_name(
            o.upstreams
                .iter()
                .map(|(k, v)| (k.clone(), format!("{v:?}"))),
            n.upstreams
                .iter()
                .map(|(k, v)| (k.clone(), format!("{v:?}"))),
        ),
        filters: diff_by_name(
            o.filters.iter().map(|(k, v)| {
                (
                    k.clone(),
                    fingerprint(v, old.filters.get(k).map(|l| l.module_digest())),
                )
            }),
            n.filters.iter().map(|(k, v)| {
                (
                    k.clone(),
                    fingerprint(v, new.filters.get(k).map(|l| l.module_digest())),
                )
            }),
        ),
        handlers: diff_by_name(
            o.handlers.iter().map(|(k, v)| {
                (
                    k.clone(),
                    fingerprint(v, old.handlers.get(k).map(|l| l.module_digest())),
                )
            }),
            n.handlers.iter().map(|(k, v)| {
                (
                    k.clone(),
                    fingerprint(v, new.handlers.get(k).map(|l| l.module_digest())),
                )
            }),
        ),
        certificates: diff_by_name(certificate_fingerprints(old), certificate_fingerprints(new)),
    }
}

/// A listener's certificates changed if a leaf certificate or the server
/// names did.
fn certificate_fingerprints(s: &Snapshot) -> impl Iterator<Item = (String, String)> + '_ {
    s.config.listeners.iter().filter_map(|l| {
        let tls = l.tls.as_ref()?;
        let certs = s.certificates.get(&l.name)?;
        let names: Vec<_> = tls.certificates.iter().map(|c| &c.server_names).collect();
        Some((
            l.name.clone(),
            format!("{names:?}{:?}", certs.fingerprints()),
        ))
    })
}

/// A filter or handler changed if its settings or its module's bytes did.
fn fingerprint(definition: &impl std::fmt::Debug, module_digest: Option<&str>) -> String {
    format!("{definition:?}{}", module_digest.unwrap_or_default())
}

fn diff_by_name(
    old: impl Iterator<Item = (String, String)>,
    new: impl Iterator<Item = (String, String)>,
) -> Diff {
    let old: BTreeMap<_, _> = old.collect();
    let new: BTreeMap<_, _> = new.collect();
    Diff {
        added: new
            .keys()
            .filter(|k| !old.contains_key(*k))
            .cloned()
            .collect(),
        removed: old
            .keys()
            .filter(|k| !new.contains_key(*k))
            .cloned()
            .collect(),
        changed: new
            .iter()
            .filter(|(k, v)| old.get(*k).is_some_and(|ov| ov != *v))
            .map(|(k, _)| k.clone())
            .collect(),
    }
}

/// After a reload from `old` to `new`: drops the metric label sets of the
/// routes, upstream targets and filters `old` had and `new` has not, so the
/// series stay bounded by the config.
pub(super) fn retire_metrics(old: &Snapshot, new: &Snapshot) {
    // By name in a set: configs may have tens of thousands of routes.
    let kept_routes: HashSet<&str> = new.routes.iter().map(|r| r.name.as_str()).collect();
    for route in &old.routes {
        if !kept_routes.contains(route.name.as_str()) {
            metrics::retire_route(&route.name);
        }
    }
    for (name, pool) in &old.pools {
        for target in &pool.targets {
            let kept = new
                .pools
                .get(name)
                .is_some_and(|p| p.targets.iter().any(|t| t.address == target.address));
            if !kept {
                metrics::retire_target(name, &target.address);
            }
        }
    }
    for name in old.filters.keys() {
        if !new.filters.contains_key(name) {
            metrics::retire_filter(name);
        }
    }
    for name in old.handlers.keys() {
        if !new.handlers.contains_key(name) {
            metrics::retire_handler(name);
        }
    }
}
