//! The host side of a filter's imports: what a filter's `Store` holds
//! ([`HostState`]) and one module per interface it may import. The
//! capabilities (key-value, secrets, outbound HTTP, files) are denied unless
//! granted (`capabilities.rs`).
//!
//! A store serves one call at a time. Before a call the instance moves the
//! request's [`Exchange`] (views and context bag) in; after it, back out.

pub(crate) mod capabilities;
mod crypto;
mod http;
pub(crate) mod kv;
mod kv_now;
mod outbound;
mod ready_now;
mod secrets;
mod wasi;

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::ResourceTable;
use wasmtime_wasi::p2::pipe::SinkOutputStream;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::epoch::Yielded;
use crate::error::LoadError;
use crate::store::{MemoryCap, StoreData};
use crate::view::Exchange;
use capabilities::Capabilities;
use outbound::OutboundHttp;

pub(crate) use wasi::{
    add_to_linker as add_wasi_to_linker, add_to_linker_fast as add_wasi_to_linker_fast,
};

pub(crate) struct HostState {
    pub(crate) filter_name: Arc<str>,
    wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    http: WasiHttpCtx,
    outbound: OutboundHttp,
    pub(crate) capabilities: Arc<Capabilities>,
    /// Key-value handles the guest holds, bounded so a guest cannot grow
    /// the host's table without limit.
    pub(crate) open_stores: u32,
    memory_cap: MemoryCap,
    /// When the running call started and must end; checked at every epoch tick.
    started: Instant,
    deadline: Instant,
    yielded: Yielded,
    /// Set for a store linked for the fast path (`wasi.rs`): its calls run on
    /// the worker thread and cannot yield.
    fast: bool,
    /// See `StoreData::runs_before_yielding`: zero for filters, whose calls
    /// are short by contract; a handler's whole exchange is one call.
    yield_after: std::time::Duration,
    /// Where a fast-path guest blocks if it waits after all (`ready_now.rs`).
    wait: ready_now::Wait,
    /// A fast-path call ran past [`crate::epoch::FAST_PATH_SLICE`].
    overran: bool,
    /// The request being served, during a call.
    pub(crate) exchange: Box<Exchange>,
}

impl HostState {
    pub(crate) fn new(
        filter_name: Arc<str>,
        memory_bytes: usize,
        capabilities: Arc<Capabilities>,
        fast: bool,
        io: tokio::runtime::Handle,
        env: &[(String, String)],
    ) -> Result<Self, LoadError> {
        // Deny by default: no arguments or sockets, no environment but what
        // the config sets (handlers' `env`); stdio goes nowhere (filters log
        // through `weir:filter/log`); files only from a granted directory,
        // read-only. Clocks and randomness stay (JWT checks need the time).
        let mut wasi = WasiCtx::builder();
        wasi.envs(env);
        wasi.stdout(SinkOutputStream)
            .stderr(SinkOutputStream)
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false);
        if let Some(files) = &capabilities.files {
            wasi.preopened_dir(&files.path, &files.mount, wasmtime_wasi::FsPerms::ReadOnly)
                .map_err(|err| LoadError::Capability {
                    capability: format!("grants.files ({})", files.path.display()),
                    reason: format!("{err:#}"),
                })?;
        }
        Ok(HostState {
            outbound: OutboundHttp::new(filter_name.clone(), capabilities.http.clone()),
            filter_name,
            wasi: wasi.build(),
            table: ResourceTable::new(),
            http: WasiHttpCtx::new(),
            capabilities,
            open_stores: 0,
            memory_cap: MemoryCap::new(memory_bytes),
            started: Instant::now(),
            deadline: Instant::now(),
            yielded: Yielded::default(),
            fast,
            yield_after: std::time::Duration::ZERO,
            wait: ready_now::Wait::new(io),
            overran: false,
            exchange: Box::default(),
        })
    }
}

impl HostState {
    /// Calls run this long before they yield at epoch ticks.
    pub(crate) fn yielding_after(mut self, slice: std::time::Duration) -> Self {
        self.yield_after = slice;
        self
    }
}

impl StoreData for HostState {
    fn memory_cap(&mut self) -> &mut MemoryCap {
        &mut self.memory_cap
    }

    fn deadline(&self) -> Instant {
        self.deadline
    }

    fn yielded(&self) -> &Yielded {
        &self.yielded
    }

    fn arm(&mut self, started: Instant, ends: Instant) {
        self.started = started;
        self.deadline = ends;
        self.yielded.reset(ends.saturating_duration_since(started));
        self.overran = false;
        self.wait.waited = false;
    }

    fn fast(&self) -> bool {
        self.fast
    }

    fn started(&self) -> Instant {
        self.started
    }

    fn runs_before_yielding(&self) -> std::time::Duration {
        self.yield_after
    }

    fn note_overrun(&mut self) {
        self.overran = true;
    }

    fn showed_slow(&self) -> bool {
        self.overran || self.wait.waited
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound,
        }
    }
}
