//! Hot reload: one pipeline, off the request path, for every trigger (file
//! watcher, SIGHUP, `POST /admin/reload`):
//! read -> parse and check (all errors) -> compile changed components (cache
//! hits for the rest) -> `init` each filter in a probe instance -> build the
//! whole snapshot -> one `ArcSwap` store. Any failure keeps the running
//! snapshot whole and is recorded for the admin endpoint.

mod changes;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use async_trait::async_trait;
use notify::{RecursiveMode, Watcher};
use pingora::server::ShutdownWatch;
use pingora::services::background::BackgroundService;
use serde::Serialize;
use sha2::{Digest, Sha256};
use tokio::sync::{mpsc, oneshot};
use weir_config::Config;
use weir_wasm::WasmHost;

use crate::observe::metrics;
use crate::snapshot::{self, Snapshot, SnapshotStore};
pub use changes::{Changes, Diff};
use changes::{diff, restart_changes, retire_metrics};

/// Quiet time after a file event before reloading: editors and ConfigMap
/// updates touch several files in a burst.
const DEBOUNCE: Duration = Duration::from_millis(100);

/// Why a reload was asked for.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum Trigger {
    FileChange,
    Signal,
    Admin,
}

/// What one reload attempt did.
#[derive(Debug, Clone, Serialize)]
pub struct ReloadOutcome {
    pub trigger: Trigger,
    pub ok: bool,
    /// The generation serving after the attempt.
    pub generation: u64,
    pub duration_ms: u64,
    pub errors: Vec<String>,
    pub changes: Changes,
    /// Sections that changed but only take effect after a restart.
    pub restart_required: Vec<String>,
}

/// The last failed attempt, for `GET /admin/config`.
#[derive(Debug, Clone, Serialize)]
pub struct Failure {
    pub at_unix_ms: u128,
    pub trigger: Trigger,
    pub errors: Vec<String>,
}

/// Shared between the reloader and the admin endpoint.
pub struct ReloadState {
    pub last_failure: Mutex<Option<Failure>>,
    pub restart_required: Mutex<Vec<String>>,
}

/// A request to reload, with an optional reply.
pub struct ReloadRequest {
    pub trigger: Trigger,
    pub reply: Option<oneshot::Sender<ReloadOutcome>>,
}

pub struct Reloader {
    config_path: PathBuf,
    wasm: Arc<WasmHost>,
    snapshots: Arc<SnapshotStore>,
    /// The config the process started with; changes to what it fixed at
    /// start (listeners, server, admin address, access log, tracing) need a
    /// restart (or an upgrade).
    started_with: Arc<weir_config::Config>,
    state: Arc<ReloadState>,
    requests: Mutex<Option<mpsc::Receiver<ReloadRequest>>>,
    sender: mpsc::Sender<ReloadRequest>,
}

impl Reloader {
    pub fn new(config_path: PathBuf, wasm: Arc<WasmHost>, snapshots: Arc<SnapshotStore>) -> Self {
        let (sender, requests) = mpsc::channel(16);
        let started_with = snapshots.load().config.clone();
        Reloader {
            config_path,
            wasm,
            snapshots,
            started_with,
            state: Arc::new(ReloadState {
                last_failure: Mutex::new(None),
                restart_required: Mutex::new(Vec::new()),
            }),
            requests: Mutex::new(Some(requests)),
            sender,
        }
    }

    /// For the admin endpoint: where to send reload requests.
    pub fn handle(&self) -> mpsc::Sender<ReloadRequest> {
        self.sender.clone()
    }

    pub fn state(&self) -> Arc<ReloadState> {
        self.state.clone()
    }

    /// Runs one reload attempt now (compiles and instantiates: run it where
    /// blocking is allowed).
    pub async fn reload(&self, trigger: Trigger) -> ReloadOutcome {
        let started = Instant::now();
        let current = self.snapshots.load();
        let result = build_next(&self.config_path, &self.wasm, &current).await;
        let took = started.elapsed();
        let duration_ms = took.as_millis() as u64;
        metrics::record_reload(result.is_ok(), took);
        match result {
            Ok(next) => {
                let changes = diff(&current, &next);
                let restart_required = restart_changes(&self.started_with, &next.config);
                let generation = next.generation;
                for warning in &next.config.warnings {
                    tracing::warn!("{warning}");
                }
                retire_metrics(&current, &next);
                self.snapshots.store(next);
                *self.state.restart_required.lock().expect("state lock") = restart_required.clone();
                tracing::info!(generation, duration_ms, ?trigger, changes = %serde_json::to_string(&changes).unwrap_or_default(), "config reloaded");
                if !restart_required.is_empty() {
                    tracing::warn!(
                        ?restart_required,
                        "these changes take effect after a restart (or an upgrade)"
                    );
                }
                ReloadOutcome {
                    trigger,
                    ok: true,
                    generation,
                    duration_ms,
                    errors: Vec::new(),
                    changes,
                    restart_required,
                }
            }
            Err(errors) => {
                for error in &errors {
                    tracing::error!(?trigger, "reload rejected: {error}");
                }
                tracing::error!(
                    generation = current.generation,
                    errors = errors.len(),
                    "reload failed; still serving the running config"
                );
                *self.state.last_failure.lock().expect("state lock") = Some(Failure {
                    at_unix_ms: unix_ms(SystemTime::now()),
                    trigger,
                    errors: errors.clone(),
                });
                ReloadOutcome {
                    trigger,
                    ok: false,
                    generation: current.generation,
                    duration_ms,
                    errors,
                    changes: Changes::default(),
                    restart_required: Vec::new(),
                }
            }
        }
    }

    /// The files whose change triggers a reload: the config, every filter
    /// and handler module, every secret file, and every listener certificate and key.
    fn watched_files(&self) -> Vec<PathBuf> {
        let snapshot = self.snapshots.load();
        let config = &snapshot.config;
        std::iter::once(self.config_path.clone())
            .chain(config.filters.values().map(|f| f.module.clone()))
            .chain(config.handlers.values().map(|h| h.module.clone()))
            .chain(config.secrets.values().filter_map(|s| match &s.source {
                weir_config::SecretSource::File(path) => Some(path.clone()),
                weir_config::SecretSource::Env(_) => None,
            }))
            .chain(
                config
                    .listeners
                    .iter()
                    .filter_map(|l| l.tls.as_ref())
                    .flat_map(|tls| &tls.certificates)
                    .flat_map(|c| [c.cert_path.clone(), c.key_path.clone()]),
            )
            .collect()
    }

    /// Directories to watch: the parent directories of the watched files,
    /// not the files, so atomic renames and ConfigMap symlink swaps are seen.
    fn watched_dirs(&self) -> BTreeSet<PathBuf> {
        self.watched_files()
            .iter()
            .filter_map(|p| p.parent().map(Path::to_path_buf))
            .map(|p| {
                if p.as_os_str().is_empty() {
                    PathBuf::from(".")
                } else {
                    p
                }
            })
            .collect()
    }

    /// Names of the files whose change triggers a reload.
    fn watched_names(&self) -> BTreeSet<std::ffi::OsString> {
        self.watched_files()
            .iter()
            .filter_map(|p| p.file_name().map(|n| n.to_os_string()))
            .collect()
    }
}

async fn build_next(
    path: &Path,
    wasm: &WasmHost,
    current: &Snapshot,
) -> Result<Snapshot, Vec<String>> {
    let text =
        std::fs::read(path).map_err(|e| vec![format!("cannot read {}: {e}", path.display())])?;
    let config: Config = weir_config::load(path)
        .map_err(|errors| errors.0.iter().map(|e| e.to_string()).collect::<Vec<_>>())?;
    snapshot::build(
        config,
        content_hash(&text),
        current.generation + 1,
        wasm,
        Some(current),
    )
    .await
    .map_err(|errors| errors.iter().map(ToString::to_string).collect())
}

pub fn content_hash(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn unix_ms(t: SystemTime) -> u128 {
    t.duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

#[async_trait]
impl BackgroundService for Reloader {
    async fn start(&self, mut shutdown: ShutdownWatch) {
        let Some(mut requests) = self.requests.lock().expect("requests lock").take() else {
            return;
        };
        let (events_tx, mut events) = mpsc::unbounded_channel::<()>();
        let mut watcher = match self.start_watcher(events_tx.clone()) {
            Ok(w) => Some(w),
            Err(err) => {
                tracing::error!(
                    "cannot watch the config files; reload with SIGHUP or the admin endpoint: {err}"
                );
                None
            }
        };
        let mut hangups =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
        tracing::info!(
            watching = watcher.is_some(),
            sighup = hangups.is_some(),
            "config reloader ready"
        );
        loop {
            let request = tokio::select! {
                _ = shutdown.changed() => return,
                Some(request) = requests.recv() => request,
                Some(()) = events.recv() => {
                    // Debounce: wait for a quiet period, draining the burst.
                    while let Ok(Some(())) = tokio::time::timeout(DEBOUNCE, events.recv()).await {}
                    ReloadRequest { trigger: Trigger::FileChange, reply: None }
                }
                Some(()) = async { match hangups.as_mut() { Some(h) => h.recv().await, None => std::future::pending().await } } => {
                    ReloadRequest { trigger: Trigger::Signal, reply: None }
                }
            };
            let outcome = self.reload_off_the_workers(request.trigger).await;
            if let Some(reply) = request.reply {
                let _ = reply.send(outcome);
            }
            // The set of modules may have changed: watch their directories too.
            if let Some(w) = watcher.as_mut() {
                self.rewatch(w);
            }
        }
    }
}

impl Reloader {
    /// Compiling a component is CPU work: on a work-stealing runtime it runs
    /// with this thread's other tasks handed to another one. Without work
    /// stealing the reloader's runtime is its own (no request runs on it)
    /// and block_in_place is not available there, so it is awaited.
    async fn reload_off_the_workers(&self, trigger: Trigger) -> ReloadOutcome {
        let handle = tokio::runtime::Handle::current();
        if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
            tokio::task::block_in_place(|| handle.block_on(self.reload(trigger)))
        } else {
            self.reload(trigger).await
        }
    }

    fn start_watcher(&self, events: mpsc::UnboundedSender<()>) -> notify::Result<WatchState> {
        let names = Arc::new(Mutex::new(self.watched_names()));
        let watched = names.clone();
        let mut watcher =
            notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
                let Ok(event) = event else { return };
                if event.kind.is_access() {
                    return;
                }
                let names = watched.lock().expect("watched names lock");
                // Match on file names within the watched directories: editors
                // rename temp files over the target, and Kubernetes swaps a
                // `..data` symlink. A spurious match costs one reload that
                // changes nothing.
                let relevant = event
                    .paths
                    .iter()
                    .filter_map(|p| p.file_name())
                    .any(|name| names.contains(name) || name.to_string_lossy().starts_with(".."));
                if relevant {
                    let _ = events.send(());
                }
            })?;
        let mut dirs = BTreeSet::new();
        for dir in self.watched_dirs() {
            watcher.watch(&dir, RecursiveMode::NonRecursive)?;
            dirs.insert(dir);
        }
        Ok(WatchState {
            watcher,
            dirs,
            names,
        })
    }

    fn rewatch(&self, state: &mut WatchState) {
        *state.names.lock().expect("watched names lock") = self.watched_names();
        for dir in self.watched_dirs() {
            if !state.dirs.contains(&dir) {
                match state.watcher.watch(&dir, RecursiveMode::NonRecursive) {
                    Ok(()) => {
                        state.dirs.insert(dir);
                    }
                    Err(err) => tracing::warn!(dir = %dir.display(), "cannot watch: {err}"),
                }
            }
        }
    }
}

struct WatchState {
    watcher: notify::RecommendedWatcher,
    dirs: BTreeSet<PathBuf>,
    names: Arc<Mutex<BTreeSet<std::ffi::OsString>>>,
}
