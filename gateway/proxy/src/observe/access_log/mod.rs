//! The access log: one line per request, formatted on the request path into
//! a per-thread buffer that a writer thread swaps out and writes every tick.
//! The request never waits on I/O and makes no syscall for its line: when its
//! thread's buffer is full (the writer cannot keep up) the line is dropped and
//! counted (`dropped()`); the writer writes each buffer with one `write` (see
//! writer.rs).

mod format;
mod writer;

use std::cell::OnceCell;
use std::net::IpAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, SystemTime};

use weir_config::{AccessLog, AccessLogField, AccessLogFormat};

pub use writer::StartError;

/// What one request leaves in the log; borrowed from the request's state.
pub struct Record<'a> {
    pub request_id: &'a str,
    /// W3C trace id, when the tracing module gave the request one.
    pub trace_id: Option<[u8; 16]>,
    pub listener: &'a str,
    pub client: Option<IpAddr>,
    pub peer: Option<IpAddr>,
    pub method: &'a str,
    pub host: Option<&'a str>,
    pub path: &'a str,
    pub query: Option<&'a str>,
    pub status: u16,
    pub request_bytes: u64,
    pub response_bytes: u64,
    pub duration: Duration,
    pub upstream: Option<Duration>,
    pub filters: Duration,
    pub route: Option<&'a str>,
    pub upstream_target: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// Each thread that serves requests formats its lines into a buffer of its
/// own; the writer swaps the buffers out every tick. The lock is the
/// thread's own, so a request meets it held only during that swap.
pub(crate) struct Buffer {
    bytes: Vec<u8>,
    lines: usize,
}

struct Sink {
    format: AccessLogFormat,
    fields: Vec<AccessLogField>,
    /// Lines a thread's buffer holds before new ones are dropped.
    max_lines: usize,
    /// Every thread's buffer, registered on its first request.
    buffers: Mutex<Vec<Arc<Mutex<Buffer>>>>,
}

/// Process-wide, like the file it writes: set once by `start`.
static SINK: OnceLock<Sink> = OnceLock::new();
static DROPPED: AtomicU64 = AtomicU64::new(0);
static WRITTEN: AtomicU64 = AtomicU64::new(0);
/// Writer ticks completed, for `flush`.
static TICKS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static MINE: OnceCell<Arc<Mutex<Buffer>>> = const { OnceCell::new() };
}

/// Starts the writer thread when the log is enabled, and in any case installs
/// the SIGUSR1 handler (reopen), so that the signal never ends the process.
/// Call once, before serving.
pub fn start(config: &AccessLog) -> Result<(), StartError> {
    let sink = config.enabled.then(|| Sink {
        format: config.format,
        fields: config.fields.clone(),
        max_lines: config.buffer_lines,
        buffers: Mutex::new(Vec::new()),
    });
    let Some(sink) = sink else {
        return writer::start(None, config);
    };
    if SINK.set(sink).is_err() {
        return Ok(());
    }
    writer::start(SINK.get(), config)
}

/// Whether `log` writes anything: when not, the caller skips building a record.
#[inline]
pub fn enabled() -> bool {
    SINK.get().is_some()
}

/// Formats `record` into this thread's buffer. Never blocks on I/O.
pub fn log(record: &Record) {
    let Some(sink) = SINK.get() else {
        return;
    };
    MINE.with(|mine| {
        let buffer = mine.get_or_init(|| {
            let buffer = Arc::new(Mutex::new(Buffer {
                bytes: Vec::with_capacity(64 * 1024),
                lines: 0,
            }));
            lock(&sink.buffers).push(buffer.clone());
            buffer
        });
        let mut buffer = lock(buffer);
        if buffer.lines >= sink.max_lines {
            DROPPED.fetch_add(1, Ordering::Relaxed);
            return;
        }
        format::line(
            &mut buffer.bytes,
            sink.format,
            &sink.fields,
            record,
            SystemTime::now(),
        );
        buffer.lines += 1;
    });
}

/// A poisoned lock only means a panic elsewhere; the bytes are still bytes.
fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Lines dropped because a thread's buffer was full.
pub fn dropped() -> u64 {
    DROPPED.load(Ordering::Relaxed)
}

/// Lines written so far.
pub fn written() -> u64 {
    WRITTEN.load(Ordering::Relaxed)
}

/// Waits (at most `timeout`) until every line formatted before the call is
/// written: before the process exits.
pub fn flush(timeout: Duration) {
    if SINK.get().is_none() {
        return;
    }
    // A whole tick that started after this call.
    let target = TICKS.load(Ordering::Acquire) + 2;
    let deadline = std::time::Instant::now() + timeout;
    while TICKS.load(Ordering::Acquire) < target && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(2));
    }
}
