//! Answers with the file at the path in the request's `x-file` header, read
//! through WASI from the filter's granted directory (404 when it cannot).

use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, export_filter, respond};

struct Files;

impl Filter for Files {
    fn new(_config: Config) -> Result<Self, String> {
        Ok(Files)
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        let path = req.header_str("x-file").unwrap_or_default();
        match std::fs::read(&path) {
            Ok(bytes) => respond(200).body(bytes).into(),
            Err(error) => respond(404).text(&error.to_string()).into(),
        }
    }
}

export_filter!(Files);
