//! Fetches the URL in the request's `x-fetch-url` header through outbound
//! HTTP and answers with the response's status in `x-fetch-status` and its
//! body; a failed fetch answers 502 with the error, a denied one 403.

use weir_filter_sdk::outbound::{self, OutboundError};
use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, export_filter, respond};

struct Fetch;

impl Filter for Fetch {
    fn new(_config: Config) -> Result<Self, String> {
        Ok(Fetch)
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        let url = req.header_str("x-fetch-url").unwrap_or_default();
        match outbound::Request::get(&url)
            .header("x-from-filter", "test-fetch")
            .send()
        {
            Ok(resp) => respond(200)
                .header("x-fetch-status", resp.status.to_string())
                .body(resp.body)
                .into(),
            Err(OutboundError::Denied) => respond(403).text("denied").into(),
            Err(error) => respond(502).text(&error.to_string()).into(),
        }
    }
}

export_filter!(Fetch);
