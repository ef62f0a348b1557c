//! `weir:filter/http`, `context` and `log`: the request and response the
//! store holds during a call, the context bag shared along the chain, and
//! the filter's log lines.
//!
//! A store serves one call at a time, so the resource handles the guest
//! receives need no table: there is only ever one request and one response
//! in a store, at rep 0.

use wasmtime::component::Resource;

use super::HostState;
use crate::bindings::weir::filter::{context, http as wit_http, log, types};
use crate::bindings::{RequestHandle, ResponseHandle};
use crate::view;

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
