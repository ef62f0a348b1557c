//! A snapshot is one config generation made ready to serve: routes with their
//! pools and filter chains. Requests load the current snapshot once and use it
//! from start to end; a reload builds a whole new one off the request path and
//! swaps it in with one store.

mod build;
pub mod certificates;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use tokio::sync::watch;
use weir_config::{Config, DirectResponse, RouteMatch};
use weir_wasm::{LoadedFilter, LoadedHandler, PhaseSet};

use crate::observe::metrics::{FilterMetrics, HandlerMetrics, RouteMetrics};
use crate::route::{self, RequestFacts, RouteIndex};
use crate::upstream::Pool;
pub use build::{BuildError, build, filter_spec, handler_spec};
use certificates::SniCertificates;

pub struct Snapshot {
    pub generation: u64,
    /// sha256 of the config file's bytes.
    pub content_hash: String,
    pub loaded_at: SystemTime,
    pub config: Arc<Config>,
    /// In evaluation order.
    pub routes: Vec<RouteEntry>,
    /// Finds the first of `routes` a request matches without trying them all.
    pub route_index: RouteIndex,
    pub pools: HashMap<String, Arc<Pool>>,
    pub filters: HashMap<String, Arc<LoadedFilter>>,
    pub handlers: HashMap<String, Arc<LoadedHandler>>,
    /// Key-value stores by name, with the definition they were built from.
    pub stores: HashMap<String, (weir_config::KvStore, weir_kv::Store)>,
    /// TLS listeners' certificates by listener name, read from disk for
    /// this generation (a reload re-reads them: rotation is live).
    pub certificates: HashMap<String, Arc<SniCertificates>>,
    /// Metric handles of requests no route matched.
    pub unmatched: RouteMetrics,
}

impl Snapshot {
    /// The index in `routes` of the route that handles `req`: the first, in
    /// evaluation order, whose every condition holds.
    pub fn find_route(&self, req: &RequestFacts<'_>) -> Option<usize> {
        self.route_index
            .find(req, |i| route::matches(&self.routes[i].matcher, req))
    }
}

pub struct RouteEntry {
    pub name: String,
    pub matcher: RouteMatch,
    pub action: Action,
    pub chain: Chain,
    /// Metric handles, resolved when the snapshot was built.
    pub metrics: RouteMetrics,
}

pub enum Action {
    Proxy {
        pool: Arc<Pool>,
        /// The matched prefix to remove, when `strip_prefix` is on.
        strip_prefix: Option<String>,
        host_rewrite: Option<String>,
    },
    Respond(DirectResponse),
    /// A `wasi:http` handler answers.
    Handler {
        handler: Arc<LoadedHandler>,
        metrics: Arc<HandlerMetrics>,
    },
}

/// The filters a route runs (global chain first) and the union of their phases,
/// so phases nobody declared are skipped without looking at any filter.
#[derive(Default)]
pub struct Chain {
    /// Shared with each request's `ChainRun` by one reference count.
    pub filters: Arc<[Arc<LoadedFilter>]>,
    pub phases: PhaseSet,
    /// Metric handles, one per filter in `filters`' order.
    pub metrics: Arc<[Arc<FilterMetrics>]>,
}

impl Chain {
    /// `filters` in chain order, with their metric handles in the same order.
    pub fn new(filters: Arc<[Arc<LoadedFilter>]>, metrics: Arc<[Arc<FilterMetrics>]>) -> Self {
        let phases = filters
            .iter()
            .fold(PhaseSet::EMPTY, |acc, f| acc.union(f.phases()));
        Chain {
            filters,
            phases,
            metrics,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }
}

/// The running snapshot, and a signal for those who follow changes
/// (health checks start for new pools).
pub struct SnapshotStore {
    current: ArcSwap<Snapshot>,
    changes: watch::Sender<u64>,
}

impl SnapshotStore {
    pub fn new(initial: Snapshot) -> Self {
        let (changes, _) = watch::channel(initial.generation);
        SnapshotStore {
            current: ArcSwap::from_pointee(initial),
            changes,
        }
    }

    pub fn load(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    pub fn store(&self, snapshot: Snapshot) {
        let generation = snapshot.generation;
        self.current.store(Arc::new(snapshot));
        self.changes.send_replace(generation);
    }

    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}
