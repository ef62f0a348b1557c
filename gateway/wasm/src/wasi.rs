//! WASI for filters: nothing granted, and nothing that blocks.
//!
//! Filters get WASI so that toolchains' standard libraries link, but no
//! files, sockets or environment (see `state.rs`); stdout and stderr are
//! sinks (filters log through `weir:filter/log`). wasmtime-wasi's synchronous
//! bindings run blocking operations by driving a Tokio future to completion,
//! which is not allowed on the proxy's runtime threads where filters run. So
//! the blocking stream operations are replaced by synchronous ones (every
//! output stream a filter can hold is a sink), and waiting on a pollable
//! traps instead of blocking a request thread.

use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::p2::bindings::sync::io::streams::StreamError;
use wasmtime_wasi::p2::{DynOutputStream, DynPollable};

use crate::state::HostState;

/// The WASI version wasmtime-wasi defines; guests importing any 0.2.x are
/// linked to it.
const STREAMS: &str = "wasi:io/streams@0.2.12";
const POLL: &str = "wasi:io/poll@0.2.12";

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    linker.allow_shadowing(true);

    let mut streams = linker.instance(STREAMS)?;
    streams.func_wrap(
        "[method]output-stream.blocking-write-and-flush",
        |_, (_stream, _bytes): (Resource<DynOutputStream>, Vec<u8>)| {
            Ok((Ok::<(), StreamError>(()),))
        },
    )?;
    streams.func_wrap(
        "[method]output-stream.blocking-write-zeroes-and-flush",
        |_, (_stream, _len): (Resource<DynOutputStream>, u64)| Ok((Ok::<(), StreamError>(()),)),
    )?;
    streams.func_wrap(
        "[method]output-stream.blocking-flush",
        |_, (_stream,): (Resource<DynOutputStream>,)| Ok((Ok::<(), StreamError>(()),)),
    )?;

    let mut poll = linker.instance(POLL)?;
    poll.func_wrap(
        "poll",
        |_, (_pollables,): (Vec<Resource<DynPollable>>,)| -> wasmtime::Result<(Vec<u32>,)> {
            Err(wasmtime::format_err!(
                "filters cannot block: wasi:io/poll.poll is not available"
            ))
        },
    )?;
    poll.func_wrap(
        "[method]pollable.block",
        |_, (_pollable,): (Resource<DynPollable>,)| -> wasmtime::Result<()> {
            Err(wasmtime::format_err!(
                "filters cannot block: wasi:io/poll.pollable.block is not available"
            ))
        },
    )?;
    poll.func_wrap(
        "[method]pollable.ready",
        |_, (_pollable,): (Resource<DynPollable>,)| -> wasmtime::Result<(bool,)> {
            Err(wasmtime::format_err!(
                "filters cannot wait on WASI pollables"
            ))
        },
    )?;

    linker.allow_shadowing(false);
    Ok(())
}
