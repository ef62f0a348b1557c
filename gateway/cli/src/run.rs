//! `weir run`: load the config, build the first snapshot, and serve; with
//! `--upgrade`, take the listening sockets over from a running weir
//! (Pingora's graceful upgrade) once the config has passed every check.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use pingora::server::Server;
use pingora::server::configuration::{Opt, ServerConf};
use pingora::services::background::background_service;
use weir_proxy::SnapshotStore;
use weir_proxy::control::admin::AdminApp;
use weir_proxy::control::health::HealthChecker;
use weir_proxy::control::reload::{Reloader, content_hash};
use weir_proxy::control::service::proxy_services;
use weir_proxy::snapshot;
use weir_wasm::{HostOptions, WasmHost};

/// How this process starts: fresh, or taking over from a running weir.
pub struct Lifecycle {
    /// Receive the listening sockets from the running process over
    /// `server.upgrade_socket` instead of binding them.
    pub upgrade: bool,
    /// Where this process writes its pid once it holds its sockets. With
    /// `upgrade`, the process named there is sent SIGQUIT (hand over the
    /// sockets, then drain) after the new config passed every check.
    pub pid_file: Option<PathBuf>,
}

pub fn run(path: &Path, lifecycle: Lifecycle) -> anyhow::Result<()> {
    ignore_sighup_until_the_reloader_runs()?;
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let config = weir_config::load(path)
        .map_err(|errors| anyhow::anyhow!("invalid config {}:\n{errors}", path.display()))?;
    let wasm = Arc::new(WasmHost::new(HostOptions {
        cache_dir: config.server.cache_dir.clone(),
        max_instances: config.server.max_filter_instances,
        ..HostOptions::default()
    })?);
    let first = wasm
        .block_on(snapshot::build(config, content_hash(&text), 1, &wasm, None))
        .map_err(|errors| {
            anyhow::anyhow!(
                "cannot start with {}:\n{}",
                path.display(),
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })?;
    for warning in &first.config.warnings {
        tracing::warn!("{warning}");
    }
    let settings = first.config.server.clone();
    let listeners = first.config.listeners.clone();
    let admin = first.config.admin.clone();
    let access_log = first.config.access_log.clone();
    let tracing_settings = first.config.tracing.clone();
    let snapshots = Arc::new(SnapshotStore::new(first));

    // On SIGTERM Pingora stops accepting, waits the grace period for
    // in-flight requests, then stops its runtimes (after at most 1s more).
    let conf = ServerConf {
        threads: settings.threads,
        grace_period_seconds: Some(settings.grace_period.as_secs()),
        graceful_shutdown_timeout_seconds: Some(1),
        upstream_keepalive_pool_size: settings.upstream_keepalive_pool_size,
        upgrade_sock: settings.upgrade_socket.display().to_string(),
        work_stealing: settings.work_stealing,
        ..ServerConf::default()
    };
    let opt = Opt {
        upgrade: lifecycle.upgrade,
        ..Opt::default()
    };
    if !lifecycle.upgrade {
        // Pingora retries a taken address for about 30 s, then panics: an
        // orchestrator would see a hung start. Found here, it ends start-up
        // at once with the address and a non-zero exit. (An upgrade takes
        // the sockets over: they are in use by design.)
        ensure_addresses_free(&listeners, admin.as_ref())?;
    }
    let mut server = Server::new_with_opt_and_conf(Some(opt), conf);
    // Everything above (config checks, certificates, every filter's init)
    // passed: only now may the running process be told to hand over.
    if lifecycle.upgrade {
        match &lifecycle.pid_file {
            Some(pid_file) => signal_old_process(pid_file)?,
            None => tracing::info!(
                socket = %settings.upgrade_socket.display(),
                "waiting for the running weir's sockets: send it SIGQUIT"
            ),
        }
    }
    // With --upgrade this waits (a few seconds at most) for the sockets.
    server.bootstrap();
    if let Some(pid_file) = &lifecycle.pid_file {
        std::fs::write(pid_file, format!("{}\n", std::process::id()))
            .with_context(|| format!("writing {}", pid_file.display()))?;
    }
    // After bootstrap: the exporter's threads belong to this process.
    weir_proxy::observe::otel::install(&tracing_settings)?;
    // After bootstrap too: the writer thread belongs to this process.
    weir_proxy::observe::access_log::start(&access_log)?;
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

    follow_phases(&server, settings.grace_period);
    for l in &listeners {
        let scheme = if l.tls.is_some() { "https" } else { "http" };
        tracing::info!(listener = %l.name, "listening on {scheme}://{}", l.address);
    }
    server.run_forever();
}

/// Starts draining (`Connection: close` on every response) as soon as
/// Pingora begins a graceful upgrade or shutdown; once its grace period
/// starts, exits as soon as no request is in flight (shutdown.rs).
fn follow_phases(server: &Server, grace: std::time::Duration) {
    use pingora::server::ExecutionPhase;
    let mut phases = server.watch_execution_phase();
    std::thread::spawn(move || {
        loop {
            let phase = match phases.blocking_recv() {
                Ok(phase) => phase,
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return,
            };
            if matches!(
                phase,
                ExecutionPhase::GracefulUpgradeTransferringFds
                    | ExecutionPhase::GracefulTerminate
                    | ExecutionPhase::ShutdownStarted
            ) {
                weir_proxy::lifecycle::start_draining();
            }
            match phase {
                ExecutionPhase::ShutdownGracePeriod => {
                    std::thread::spawn(move || {
                        weir_proxy::control::shutdown::exit_when_idle(grace)
                    });
                }
                ExecutionPhase::ShutdownRuntimes => {
                    weir_proxy::observe::access_log::flush(std::time::Duration::from_secs(1));
                }
                _ => {}
            }
        }
    });
}

/// Sends SIGQUIT to the process in `pid_file`: Pingora's signal to send its
/// listening sockets over the upgrade socket, then finish in-flight requests
/// and exit. (It retries connecting for a few seconds, so it may be sent
/// before this process listens on the socket.)
fn signal_old_process(pid_file: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(pid_file)
        .with_context(|| format!("reading the running weir's pid from {}", pid_file.display()))?;
    let pid: i32 = text
        .trim()
        .parse()
        .with_context(|| format!("{} holds no pid", pid_file.display()))?;
    nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(pid),
        nix::sys::signal::Signal::SIGQUIT,
    )
    .with_context(|| format!("signalling weir (pid {pid}) to hand over its sockets"))?;
    tracing::info!(pid, "asked the running weir to hand over its sockets");
    Ok(())
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

/// Binds each listener's address, and the admin endpoint's, for a moment:
/// one that is taken (or not this host's) is an error naming it. The probe
/// socket is closed at once; Pingora binds the address for good.
fn ensure_addresses_free(
    listeners: &[weir_config::Listener],
    admin: Option<&weir_config::Admin>,
) -> anyhow::Result<()> {
    let named = listeners
        .iter()
        .map(|l| (format!("listener {:?}", l.name), l.address))
        .chain(admin.map(|a| ("admin".to_owned(), a.address)));
    for (what, address) in named {
        std::net::TcpListener::bind(address)
            .with_context(|| format!("{what}: cannot listen on {address}"))?;
    }
    Ok(())
}
