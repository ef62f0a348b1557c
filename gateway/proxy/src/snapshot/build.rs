//! Building a snapshot from a checked config, off the request path, and
//! what can go wrong doing it: each error says which part of the config.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use weir_config::{Config, Filter, KvBackend, Route, RouteAction};
use weir_wasm::{Capabilities, FilterSpec, LoadError, LoadedFilter, WasmHost};

use super::certificates::{CertError, SniCertificates};
use super::{Action, Chain, RouteEntry, Snapshot};
use crate::observe::metrics::{self, FilterMetrics, RouteMetrics, UpstreamMetrics};
use crate::route::RouteIndex;
use crate::upstream::{self, Pool};

/// Why a part of a checked config could not be made ready to serve.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("{0}")]
    Upstream(#[from] upstream::BuildError),
    #[error("key_value.{store}: {source}")]
    KeyValue {
        store: String,
        source: weir_kv::KvError,
    },
    #[error("filters.{filter}: {source}")]
    Filter { filter: String, source: LoadError },
    #[error("{0}")]
    Certificate(#[from] CertError),
    // STUB(handlers): until handler routes are served, a config with one is refused.
    #[error("route {0:?}: handler routes are not served yet")]
    HandlerRoute(String),
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
) -> Result<Snapshot, Vec<BuildError>> {
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
                Err(e) => errors.push(e.into()),
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
            Err(source) => errors.push(BuildError::KeyValue {
                store: name.clone(),
                source,
            }),
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
            Err(source) => errors.push(BuildError::Filter {
                filter: name.clone(),
                source,
            }),
        }
    }

    let mut certificates = HashMap::new();
    for listener in &config.listeners {
        if let Some(tls) = &listener.tls {
            match SniCertificates::load(&listener.name, tls) {
                Ok(certs) => {
                    certificates.insert(listener.name.clone(), Arc::new(certs));
                }
                Err(e) => errors.push(e.into()),
            }
        }
    }

    // STUB(handlers): refuse handler routes; replace with loading the handlers.
    for route in &config.routes {
        if let RouteAction::Handler(_) = route.action {
            errors.push(BuildError::HandlerRoute(route.name.clone()));
        }
    }

    if !errors.is_empty() {
        return Err(errors);
    }

    let on = metrics::enabled(&config);
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
        unmatched: RouteMetrics::new(metrics::UNMATCHED_ROUTE, None, on),
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
        RouteAction::Handler(_) => unreachable!("STUB(handlers): refused in build"),
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
        RouteAction::Respond(_) | RouteAction::Handler(_) => None,
    };
    RouteEntry {
        name: route.name.clone(),
        matcher: route.matcher.clone(),
        action,
        chain: Chain::new(chain_filters, filter_metrics),
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
        limits: filter.limits.clone(),
        on_error: filter.on_error,
        isolation: filter.isolation,
        circuit_breaker: filter.circuit_breaker.clone(),
        capabilities,
    }
}
