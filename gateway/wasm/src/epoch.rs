//! The epoch clock behind call deadlines: a thread that advances the
//! engine's epoch every [`EPOCH_TICK`] while a filter call is in flight, and
//! sleeps without waking otherwise.
//!
//! A running guest checks its deadline, and yields to the runtime, at each
//! tick. Between calls nothing needs the ticks, and on a gateway whose
//! filters run on some routes only, a thread waking a thousand times a
//! second would preempt the workers serving every other route. So once no
//! call has run for [`IDLE_TICKS`] ticks the ticker parks, and the next
//! call wakes it. It does not park between the calls of a busy gateway:
//! parking and being woken costs more than the ticks it would save.

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::thread::{JoinHandle, Thread};
use std::time::Duration;

use wasmtime::Engine;

/// How often the epoch advances while calls run; deadlines are checked at
/// each tick.
pub(crate) const EPOCH_TICK: Duration = Duration::from_millis(1);

/// How long a call on the fast path may run before its filter is moved to
/// the async path for good: a fast-path call holds its worker thread, so a
/// filter that computes this long, or loops, does so where it yields at
/// every tick instead. Far above any filter's ordinary call (tens to
/// hundreds of microseconds), so a worker thread preempted for a moment
/// does not move a fast filter.
pub(crate) const FAST_PATH_SLICE: Duration = Duration::from_millis(10);

/// How long a handler's guest runs before it first yields at an epoch
/// tick. A yield sends the request's task to the back of its worker's
/// queue, behind every request there, so a handler that happened to be
/// running at a tick would answer after all of them: most handlers answer
/// well within this, and one that computes longer yields from then on.
pub(crate) const HANDLER_SLICE: Duration = Duration::from_millis(2);

/// Ticks without a call, in flight or started, before the ticker parks.
const IDLE_TICKS: u32 = 100;

/// Calls in flight and the ticker's state, shared by the host's filters.
#[derive(Default)]
pub(crate) struct EpochClock {
    in_flight: AtomicUsize,
    /// A call entered since the ticker last looked.
    recent: AtomicBool,
    /// Set by the ticker just before it parks, cleared when it wakes.
    parked: AtomicBool,
    stop: AtomicBool,
    /// Epoch increments so far; the tests read it.
    ticks: AtomicU64,
    ticker: std::sync::OnceLock<Thread>,
}

/// One call in flight; the ticker keeps ticking until every one is dropped.
pub(crate) struct InFlight<'a>(&'a EpochClock);

impl EpochClock {
    /// Marks a call in flight for as long as the guard lives.
    ///
    /// The counter is raised before `parked` is read, and the ticker sets
    /// `parked` before it reads the counter (both sequentially consistent),
    /// so either the ticker sees this call and stays awake, or this call
    /// sees it parked and wakes it.
    pub(crate) fn enter(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::SeqCst);
        // Read first: on a busy gateway the flag is already set, and a
        // load leaves the cache line shared.
        if !self.recent.load(Ordering::Relaxed) {
            self.recent.store(true, Ordering::Relaxed);
        }
        if self.parked.load(Ordering::SeqCst)
            && let Some(ticker) = self.ticker.get()
        {
            ticker.unpark();
        }
        InFlight(self)
    }

    #[cfg(test)]
    fn ticks(&self) -> u64 {
        self.ticks.load(Ordering::SeqCst)
    }

    #[cfg(test)]
    fn is_parked(&self) -> bool {
        self.parked.load(Ordering::SeqCst)
    }

    fn run(&self, engine: &Engine) {
        // Before the first park: a call that sees `parked` finds the handle.
        let _ = self.ticker.set(std::thread::current());
        let mut idle_ticks = 0;
        while !self.stop.load(Ordering::Acquire) {
            let called = self.recent.swap(false, Ordering::Relaxed);
            if called || self.in_flight.load(Ordering::SeqCst) > 0 {
                idle_ticks = 0;
            } else {
                idle_ticks += 1;
            }
            if idle_ticks >= IDLE_TICKS {
                idle_ticks = 0;
                self.parked.store(true, Ordering::SeqCst);
                // `park` may return spuriously; an `unpark` that came first
                // makes it return at once, so no wake-up is lost.
                while self.in_flight.load(Ordering::SeqCst) == 0
                    && !self.stop.load(Ordering::Acquire)
                {
                    std::thread::park();
                }
                self.parked.store(false, Ordering::SeqCst);
                continue;
            }
            std::thread::sleep(EPOCH_TICK);
            engine.increment_epoch();
            self.ticks.fetch_add(1, Ordering::Relaxed);
        }
    }
}

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::SeqCst);
    }
}

thread_local! {
    /// Set while this thread blocks on a filter call (`PollingInPlace`).
    static IN_PLACE: Cell<bool> = const { Cell::new(false) };
}

/// Marks this thread as blocking on filter calls until dropped: Pingora's
/// synchronous body hook polls the call in place and then waits for it.
///
/// A guest that runs past an epoch tick yields. On a runtime's task that
/// yield goes through tokio, which puts the task at the back of the queue
/// (a plain self-wake would land in the worker's LIFO slot and run the same
/// guest again at once). A thread blocked on the call has no queue to go
/// back to: on a single-threaded worker tokio would defer the wake-up to
/// that worker's own scheduler, which cannot run until the call returns, so
/// the call would stall until its deadline. Here the yield wakes itself.
pub struct PollingInPlace {
    was: bool,
}

impl PollingInPlace {
    pub fn enter() -> Self {
        PollingInPlace {
            was: IN_PLACE.replace(true),
        }
    }
}

impl Drop for PollingInPlace {
    fn drop(&mut self) {
        IN_PLACE.set(self.was);
    }
}

/// Time the running call spent yielded at epoch ticks, waiting for its turn
/// on the worker thread: its deadline counts the call's own time (running,
/// or waiting on a capability), not this, up to [`YIELD_CREDIT`] times the
/// call's budget. The ceiling keeps a runaway guest's calls, which yield
/// too, from holding their share of a busy worker for much longer than
/// their deadline says. Shared with the yields' futures.
#[derive(Clone, Default)]
pub(crate) struct Yielded(Arc<YieldedTimes>);

#[derive(Default)]
struct YieldedTimes {
    total: AtomicU64,
    ceiling: AtomicU64,
}

/// How many times its budget a call may spend yielded on top of it.
pub(crate) const YIELD_CREDIT: u32 = 3;

impl Yielded {
    /// A call with this budget starts.
    pub(crate) fn reset(&self, budget: Duration) {
        let ceiling = budget.saturating_mul(YIELD_CREDIT).as_nanos();
        self.0.ceiling.store(
            u64::try_from(ceiling).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
        self.0.total.store(0, Ordering::Relaxed);
    }

    /// The time the deadline moves by.
    pub(crate) fn total(&self) -> Duration {
        let total = self.0.total.load(Ordering::Relaxed);
        Duration::from_nanos(total.min(self.0.ceiling.load(Ordering::Relaxed)))
    }

    /// What a running guest awaits at an epoch tick: its turn again, the
    /// time until then counted here.
    pub(crate) fn tick(&self) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        let counted = self.clone();
        let started = std::time::Instant::now();
        let turn = tick_yield();
        Box::pin(async move {
            turn.await;
            let waited = started.elapsed().as_nanos();
            counted
                .0
                .total
                .fetch_add(u64::try_from(waited).unwrap_or(u64::MAX), Ordering::Relaxed);
        })
    }
}

/// What a running guest awaits at an epoch tick before it goes on.
fn tick_yield() -> Pin<Box<dyn Future<Output = ()> + Send>> {
    if IN_PLACE.get() {
        Box::pin(SelfWakingYield { yielded: false })
    } else {
        Box::pin(tokio::task::yield_now())
    }
}

/// Pending once, having woken itself; ready when polled again.
struct SelfWakingYield {
    yielded: bool,
}

impl Future for SelfWakingYield {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// The ticker thread; stopped and joined when dropped.
pub(crate) struct Ticker {
    clock: Arc<EpochClock>,
    thread: Option<JoinHandle<()>>,
}

impl Ticker {
    pub(crate) fn start(engine: Engine, clock: Arc<EpochClock>) -> Self {
        let shared = clock.clone();
        let thread = std::thread::Builder::new()
            .name("weir-epoch".into())
            .spawn(move || shared.run(&engine))
            .expect("spawning the epoch ticker thread");
        Ticker {
            clock,
            thread: Some(thread),
        }
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.clock.stop.store(true, Ordering::Release);
        if let Some(thread) = self.thread.take() {
            thread.thread().unpark();
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Instant;

    use super::*;

    /// Waits, at most 5 s, until `done` holds; `false` if it never did.
    fn eventually(done: impl Fn() -> bool) -> bool {
        let give_up = Instant::now() + Duration::from_secs(5);
        while Instant::now() < give_up {
            if done() {
                return true;
            }
            std::thread::yield_now();
        }
        done()
    }

    fn engine() -> Engine {
        let mut config = wasmtime::Config::new();
        config.epoch_interruption(true);
        Engine::new(&config).unwrap()
    }

    #[test]
    fn the_ticker_ticks_only_while_a_call_is_in_flight() {
        let clock = Arc::new(EpochClock::default());
        let ticker = Ticker::start(engine(), clock.clone());
        assert!(eventually(|| clock.is_parked()), "idle, the ticker parks");

        for _ in 0..3 {
            let before = clock.ticks();
            let call = clock.enter();
            assert!(
                eventually(|| clock.ticks() >= before + 3),
                "a call in flight wakes the ticker and it ticks"
            );
            drop(call);
            assert!(
                eventually(|| clock.is_parked()),
                "idle again, it parks again"
            );
        }
        drop(ticker);
    }

    /// Blocking on a call from a single-threaded runtime's task, as
    /// Pingora's body hook does without work stealing: a tick's yield
    /// through tokio would be deferred to that runtime, which is blocked.
    #[test]
    fn a_yield_in_place_wakes_itself_where_tokio_would_defer_it() {
        let (done, finished) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let worker = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            worker.block_on(async {
                let _in_place = PollingInPlace::enter();
                futures::executor::block_on(tick_yield());
                done.send(()).ok();
            });
        });
        assert_eq!(
            finished.recv_timeout(Duration::from_secs(10)),
            Ok(()),
            "the yield never woke"
        );
        assert!(!IN_PLACE.get(), "only the blocking thread is marked");
    }

    #[test]
    fn dropping_a_parked_ticker_stops_it() {
        let clock = Arc::new(EpochClock::default());
        let ticker = Ticker::start(engine(), clock.clone());
        assert!(eventually(|| clock.is_parked()));
        // Joins the thread: hangs here if the ticker did not wake to stop.
        drop(ticker);
        assert_eq!(Arc::strong_count(&clock), 1);
    }
}
