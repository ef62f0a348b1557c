//! A named upstream pool as built for one config generation.

use std::net::ToSocketAddrs;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use pingora::tls::x509::X509;
use weir_config::{HashKey, Upstream};

use super::balance::Balancer;
use super::target::TargetState;

#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("upstreams.{upstream}.targets: cannot resolve {address:?}: {reason}")]
    Resolve {
        upstream: String,
        address: String,
        reason: String,
    },
    #[error("upstreams.{upstream}.tls.ca_file: cannot load {path}: {reason}")]
    CaFile {
        upstream: String,
        path: String,
        reason: String,
    },
}

#[derive(Debug)]
pub struct Pool {
    /// The definition this pool was built from; an unchanged definition on
    /// reload keeps this pool (and its health state and connections).
    pub definition: Upstream,
    pub targets: Vec<Arc<TargetState>>,
    pub balancer: Balancer,
    /// Trusted CAs for upstream TLS, loaded once.
    pub ca: Option<Arc<Box<[X509]>>>,
    /// Set once a health-check task watches this pool.
    pub checker_started: AtomicBool,
}

impl Pool {
    pub fn build(definition: &Upstream) -> Result<Self, BuildError> {
        let mut targets = Vec::with_capacity(definition.targets.len());
        for target in &definition.targets {
            let resolve_error = |reason: String| BuildError::Resolve {
                upstream: definition.name.clone(),
                address: target.address.clone(),
                reason,
            };
            let socket_addr = target
                .address
                .to_socket_addrs()
                .map_err(|e| resolve_error(e.to_string()))?
                .next()
                .ok_or_else(|| resolve_error("no address".into()))?;
            targets.push(Arc::new(TargetState::new(
                target.address.clone(),
                socket_addr,
                target.weight,
            )));
        }
        let ca = match definition.tls.as_ref().and_then(|t| t.ca_file.as_ref()) {
            None => None,
            Some(path) => {
                let ca_error = |reason: String| BuildError::CaFile {
                    upstream: definition.name.clone(),
                    path: path.display().to_string(),
                    reason,
                };
                let pem = std::fs::read(path).map_err(|e| ca_error(e.to_string()))?;
                let certs = X509::stack_from_pem(&pem).map_err(|e| ca_error(e.to_string()))?;
                Some(Arc::new(certs.into_boxed_slice()))
            }
        };
        Ok(Pool {
            balancer: Balancer::new(&definition.balance, &targets),
            definition: definition.clone(),
            targets,
            ca,
            checker_started: AtomicBool::new(false),
        })
    }

    pub fn name(&self) -> &str {
        &self.definition.name
    }

    pub fn hash_key(&self) -> Option<&HashKey> {
        match &self.definition.balance {
            weir_config::Balance::ConsistentHash(key) => Some(key),
            _ => None,
        }
    }

    /// Picks a target not in `tried`. Prefers available targets; when none is
    /// available, any untried target is better than failing outright (the
    /// health view may be stale).
    pub fn select(&self, key: Option<u64>, tried: &[usize]) -> Option<usize> {
        let untried = |i: usize| !tried.contains(&i);
        self.balancer
            .pick(&self.targets, key, |i| {
                untried(i) && self.targets[i].is_available()
            })
            .or_else(|| self.balancer.pick(&self.targets, key, untried))
    }
}
