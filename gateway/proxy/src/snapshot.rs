//! A snapshot is one config generation made ready to serve: routes with their
//! pools and filter chains. Requests load the current snapshot once and use it
//! from start to end; a reload builds a whole new one off the request path and
//! swaps it in with one store.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use tokio::sync::watch;
use weir_config::{Config, DirectResponse, Filter, Route, RouteAction, RouteMatch};
use weir_wasm::{FilterSpec, LoadedFilter, Phases, WasmHost};

use crate::upstream::Pool;

pub struct Snapshot {
    pub generation: u64,
    /// sha256 of the config file's bytes.
    pub content_hash: String,
    pub loaded_at: SystemTime,
    pub config: Arc<Config>,
    /// In evaluation order.
    pub routes: Vec<RouteEntry>,
    pub pools: HashMap<String, Arc<Pool>>,
    pub filters: HashMap<String, Arc<LoadedFilter>>,
}

pub struct RouteEntry {
    pub name: String,
    pub matcher: RouteMatch,
    pub action: Action,
    pub chain: Chain,
}

pub enum Action {
    Proxy {
        pool: Arc<Pool>,
        /// The matched prefix to remove, when `strip_prefix` is on.
        strip_prefix: Option<String>,
        host_rewrite: Option<String>,
    },
    Respond(DirectResponse),
}

/// The filters a route runs (global chain first) and the union of their phases,
/// so phases nobody declared are skipped without looking at any filter.
#[derive(Default)]
pub struct Chain {
    pub filters: Vec<Arc<LoadedFilter>>,
    pub phases: Phases,
}

impl Chain {
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }
}

/// Builds snapshots. Holds the previous generation so that unchanged upstream
/// pools are carried over with their health state and connections.
pub fn build(
    config: Config,
    content_hash: String,
    generation: u64,
    wasm: &WasmHost,
    previous: Option<&Snapshot>,
) -> Result<Snapshot, Vec<String>> {
    let mut errors = Vec::new();

    let mut pools = HashMap::new();
    for (name, upstream) in &config.upstreams {
        let reused = previous
            .and_then(|p| p.pools.get(name))
            .filter(|p| p.definition == *upstream);
        match reused {
            Some(pool) => {
                pools.insert(name.clone(), pool.clone());
            }
            None => match Pool::build(upstream) {
                Ok(pool) => {
                    pools.insert(name.clone(), Arc::new(pool));
                }
                Err(e) => errors.push(e.to_string()),
            },
        }
    }

    let mut filters = HashMap::new();
    for (name, filter) in &config.filters {
        match wasm.load_filter(filter_spec(filter)) {
            Ok(loaded) => {
                filters.insert(name.clone(), loaded);
            }
            Err(e) => errors.push(format!("filters.{name}: {e}")),
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }

    let routes = config
        .routes
        .iter()
        .map(|route| route_entry(route, &config.global_chain, &pools, &filters))
        .collect();

    Ok(Snapshot {
        generation,
        content_hash,
        loaded_at: SystemTime::now(),
        config: Arc::new(config),
        routes,
        pools,
        filters,
    })
}

fn route_entry(
    route: &Route,
    global_chain: &[String],
    pools: &HashMap<String, Arc<Pool>>,
    filters: &HashMap<String, Arc<LoadedFilter>>,
) -> RouteEntry {
    let action = match &route.action {
        RouteAction::Proxy(proxy) => Action::Proxy {
            // The config checker resolved every reference already.
            pool: pools[&proxy.upstream].clone(),
            strip_prefix: match (&route.matcher.path, proxy.strip_prefix) {
                (Some(weir_config::PathMatch::Prefix(p)), true) => Some(p.clone()),
                _ => None,
            },
            host_rewrite: proxy.host_rewrite.clone(),
        },
        RouteAction::Respond(response) => Action::Respond(response.clone()),
    };
    let chain_filters: Vec<Arc<LoadedFilter>> = global_chain
        .iter()
        .chain(&route.filters)
        .map(|name| filters[name].clone())
        .collect();
    let phases = chain_filters
        .iter()
        .fold(Phases::default(), |acc, f| acc.union(f.phases()));
    RouteEntry {
        name: route.name.clone(),
        matcher: route.matcher.clone(),
        action,
        chain: Chain {
            filters: chain_filters,
            phases,
        },
    }
}

pub fn filter_spec(filter: &Filter) -> FilterSpec {
    let l = &filter.limits;
    FilterSpec {
        name: filter.name.clone(),
        module: filter.module.clone(),
        config_json: filter.config_json.clone(),
        limits: weir_wasm::FilterLimits {
            call_deadline: l.call_deadline,
            memory_bytes: l.memory_bytes,
            max_body_bytes: l.max_body_bytes,
            recycle_after: l.recycle_after,
            max_idle_instances: l.max_idle_instances,
        },
        on_error: match filter.on_error {
            weir_config::OnError::FailClosed => weir_wasm::OnError::FailClosed,
            weir_config::OnError::FailOpen => weir_wasm::OnError::FailOpen,
        },
        isolation: match filter.isolation {
            weir_config::Isolation::Pooled => weir_wasm::Isolation::Pooled,
            weir_config::Isolation::PerRequest => weir_wasm::Isolation::PerRequest,
        },
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
