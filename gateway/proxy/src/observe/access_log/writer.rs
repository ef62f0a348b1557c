//! The writer thread: wakes every `TICK`, swaps each thread's buffer for an
//! empty one and writes it with one `write`. Requests never wake it: a
//! blocked receiver (a channel) would make every request's line a futex
//! wake-up and a context switch, a syscall per request after all. It owns the file, and reopens it on SIGUSR1 or when the
//! path no longer names the file it has open (renamed or removed by a log
//! rotator), checked once a second. Lines queued before the reopen land in the
//! old file: none is lost.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use weir_config::AccessLog;

use super::{Sink, TICKS, WRITTEN};

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("opening the access log {path}: {source}")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("installing the SIGUSR1 handler: {0}")]
    Signal(std::io::Error),
    #[error("starting the access log writer: {0}")]
    Thread(std::io::Error),
}

/// How often the file's identity is compared with the path's.
const ROTATION_CHECK: Duration = Duration::from_secs(1);
/// How often the buffers are written: lines reach the file this late at most
/// (plus the write). `buffer_lines` must hold a tick's worth of a thread's traffic.
pub const TICK: Duration = Duration::from_millis(20);

/// Set by SIGUSR1; a flag, not a message, so a full queue cannot lose it.
static REOPEN: AtomicBool = AtomicBool::new(false);

pub(super) fn start(sink: Option<&'static Sink>, config: &AccessLog) -> Result<(), StartError> {
    reopen_on_sigusr1()?;
    let Some(sink) = sink else {
        return Ok(());
    };
    let output = Output::open(config.path.clone())?;
    std::thread::Builder::new()
        .name("weir-access-log".into())
        .spawn(move || run(sink, output))
        .map_err(StartError::Thread)?;
    Ok(())
}

/// SIGUSR1's default action ends the process: the handler is installed now,
/// before serving, whether or not the log is on.
fn reopen_on_sigusr1() -> Result<(), StartError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .map_err(StartError::Signal)?;
    let mut signals = runtime
        .block_on(async {
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1())
        })
        .map_err(StartError::Signal)?;
    std::thread::Builder::new()
        .name("weir-sigusr1".into())
        .spawn(move || {
            runtime.block_on(async {
                while signals.recv().await.is_some() {
                    tracing::info!("SIGUSR1: reopening the access log");
                    // The writer picks it up at its next tick.
                    REOPEN.store(true, Ordering::Relaxed);
                }
            })
        })
        .map_err(StartError::Signal)?;
    Ok(())
}

enum Target {
    Stdout,
    File { file: File, dev: u64, ino: u64 },
}

struct Output {
    path: Option<PathBuf>,
    target: Target,
    checked: Instant,
}

impl Output {
    fn open(path: Option<PathBuf>) -> Result<Output, StartError> {
        let target = match &path {
            None => Target::Stdout,
            Some(p) => open_file(p).map_err(|source| StartError::Open {
                path: p.clone(),
                source,
            })?,
        };
        Ok(Output {
            path,
            target,
            checked: Instant::now(),
        })
    }

    fn write(&mut self, batch: &[u8]) {
        let result = match &mut self.target {
            Target::Stdout => {
                let mut out = std::io::stdout().lock();
                out.write_all(batch).and_then(|()| out.flush())
            }
            Target::File { file, .. } => file.write_all(batch),
        };
        if let Err(err) = result {
            tracing::warn!("cannot write the access log: {err}");
        }
    }

    /// Reopens when asked, or when the path now names another file (or none).
    fn maybe_reopen(&mut self) {
        let Some(path) = &self.path else {
            REOPEN.store(false, Ordering::Relaxed);
            return;
        };
        let asked = REOPEN.swap(false, Ordering::Relaxed);
        if !asked && self.checked.elapsed() < ROTATION_CHECK {
            return;
        }
        self.checked = Instant::now();
        let moved = match (&self.target, std::fs::metadata(path)) {
            (Target::File { dev, ino, .. }, Ok(meta)) => meta.dev() != *dev || meta.ino() != *ino,
            _ => true,
        };
        if asked || moved {
            match open_file(path) {
                Ok(target) => self.target = target,
                Err(err) => {
                    tracing::warn!(path = %path.display(), "cannot reopen the access log: {err}")
                }
            }
        }
    }
}

fn open_file(path: &Path) -> std::io::Result<Target> {
    let file = OpenOptions::new().create(true).append(true).open(path)?;
    let meta = file.metadata()?;
    Ok(Target::File {
        dev: meta.dev(),
        ino: meta.ino(),
        file,
    })
}

fn run(sink: &'static Sink, mut output: Output) {
    // One spare per thread buffer, swapped in each tick: capacities are kept,
    // so the steady state allocates nothing.
    let mut spares: Vec<Vec<u8>> = Vec::new();
    let (mut dropped, mut warned) = (0, Instant::now());
    loop {
        std::thread::sleep(TICK);
        let buffers: Vec<_> = super::lock(&sink.buffers).clone();
        spares.resize_with(buffers.len(), || Vec::with_capacity(64 * 1024));
        for (buffer, spare) in buffers.iter().zip(spares.iter_mut()) {
            let lines = {
                let mut buffer = super::lock(buffer);
                std::mem::swap(&mut buffer.bytes, spare);
                std::mem::take(&mut buffer.lines)
            };
            if lines > 0 {
                output.write(spare);
                WRITTEN.fetch_add(lines as u64, Ordering::Relaxed);
            }
            spare.clear();
        }
        TICKS.fetch_add(1, Ordering::Release);
        output.maybe_reopen();
        let now_dropped = super::dropped();
        if now_dropped > dropped && warned.elapsed() >= ROTATION_CHECK {
            tracing::warn!(
                lines = now_dropped - dropped,
                "access log buffer full: lines dropped (raise access_log.buffer_lines?)"
            );
            (dropped, warned) = (now_dropped, Instant::now());
        }
    }
}
