//! What `weir filter test` runs: one component with a config given on the
//! command line, or a route's whole chain (global chain first) from a weir
//! config. Each case gets freshly loaded filters and empty in-memory stores,
//! so cases never see each other's state; outbound HTTP is granted with no
//! origin, so every request a filter makes is refused without touching the
//! network.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, bail};
use weir_config::HttpGrant;
use weir_proxy::observe::metrics::FilterMetrics;
use weir_proxy::snapshot::Chain;
use weir_wasm::{
    Capabilities, FilterLimits, FilterSpec, Isolation, LoadedFilter, OnError, WasmHost,
};

/// Entries per in-memory store: plenty for fixtures.
const STORE_ENTRIES: u64 = 100_000;

/// The filters to run, in chain order, each with the stores it is granted.
pub struct Target {
    filters: Vec<(FilterSpec, Vec<String>)>,
    /// The config's `server.cache_dir`, in route mode.
    pub cache_dir: Option<PathBuf>,
}

/// A chain loaded for one case, with the stores its filters were granted.
pub struct Loaded {
    pub chain: Chain,
    pub stores: BTreeMap<String, weir_kv::Store>,
}

/// `--config` of module mode: inline JSON, or `@file`.
pub fn filter_config(arg: Option<&str>) -> anyhow::Result<String> {
    let text = match arg {
        None => return Ok(String::new()),
        Some(file) if file.starts_with('@') => std::fs::read_to_string(&file[1..])
            .with_context(|| format!("cannot read filter config {}", &file[1..]))?,
        Some(inline) => inline.to_owned(),
    };
    serde_json::from_str::<serde_json::Value>(&text).context("the filter config is not JSON")?;
    Ok(text)
}

impl Target {
    pub fn module(
        module: &Path,
        config_json: String,
        stores: Vec<String>,
        secrets: Vec<(String, String)>,
    ) -> anyhow::Result<Target> {
        if !module.is_file() {
            bail!(
                "{}: no such component (in a filter project, `weir filter build` makes it)",
                module.display()
            );
        }
        let name = module
            .file_stem()
            .map_or("filter".into(), |s| s.to_string_lossy().into_owned());
        let spec = FilterSpec {
            name,
            module: module.to_owned(),
            config_json,
            limits: FilterLimits {
                // Generous: a test checks behaviour, not speed.
                call_deadline: Duration::from_secs(5),
                memory_bytes: 256 << 20,
                max_body_bytes: 16 << 20,
                recycle_after: u32::MAX,
                max_idle_instances: 1,
                max_concurrent_calls: 16,
            },
            on_error: OnError::FailClosed,
            isolation: Isolation::Pooled,
            circuit_breaker: weir_config::CircuitBreaker::default(),
            capabilities: Capabilities {
                // Listed even when empty: consent to the import, nothing granted.
                key_value: Some(BTreeMap::new()),
                secrets: Some(
                    secrets
                        .into_iter()
                        .map(|(k, v)| (k, Arc::from(v.into_bytes())))
                        .collect(),
                ),
                http: Some(no_network()),
                files: None,
            },
        };
        Ok(Target {
            filters: vec![(spec, stores)],
            cache_dir: None,
        })
    }

    pub fn route(config_path: &Path, route: &str) -> anyhow::Result<Target> {
        let config = weir_config::load(config_path).map_err(|errors| {
            let list: Vec<String> = errors.0.iter().map(|e| e.to_string()).collect();
            anyhow::anyhow!(
                "{}: invalid config:\n{}",
                config_path.display(),
                list.join("\n")
            )
        })?;
        let Some(found) = config.routes.iter().find(|r| r.name == route) else {
            let names: Vec<&str> = config.routes.iter().map(|r| r.name.as_str()).collect();
            bail!(
                "no route {route:?} in {} (routes: {})",
                config_path.display(),
                names.join(", ")
            );
        };
        let filters = config
            .global_chain
            .iter()
            .chain(&found.filters)
            .map(|name| {
                let filter = &config.filters[name];
                // Stores are bound per case in `load`.
                let mut spec = weir_proxy::snapshot::filter_spec(filter, &config, |_| None);
                spec.capabilities.http = spec.capabilities.http.map(|_| no_network());
                (spec, filter.grants.key_value.clone().unwrap_or_default())
            })
            .collect();
        Ok(Target {
            filters,
            cache_dir: config.server.cache_dir.clone(),
        })
    }

    /// Components that may make outbound requests, which the tests refuse.
    pub fn outbound_users(&self) -> Vec<PathBuf> {
        self.filters
            .iter()
            .map(|(s, _)| s.module.clone())
            .filter(|m| imports_outbound_http(m))
            .collect()
    }

    /// Loads every filter afresh with fresh in-memory stores.
    pub async fn load(&self, host: &WasmHost) -> anyhow::Result<Loaded> {
        let stores: BTreeMap<String, weir_kv::Store> = self
            .filters
            .iter()
            .flat_map(|(_, names)| names)
            .map(|n| (n.clone(), weir_kv::Store::memory(STORE_ENTRIES)))
            .collect();
        let mut filters: Vec<Arc<LoadedFilter>> = Vec::new();
        for (spec, names) in &self.filters {
            let mut spec = spec.clone();
            if spec.capabilities.key_value.is_some() {
                spec.capabilities.key_value = Some(
                    names
                        .iter()
                        .map(|n| (n.clone(), stores[n].clone()))
                        .collect(),
                );
            }
            let name = spec.name.clone();
            let loaded = host
                .load_filter(spec, None)
                .await
                .with_context(|| format!("filter {name:?} does not load"))?;
            filters.push(loaded);
        }
        let metrics = filters
            .iter()
            .map(|f| Arc::new(FilterMetrics::new(f, false)))
            .collect();
        Ok(Loaded {
            chain: Chain::new(filters.into(), metrics),
            stores,
        })
    }
}

/// Consents to `wasi:http` with no origin allowed: every request is refused
/// before any connection is made.
pub(crate) fn no_network() -> HttpGrant {
    HttpGrant {
        allow: Vec::new(),
        connect_timeout: Duration::from_secs(1),
        timeout: Duration::from_secs(1),
        max_response_bytes: 0,
    }
}

/// Whether the component imports outbound HTTP: its import names are plain
/// text in the component's type section.
pub(crate) fn imports_outbound_http(module: &Path) -> bool {
    const IMPORT: &[u8] = b"wasi:http/outgoing-handler";
    std::fs::read(module).is_ok_and(|bytes| bytes.windows(IMPORT.len()).any(|w| w == IMPORT))
}
