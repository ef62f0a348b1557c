//! An example weir filter: sets one header on the request (the upstream sees
//! it) and the same header on the response (the client sees it).
//!
//! ```yaml
//! filters:
//!   hello:
//!     module: filters/target/wasm32-wasip2/release/add_header.wasm
//!     config: { name: x-hello, value: from a Wasm filter }
//! ```

use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, Response, export_filter, log};

struct AddHeader {
    name: String,
    value: String,
}

impl Filter for AddHeader {
    /// Called once per instance; an `Err` makes weir refuse the config.
    fn new(config: Config) -> Result<Self, String> {
        Ok(AddHeader {
            name: config.string("name")?,
            value: config.string("value")?,
        })
    }

    /// Only the header phases: bodies stream through untouched.
    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS | Phases::RESPONSE_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        if let Err(error) = req.set_header(&self.name, self.value.as_bytes()) {
            log::warn(&format!("cannot set {}: {error}", self.name));
        }
        Decision::Continue
    }

    fn on_response_headers(&mut self, _req: &Request, resp: &Response) -> Decision {
        let _ = resp.set_header(&self.name, self.value.as_bytes());
        Decision::Continue
    }
}

export_filter!(AddHeader);
