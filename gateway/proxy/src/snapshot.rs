//! A snapshot is one config generation made ready to serve: routes with their
//! pools and filter chains. Requests load the current snapshot once and use it
//! from start to end; a reload builds a whole new one off the request path and
//! swaps it in with one store.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use arc_swap::ArcSwap;
use tokio::sync::watch;
use weir_config::{Config, DirectResponse, Filter, KvBackend, Route, RouteAction, RouteMatch};
use weir_wasm::{Capabilities, FilterSpec, LoadedFilter, Phases, WasmHost};

use crate::metrics::{FilterMetrics, RouteMetrics, UpstreamMetrics};
use crate::router::{self, RequestFacts, RouteIndex};
use crate::tls::SniCertificates;
use crate::upstream::Pool;

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
            .find(req, |i| router::matches(&self.routes[i].matcher, req))
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
}

/// The filters a route runs (global chain first) and the union of their phases,
/// so phases nobody declared are skipped without looking at any filter.
#[derive(Default)]
pub struct Chain {
    /// Shared with each request's `ChainRun` by one reference count.
    pub filters: Arc<[Arc<LoadedFilter>]>,
    pub phases: Phases,
    /// Metric handles, one per filter in `filters`' order.
    pub metrics: Arc<[Arc<FilterMetrics>]>,
}

impl Chain {
    pub fn is_empty(&self) -> bool {
        self.filters.is_empty()
    }
}

/// Builds snapshots. Holds the previous generation so that unchanged upstream
/// pools are carried over with their health state and connections, unchanged
/// key-value stores with their data and connections, and unchanged filters
/// with their circuit breakers.
pub async fn build(
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

    let mut stores = HashMap::new();
    for (name, definition) in &config.key_value {
        let reused = previous
            .and_then(|p| p.stores.get(name))
            .filter(|(old, _)| old == definition);
        let store = match reused {
            Some((_, store)) => Ok(store.clone()),
            None => kv_store(definition, wasm),
        };
        match store {
            Ok(store) => {
                stores.insert(name.clone(), (definition.clone(), store));
            }
            Err(e) => errors.push(format!("key_value.{name}: {e}")),
        }
    }

    let mut filters = HashMap::new();
    for (name, filter) in &config.filters {
        let spec = filter_spec(filter, &config, |store| {
            stores.get(store).map(|(_, s)| s.clone())
        });
        let previous_filter = previous.and_then(|p| p.filters.get(name)).map(|f| &**f);
        match wasm.load_filter(spec, previous_filter).await {
            Ok(loaded) => {
                filters.insert(name.clone(), loaded);
            }
            Err(e) => errors.push(format!("filters.{name}: {e}")),
        }
    }

    let mut certificates = HashMap::new();
    for listener in &config.listeners {
        if let Some(tls) = &listener.tls {
            match SniCertificates::load(&listener.name, tls) {
                Ok(certs) => {
                    certificates.insert(listener.name.clone(), Arc::new(certs));
                }
                Err(e) => errors.push(e.to_string()),
            }
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }

    let on = crate::metrics::enabled(&config);
    let metrics = SnapshotMetrics {
        on,
        upstreams: pools
            .iter()
            .map(|(name, pool)| (name.clone(), Arc::new(UpstreamMetrics::new(name, pool, on))))
            .collect(),
        filters: filters
            .iter()
            .map(|(name, filter)| (name.clone(), Arc::new(FilterMetrics::new(filter, on))))
            .collect(),
    };
    let routes = config
        .routes
        .iter()
        .map(|route| route_entry(route, &config.global_chain, &pools, &filters, &metrics))
        .collect();
    let route_index = RouteIndex::build(config.routes.iter().map(|r| &r.matcher));

    Ok(Snapshot {
        generation,
        content_hash,
        loaded_at: SystemTime::now(),
        config: Arc::new(config),
        routes,
        route_index,
        pools,
        filters,
        stores,
        certificates,
        unmatched: RouteMetrics::new(crate::metrics::UNMATCHED_ROUTE, None, on),
    })
}

/// The metric handles routes share, by upstream and filter name.
struct SnapshotMetrics {
    on: bool,
    upstreams: HashMap<String, Arc<UpstreamMetrics>>,
    filters: HashMap<String, Arc<FilterMetrics>>,
}

fn kv_store(
    definition: &weir_config::KvStore,
    wasm: &WasmHost,
) -> Result<weir_kv::Store, weir_kv::KvError> {
    match &definition.backend {
        KvBackend::Memory { max_entries } => Ok(weir_kv::Store::memory(*max_entries)),
        KvBackend::Redis(redis) => weir_kv::Store::redis(
            weir_kv::RedisConfig {
                url: redis.url.clone(),
                pool_size: redis.pool_size,
                connect_timeout: redis.connect_timeout,
                command_timeout: redis.command_timeout,
                key_prefix: redis.key_prefix.clone(),
            },
            // Connections live on weir's I/O runtime, across generations.
            wasm.io_handle(),
        ),
    }
}

fn route_entry(
    route: &Route,
    global_chain: &[String],
    pools: &HashMap<String, Arc<Pool>>,
    filters: &HashMap<String, Arc<LoadedFilter>>,
    metrics: &SnapshotMetrics,
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
    let chain_filters: Arc<[Arc<LoadedFilter>]> = global_chain
        .iter()
        .chain(&route.filters)
        .map(|name| filters[name].clone())
        .collect();
    let filter_metrics = global_chain
        .iter()
        .chain(&route.filters)
        .map(|name| metrics.filters[name].clone())
        .collect();
    let upstream_metrics = match &route.action {
        RouteAction::Proxy(proxy) => metrics.upstreams.get(&proxy.upstream).cloned(),
        RouteAction::Respond(_) => None,
    };
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
            metrics: filter_metrics,
        },
        metrics: RouteMetrics::new(&route.name, upstream_metrics, metrics.on),
    }
}

/// The load spec of a filter: its limits and the capabilities its grants
/// name, resolved against the config's stores (`store`) and secrets.
pub fn filter_spec(
    filter: &Filter,
    config: &Config,
    store: impl Fn(&str) -> Option<weir_kv::Store>,
) -> FilterSpec {
    let l = &filter.limits;
    let grants = &filter.grants;
    // The config checker resolved every grant's name already; a store that
    // failed to build is reported on its own.
    let capabilities = Capabilities {
        key_value: grants.key_value.as_ref().map(|names| {
            names
                .iter()
                .filter_map(|name| Some((name.clone(), store(name)?)))
                .collect()
        }),
        secrets: grants.secrets.as_ref().map(|names| {
            names
                .iter()
                .filter_map(|name| {
                    let secret = config.secrets.get(name)?;
                    Some((name.clone(), Arc::from(secret.value.0.as_slice())))
                })
                .collect()
        }),
        http: grants.http.clone(),
        files: grants.files.clone(),
    };
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
            max_concurrent_calls: l.max_concurrent_calls,
        },
        on_error: match filter.on_error {
            weir_config::OnError::FailClosed => weir_wasm::OnError::FailClosed,
            weir_config::OnError::FailOpen => weir_wasm::OnError::FailOpen,
        },
        isolation: match filter.isolation {
            weir_config::Isolation::Pooled => weir_wasm::Isolation::Pooled,
            weir_config::Isolation::PerRequest => weir_wasm::Isolation::PerRequest,
        },
        circuit_breaker: filter.circuit_breaker.clone(),
        capabilities,
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
