//! `headers`: adds, sets, removes and renames request headers (before the
//! upstream) and response headers (before the client). Values are templates
//! over the request and the per-request context:
//!
//! ```yaml
//! filters:
//!   headers:
//!     module: filters/target/wasm32-wasip2/release/headers.wasm
//!     config:
//!       request:
//!         remove: [x-internal-debug]
//!         set: { x-user: "${ctx.sub}", x-client-ip: "${client_ip}" }
//!       response:
//!         rename: { server: x-served-by }
//!         add: { x-request-id: "${request_id}" }
//! ```
//!
//! See docs/filters/headers.md for every field, the order of operations and
//! what happens when a variable has no value.

mod config;
mod edit;
mod names;
mod template;

use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, Response, export_filter};

use config::{Checked, Settings};
use edit::ResponseOf;
use template::Source;

struct Headers(Checked);

impl Filter for Headers {
    fn new(config: Config) -> Result<Self, String> {
        config.deserialize::<Settings>()?.check().map(Headers)
    }

    fn phases(&self) -> Phases {
        let mut phases = Phases::empty();
        if !self.0.request.is_empty() || self.response_edited_early() {
            phases |= Phases::REQUEST_HEADERS;
        }
        if !self.0.response.is_empty() && !self.response_edited_early() {
            phases |= Phases::RESPONSE_HEADERS;
        }
        phases
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        let source = Source { request: req };
        // Response values render from the request as it reaches this filter,
        // before its own request edits.
        if self.response_edited_early() {
            edit::apply_writes(
                &self.0.response,
                &ResponseOf(req),
                &source,
                self.0.on_missing,
            );
        }
        edit::apply(&self.0.request, req, &source, self.0.on_missing);
        Decision::Continue
    }

    fn on_response_headers(&mut self, req: &Request, resp: &Response) -> Decision {
        let source = Source { request: req };
        edit::apply(&self.0.response, resp, &source, self.0.on_missing);
        Decision::Continue
    }
}

impl Headers {
    /// Response edits that need nothing from the response (no rename) are
    /// handed to weir while the request passes, which spares a call per
    /// request.
    fn response_edited_early(&self) -> bool {
        !self.0.response.is_empty() && self.0.response.rename.is_empty()
    }
}

export_filter!(Headers);
