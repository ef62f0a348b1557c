//! What a filter's `Store` holds, and the host side of the imports
//! (`http`, `context`, `log`; the capabilities have modules of their own).
//!
//! A store serves one call at a time. Before a call the instance moves the
//! request's [`Exchange`] (views and context bag) in; after it, back out. The
//! resource handles the guest receives therefore need no table: there is only
//! ever one request and one response in a store, at rep 0.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::component::{Resource, ResourceTable};
use wasmtime::{StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::p2::pipe::SinkOutputStream;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::bindings::weir::filter::{context, http as wit_http, log, types};
use crate::capabilities::Capabilities;
use crate::error::LoadError;
use crate::outbound::OutboundHttp;
use crate::view::{self, Exchange};

/// Type behind `weir:filter/http.request` handles.
pub struct RequestHandle;
/// Type behind `weir:filter/http.response` handles.
pub struct ResponseHandle;

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
    pub(crate) limits: StoreLimits,
    /// When the running call must end; checked at every epoch tick.
    pub(crate) deadline: Instant,
    /// The request being served, during a call.
    pub(crate) exchange: Box<Exchange>,
}

impl HostState {
    pub(crate) fn new(
        filter_name: Arc<str>,
        memory_bytes: usize,
        capabilities: Arc<Capabilities>,
    ) -> Result<Self, LoadError> {
        // Deny by default: no environment, arguments or sockets; stdio goes
        // nowhere (filters log through `weir:filter/log`); files only from a
        // granted directory, read-only. Clocks and randomness stay (JWT
        // checks need the time).
        let mut wasi = WasiCtx::builder();
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
            limits: StoreLimitsBuilder::new()
                .memory_size(memory_bytes)
                .trap_on_grow_failure(true)
                .build(),
            deadline: Instant::now(),
            exchange: Box::default(),
        })
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

impl types::Host for HostState {}

impl wit_http::Host for HostState {}

impl wit_http::HostRequest for HostState {
    fn method(&mut self, _: Resource<RequestHandle>) -> String {
        self.exchange.request.method.as_str().to_owned()
    }

    fn path(&mut self, _: Resource<RequestHandle>) -> String {
        self.exchange.request.path.clone()
    }

    fn set_path(&mut self, _: Resource<RequestHandle>, path: String) -> Result<(), String> {
        view::check_path(&path)?;
        self.exchange.request.path = path;
        self.exchange.request.uri_changed = true;
        Ok(())
    }

    fn query(&mut self, _: Resource<RequestHandle>) -> Option<String> {
        self.exchange.request.query.clone()
    }

    fn set_query(
        &mut self,
        _: Resource<RequestHandle>,
        query: Option<String>,
    ) -> Result<(), String> {
        if let Some(q) = &query {
            view::check_query(q)?;
        }
        self.exchange.request.query = query;
        self.exchange.request.uri_changed = true;
        Ok(())
    }

    fn header(&mut self, _: Resource<RequestHandle>, name: String) -> Option<Vec<u8>> {
        view::header_first(&self.exchange.request.headers, &name)
    }

    fn header_all(&mut self, _: Resource<RequestHandle>, name: String) -> Vec<Vec<u8>> {
        view::header_all(&self.exchange.request.headers, &name)
    }

    fn headers(&mut self, _: Resource<RequestHandle>) -> Vec<(String, Vec<u8>)> {
        view::header_list(&self.exchange.request.headers)
    }

    fn set_header(
        &mut self,
        _: Resource<RequestHandle>,
        name: String,
        value: Vec<u8>,
    ) -> Result<(), String> {
        let r = &mut self.exchange.request;
        view::set_header(&mut r.headers, &mut r.edits, &name, &value, false)
    }

    fn append_header(
        &mut self,
        _: Resource<RequestHandle>,
        name: String,
        value: Vec<u8>,
    ) -> Result<(), String> {
        let r = &mut self.exchange.request;
        view::set_header(&mut r.headers, &mut r.edits, &name, &value, true)
    }

    fn remove_header(&mut self, _: Resource<RequestHandle>, name: String) {
        let r = &mut self.exchange.request;
        view::remove_header(&mut r.headers, &mut r.edits, &name)
    }

    fn set_response_header(
        &mut self,
        _: Resource<RequestHandle>,
        name: String,
        value: Vec<u8>,
    ) -> Result<(), String> {
        let edit = view::header_edit(&name, &value, false)?;
        self.exchange.defer_response_edit(edit)
    }

    fn append_response_header(
        &mut self,
        _: Resource<RequestHandle>,
        name: String,
        value: Vec<u8>,
    ) -> Result<(), String> {
        let edit = view::header_edit(&name, &value, true)?;
        self.exchange.defer_response_edit(edit)
    }

    fn remove_response_header(
        &mut self,
        _: Resource<RequestHandle>,
        name: String,
    ) -> Result<(), String> {
        let edit = view::remove_edit(&name)?;
        self.exchange.defer_response_edit(edit)
    }

    fn client_ip(&mut self, _: Resource<RequestHandle>) -> String {
        self.exchange
            .request
            .client_ip
            .map(|ip| ip.to_string())
            .unwrap_or_default()
    }

    fn id(&mut self, _: Resource<RequestHandle>) -> String {
        self.exchange.request.request_id.clone()
    }

    fn drop(&mut self, _: Resource<RequestHandle>) -> wasmtime::Result<()> {
        // Borrowed handles only: weir owns the request.
        Ok(())
    }
}

impl wit_http::HostResponse for HostState {
    fn status(&mut self, _: Resource<ResponseHandle>) -> u16 {
        self.exchange.response.status
    }

    fn set_status(&mut self, _: Resource<ResponseHandle>, status: u16) -> Result<(), String> {
        if !(100..=599).contains(&status) {
            return Err(format!("status {status} is not in 100..=599"));
        }
        self.exchange.response.status = status;
        self.exchange.response.status_changed = true;
        Ok(())
    }

    fn header(&mut self, _: Resource<ResponseHandle>, name: String) -> Option<Vec<u8>> {
        view::header_first(&self.exchange.response.headers, &name)
    }

    fn header_all(&mut self, _: Resource<ResponseHandle>, name: String) -> Vec<Vec<u8>> {
        view::header_all(&self.exchange.response.headers, &name)
    }

    fn headers(&mut self, _: Resource<ResponseHandle>) -> Vec<(String, Vec<u8>)> {
        view::header_list(&self.exchange.response.headers)
    }

    fn set_header(
        &mut self,
        _: Resource<ResponseHandle>,
        name: String,
        value: Vec<u8>,
    ) -> Result<(), String> {
        let r = &mut self.exchange.response;
        view::set_header(&mut r.headers, &mut r.edits, &name, &value, false)
    }

    fn append_header(
        &mut self,
        _: Resource<ResponseHandle>,
        name: String,
        value: Vec<u8>,
    ) -> Result<(), String> {
        let r = &mut self.exchange.response;
        view::set_header(&mut r.headers, &mut r.edits, &name, &value, true)
    }

    fn remove_header(&mut self, _: Resource<ResponseHandle>, name: String) {
        let r = &mut self.exchange.response;
        view::remove_header(&mut r.headers, &mut r.edits, &name)
    }

    fn drop(&mut self, _: Resource<ResponseHandle>) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl context::Host for HostState {
    fn get(&mut self, key: String) -> Option<String> {
        self.exchange.context.get(&key).cloned()
    }

    fn set(&mut self, key: String, value: String) {
        self.exchange.context.insert(key, value);
    }

    fn remove(&mut self, key: String) {
        self.exchange.context.remove(&key);
    }
}

impl log::Host for HostState {
    fn log(&mut self, level: types::Level, message: String) {
        let filter = &*self.filter_name;
        let request_id = self.exchange.request.request_id.as_str();
        match level {
            types::Level::Trace => tracing::trace!(filter, request_id, "{message}"),
            types::Level::Debug => tracing::debug!(filter, request_id, "{message}"),
            types::Level::Info => tracing::info!(filter, request_id, "{message}"),
            types::Level::Warn => tracing::warn!(filter, request_id, "{message}"),
            types::Level::Error => tracing::error!(filter, request_id, "{message}"),
        }
    }
}
