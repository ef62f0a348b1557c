//! What every store weir makes shares, whatever kind of guest it serves: its
//! memory cap, its deadline, and the wait that bounds a call. A leaf of the
//! crate: the host state implements [`StoreData`], the instance arms and
//! awaits through these functions.

use std::time::{Duration, Instant};

use futures::FutureExt;
use wasmtime::{ResourceLimiter, Store, UpdateDeadline};

use crate::epoch::{EPOCH_TICK, EpochClock, FAST_PATH_SLICE, Yielded};

/// What a store's data must offer for weir's limits.
pub(crate) trait StoreData: Send + 'static {
    fn memory_cap(&mut self) -> &mut MemoryCap;
    /// When the running call must end, yields aside; checked at every
    /// epoch tick.
    fn deadline(&self) -> Instant;
    /// Time the running call spent yielded; reset by `arm`.
    fn yielded(&self) -> &Yielded;
    /// A call starts: it must end by `ends`.
    fn arm(&mut self, started: Instant, ends: Instant);
    /// Linked for the fast path: calls run without a fiber and cannot yield.
    fn fast(&self) -> bool;
    /// How long a call runs before it yields at epoch ticks (zero: from
    /// the first tick on).
    fn runs_before_yielding(&self) -> Duration;
    fn started(&self) -> Instant;
    /// A fast-path call ran past [`FAST_PATH_SLICE`].
    fn note_overrun(&mut self);
    /// The last fast-path call ran past its slice or waited.
    fn showed_slow(&self) -> bool;
}

/// A new store over `data`: its memory cap enforced, and at every epoch
/// tick a running guest, past its deadline, traps; otherwise a guest on the
/// async path yields to the runtime (once it has run
/// `runs_before_yielding`) (other requests on this thread get
/// their turn; see `epoch::Yielded::tick`), and one on the fast path, which
/// cannot, goes on, noted once it has run past its slice. The deadline
/// moves by the time the call spent yielded: it bounds the call's own time,
/// so calls interleaved on a busy worker do not run out of it by waiting
/// for each other.
pub(crate) fn new_store<T: StoreData>(engine: &wasmtime::Engine, data: T) -> Store<T> {
    let mut store = Store::new(engine, data);
    store.limiter(|data| data.memory_cap());
    store.epoch_deadline_callback(|mut ctx| {
        let now = Instant::now();
        let data = ctx.data_mut();
        if now >= data.deadline() + data.yielded().total() {
            return Err(wasmtime::Trap::Interrupt.into());
        }
        if !data.fast() {
            if now.saturating_duration_since(data.started()) < data.runs_before_yielding() {
                return Ok(UpdateDeadline::Continue(1));
            }
            return Ok(UpdateDeadline::YieldCustom(1, data.yielded().tick()));
        }
        if now.saturating_duration_since(data.started()) >= FAST_PATH_SLICE {
            data.note_overrun();
        }
        Ok(UpdateDeadline::Continue(1))
    });
    store
}

/// Arms the deadline of a call starting `now`; returns when it ends.
pub(crate) fn arm_deadline<T: StoreData>(
    store: &mut Store<T>,
    now: Instant,
    budget: Duration,
) -> Instant {
    let ends = now + budget;
    store.data_mut().arm(now, ends);
    store.set_epoch_deadline(1);
    ends
}

/// Runs a fast-path guest call on this thread, with the epoch `clock`
/// ticking for its deadline, and turns a panic in a host function it
/// reached into an error, as [`bounded`] does for async calls.
pub(crate) fn bounded_now<R>(
    clock: &EpochClock,
    call: impl FnOnce() -> wasmtime::Result<R>,
) -> wasmtime::Result<R> {
    let _ticking = clock.enter();
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).unwrap_or_else(panicked)
}

/// Runs a guest call with its deadline, also while it waits in a host call
/// (where no epoch check runs), and turns a panic in a host function it
/// reached into an error: the instance is then discarded like after a trap,
/// and the worker thread serving the request lives on.
///
/// Most calls complete at their first poll (they never wait on I/O), so the
/// timer that bounds a waiting call is only armed for one that did not;
/// it is pushed back by the time the call spent `yielded`.
/// The call keeps the epoch `clock` ticking until it ends or is dropped.
pub(crate) async fn bounded<R>(
    clock: &EpochClock,
    ends: Instant,
    yielded: &Yielded,
    call: impl Future<Output = wasmtime::Result<R>>,
) -> wasmtime::Result<R> {
    let _ticking = clock.enter();
    let mut guarded = std::pin::pin!(std::panic::AssertUnwindSafe(call).catch_unwind());
    let outcome = match futures::poll!(guarded.as_mut()) {
        std::task::Poll::Ready(outcome) => outcome,
        // A tick of slack: a running guest is stopped by the epoch check
        // first, which tells a deadline from a trap the same way in both cases.
        std::task::Poll::Pending => loop {
            let at = ends + yielded.total() + EPOCH_TICK;
            match tokio::time::timeout_at(at.into(), guarded.as_mut()).await {
                Ok(outcome) => break outcome,
                Err(_elapsed) if ends + yielded.total() + EPOCH_TICK <= Instant::now() => {
                    return Err(wasmtime::Trap::Interrupt.into());
                }
                // It yielded meanwhile: the deadline moved.
                Err(_elapsed) => {}
            }
        },
    };
    outcome.unwrap_or_else(panicked)
}

pub(crate) fn panicked<R>(panic: Box<dyn std::any::Any + Send>) -> wasmtime::Result<R> {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    Err(wasmtime::format_err!(
        "host panicked during the call: {message}"
    ))
}

/// A guest's linear memory would pass its cap (or the maximum its module
/// declares): the call traps with this error, which `CallError` classifies
/// by its type.
#[derive(Debug, Clone, Copy, thiserror::Error)]
#[error("forcing trap when growing memory to {desired} bytes (cap {cap} bytes)")]
pub struct MemoryCapExceeded {
    pub desired: usize,
    pub cap: usize,
}

/// The store's resource limiter: linear memory up to the filter's cap; a
/// growth it refuses traps rather than failing quietly, so a guest cannot
/// carry on in a state it did not expect.
pub(crate) struct MemoryCap {
    cap: usize,
}

impl MemoryCap {
    pub(crate) fn new(cap: usize) -> Self {
        MemoryCap { cap }
    }
}

impl ResourceLimiter for MemoryCap {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.cap || maximum.is_some_and(|max| desired > max) {
            return Err(MemoryCapExceeded {
                desired,
                cap: self.cap,
            }
            .into());
        }
        Ok(true)
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        Err(error.context("forcing a memory growth failure to be a trap"))
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if maximum.is_some_and(|max| desired > max) {
            wasmtime::bail!("forcing trap when growing table to {desired} elements");
        }
        Ok(true)
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        Err(error.context("forcing a table growth failure to be a trap"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn growth_past_the_cap_is_a_typed_error() {
        let mut cap = MemoryCap::new(1 << 20);
        assert!(cap.memory_growing(0, 1 << 16, None).unwrap());
        let err = cap.memory_growing(1 << 16, 2 << 20, None).unwrap_err();
        let exceeded = err.downcast_ref::<MemoryCapExceeded>().expect("typed");
        assert_eq!((exceeded.desired, exceeded.cap), (2 << 20, 1 << 20));
        assert!(cap.memory_growing(0, 1 << 17, Some(1 << 16)).is_err());
    }
}
