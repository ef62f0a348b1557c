//! Answers requests that lack `unless_header` with `status` and `body`. In the
//! response phase, a request carrying `x-deny-response` gets 418 instead of
//! the upstream's response.

use serde::Deserialize;
use weir_filter_sdk::{
    Config, Decision, Filter, Phases, Request, Response, export_filter, respond,
};

#[derive(Deserialize)]
struct Deny {
    status: u16,
    body: String,
    unless_header: Option<String>,
}

impl Filter for Deny {
    fn new(config: Config) -> Result<Self, String> {
        config.deserialize()
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS | Phases::RESPONSE_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        let allowed = self
            .unless_header
            .as_deref()
            .is_some_and(|h| req.header(h).is_some());
        if allowed {
            Decision::Continue
        } else {
            respond(self.status).text(&self.body).into()
        }
    }

    fn on_response_headers(&mut self, req: &Request, _resp: &Response) -> Decision {
        if req.header("x-deny-response").is_some() {
            respond(418).text("replaced by filter").into()
        } else {
            Decision::Continue
        }
    }
}

export_filter!(Deny);
