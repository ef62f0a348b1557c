//! `wasi:io` streams and polls for filters on the fast path, whose calls run
//! on the worker thread without a fiber and so cannot suspend.
//!
//! Such a filter is granted nothing that waits (no key-value, outbound HTTP
//! or files), so what it reaches through `wasi:io` (stdout and stderr, which
//! go nowhere; an empty stdin) is ready at once, and each operation
//! completes at its first poll. The one wait left is a clock (a guest that
//! sleeps): that blocks the worker thread on weir's I/O runtime, whose
//! timers keep running, until the pollable is ready or the call's deadline
//! passes; the guest is noted as having waited, and the filter leaves the
//! fast path for good (`gate.rs`), so the block happens once.
//!
//! wasmtime-wasi's own synchronous bindings cannot serve here: they block
//! through `Handle::block_on`, which panics on a thread that runs a Tokio
//! runtime, as Pingora's workers do.

use std::time::Instant;

use futures::FutureExt;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};
use wasmtime_wasi::p2::bindings::sync::io::{poll, streams};
use wasmtime_wasi::p2::{DynPollable, StreamError, StreamResult};
use wasmtime_wasi_io::bindings::wasi::io::poll::{
    Host as AsyncPoll, HostPollable as AsyncPollable,
};
use wasmtime_wasi_io::bindings::wasi::io::streams::{
    HostInputStream as AsyncInput, HostOutputStream as AsyncOutput,
};
use wasmtime_wasi_io::streams::{DynInputStream, DynOutputStream};

use super::HostState;

/// The store's view while a fast-path guest uses `wasi:io`.
pub(crate) struct ReadyNow<'a> {
    table: &'a mut ResourceTable,
    wait: &'a mut Wait,
    deadline: Instant,
}

/// Where a fast-path store blocks when its guest waits, and whether it did.
pub(crate) struct Wait {
    io: tokio::runtime::Handle,
    /// The guest waited during the current call.
    pub(crate) waited: bool,
}

impl Wait {
    pub(crate) fn new(io: tokio::runtime::Handle) -> Self {
        Wait { io, waited: false }
    }
}

struct HasReadyNow;

impl HasData for HasReadyNow {
    type Data<'a> = ReadyNow<'a>;
}

/// Links `wasi:io/poll` and `wasi:io/streams` over [`ReadyNow`], in place
/// of wasmtime-wasi's synchronous ones.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    linker.allow_shadowing(true);
    poll::add_to_linker::<HostState, HasReadyNow>(linker, HostState::ready_now)?;
    streams::add_to_linker::<HostState, HasReadyNow>(linker, HostState::ready_now)?;
    linker.allow_shadowing(false);
    Ok(())
}

impl HostState {
    fn ready_now(&mut self) -> ReadyNow<'_> {
        ReadyNow {
            table: &mut self.table,
            wait: &mut self.wait,
            deadline: self.deadline,
        }
    }
}

/// Runs `op` (which borrows the table) to completion: at once, or by
/// blocking until the call's deadline, after which the call traps as a
/// deadline would.
fn settle<'t, R, F>(
    table: &'t mut ResourceTable,
    wait: &mut Wait,
    deadline: Instant,
    op: impl FnOnce(&'t mut ResourceTable) -> F,
) -> wasmtime::Result<R>
where
    F: Future<Output = R> + 't,
{
    // Timers made while the operation runs belong to the I/O runtime,
    // which keeps running while this thread blocks.
    let _io = wait.io.enter();
    let mut op = std::pin::pin!(op(table));
    if let Some(done) = op.as_mut().now_or_never() {
        return Ok(done);
    }
    wait.waited = true;
    let ends = tokio::time::Instant::from_std(deadline);
    futures::executor::block_on(tokio::time::timeout_at(ends, op))
        .map_err(|_elapsed| wasmtime::Trap::Interrupt.into())
}

/// [`settle`] for operations whose errors are stream errors.
fn settle_stream<'t, R, F>(
    table: &'t mut ResourceTable,
    wait: &mut Wait,
    deadline: Instant,
    op: impl FnOnce(&'t mut ResourceTable) -> F,
) -> StreamResult<R>
where
    F: Future<Output = StreamResult<R>> + 't,
{
    settle(table, wait, deadline, op).map_err(StreamError::Trap)?
}

impl poll::Host for ReadyNow<'_> {
    fn poll(&mut self, pollables: Vec<Resource<DynPollable>>) -> wasmtime::Result<Vec<u32>> {
        settle(self.table, self.wait, self.deadline, |t| {
            AsyncPoll::poll(t, pollables)
        })?
    }
}

impl poll::HostPollable for ReadyNow<'_> {
    fn ready(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<bool> {
        settle(self.table, self.wait, self.deadline, |t| {
            AsyncPollable::ready(t, pollable)
        })?
    }

    fn block(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        settle(self.table, self.wait, self.deadline, |t| {
            AsyncPollable::block(t, pollable)
        })?
    }

    fn drop(&mut self, pollable: Resource<DynPollable>) -> wasmtime::Result<()> {
        AsyncPollable::drop(self.table, pollable)
    }
}

impl streams::Host for ReadyNow<'_> {
    fn convert_stream_error(&mut self, err: StreamError) -> wasmtime::Result<streams::StreamError> {
        streams::Host::convert_stream_error(self.table, err)
    }
}

impl streams::HostOutputStream for ReadyNow<'_> {
    fn drop(&mut self, stream: Resource<DynOutputStream>) -> wasmtime::Result<()> {
        settle(self.table, self.wait, self.deadline, |t| {
            AsyncOutput::drop(t, stream)
        })?
    }

    fn check_write(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<u64> {
        AsyncOutput::check_write(self.table, stream)
    }

    fn write(&mut self, stream: Resource<DynOutputStream>, bytes: Vec<u8>) -> StreamResult<()> {
        AsyncOutput::write(self.table, stream, bytes)
    }

    fn blocking_write_and_flush(
        &mut self,
        stream: Resource<DynOutputStream>,
        bytes: Vec<u8>,
    ) -> StreamResult<()> {
        settle_stream(self.table, self.wait, self.deadline, |t| {
            AsyncOutput::blocking_write_and_flush(t, stream, bytes)
        })
    }

    fn blocking_write_zeroes_and_flush(
        &mut self,
        stream: Resource<DynOutputStream>,
        len: u64,
    ) -> StreamResult<()> {
        settle_stream(self.table, self.wait, self.deadline, |t| {
            AsyncOutput::blocking_write_zeroes_and_flush(t, stream, len)
        })
    }

    fn subscribe(
        &mut self,
        stream: Resource<DynOutputStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        AsyncOutput::subscribe(self.table, stream)
    }

    fn write_zeroes(&mut self, stream: Resource<DynOutputStream>, len: u64) -> StreamResult<()> {
        AsyncOutput::write_zeroes(self.table, stream, len)
    }

    fn flush(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<()> {
        AsyncOutput::flush(self.table, stream)
    }

    fn blocking_flush(&mut self, stream: Resource<DynOutputStream>) -> StreamResult<()> {
        settle_stream(self.table, self.wait, self.deadline, |t| {
            AsyncOutput::blocking_flush(t, stream)
        })
    }

    fn splice(
        &mut self,
        dst: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        AsyncOutput::splice(self.table, dst, src, len)
    }

    fn blocking_splice(
        &mut self,
        dst: Resource<DynOutputStream>,
        src: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<u64> {
        settle_stream(self.table, self.wait, self.deadline, |t| {
            AsyncOutput::blocking_splice(t, dst, src, len)
        })
    }
}

impl streams::HostInputStream for ReadyNow<'_> {
    fn drop(&mut self, stream: Resource<DynInputStream>) -> wasmtime::Result<()> {
        settle(self.table, self.wait, self.deadline, |t| {
            AsyncInput::drop(t, stream)
        })?
    }

    fn read(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<Vec<u8>> {
        AsyncInput::read(self.table, stream, len)
    }

    fn blocking_read(
        &mut self,
        stream: Resource<DynInputStream>,
        len: u64,
    ) -> StreamResult<Vec<u8>> {
        settle_stream(self.table, self.wait, self.deadline, |t| {
            AsyncInput::blocking_read(t, stream, len)
        })
    }

    fn skip(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        AsyncInput::skip(self.table, stream, len)
    }

    fn blocking_skip(&mut self, stream: Resource<DynInputStream>, len: u64) -> StreamResult<u64> {
        settle_stream(self.table, self.wait, self.deadline, |t| {
            AsyncInput::blocking_skip(t, stream, len)
        })
    }

    fn subscribe(
        &mut self,
        stream: Resource<DynInputStream>,
    ) -> wasmtime::Result<Resource<DynPollable>> {
        AsyncInput::subscribe(self.table, stream)
    }
}
