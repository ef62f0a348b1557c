//! `weir run`: load the config, build the first snapshot, and serve.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use pingora::server::Server;
use pingora::server::configuration::ServerConf;
use pingora::services::background::background_service;
use weir_proxy::SnapshotStore;
use weir_proxy::admin::AdminApp;
use weir_proxy::reload::{Reloader, content_hash};
use weir_proxy::service::proxy_services;
use weir_proxy::snapshot;
use weir_proxy::upstream::HealthChecker;
use weir_wasm::{HostOptions, WasmHost};

pub fn run(path: &Path) -> anyhow::Result<()> {
    ignore_sighup_until_the_reloader_runs()?;
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let config = weir_config::load(path)
        .map_err(|errors| anyhow::anyhow!("invalid config {}:\n{errors}", path.display()))?;
    let wasm = Arc::new(WasmHost::new(HostOptions {
        cache_dir: config.server.cache_dir.clone(),
        ..HostOptions::default()
    })?);
    let first = wasm
        .block_on(snapshot::build(config, content_hash(&text), 1, &wasm, None))
        .map_err(|errors| {
            anyhow::anyhow!(
                "cannot start with {}:\n{}",
                path.display(),
                errors.join("\n")
            )
        })?;
    let settings = first.config.server.clone();
    let listeners = first.config.listeners.clone();
    let admin = first.config.admin.clone();
    let snapshots = Arc::new(SnapshotStore::new(first));

    // On SIGTERM Pingora stops accepting, waits the grace period for
    // in-flight requests, then stops its runtimes (after at most 1s more).
    let conf = ServerConf {
        threads: settings.threads,
        grace_period_seconds: Some(settings.grace_period.as_secs()),
        graceful_shutdown_timeout_seconds: Some(1),
        upstream_keepalive_pool_size: settings.upstream_keepalive_pool_size,
        ..ServerConf::default()
    };
    let mut server = Server::new_with_opt_and_conf(None, conf);
    server.bootstrap();
    let conf = server.configuration.clone();

    server.add_services(proxy_services(&conf, &listeners, &snapshots)?);
    server.add_service(background_service(
        "health checks",
        HealthChecker::new(snapshots.clone()),
    ));
    let config_path = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let reloader = Reloader::new(config_path, wasm.clone(), snapshots.clone());
    let (reload_requests, reload_state) = (reloader.handle(), reloader.state());
    server.add_service(background_service("reloader", reloader));
    if let Some(admin) = admin {
        let app = AdminApp::new(snapshots.clone(), reload_state, reload_requests);
        server.add_service(app.service(&admin.address.to_string()));
        tracing::info!("admin endpoint on http://{}/admin/config", admin.address);
    }

    for l in &listeners {
        let scheme = if l.tls.is_some() { "https" } else { "http" };
        tracing::info!(listener = %l.name, "listening on {scheme}://{}", l.address);
    }
    server.run_forever();
}

/// SIGHUP's default action ends the process, and the reloader only starts
/// listening for it once Pingora runs its services. Registering a handler now
/// (it stays installed for the life of the process) makes an early SIGHUP
/// harmless instead of fatal.
fn ignore_sighup_until_the_reloader_runs() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()?;
    runtime.block_on(async {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())
            .map(drop)
            .context("installing the SIGHUP handler")
    })
}
