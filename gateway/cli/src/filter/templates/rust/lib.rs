//! {{name}}: sets `x-{{name}}: <greeting>` on the request (the upstream sees
//! it) and on the response (the client sees it).

use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, Response, export_filter, log};

const HEADER: &str = "x-{{name}}";

struct {{class}} {
    greeting: String,
}

impl Filter for {{class}} {
    /// Called once per instance with the filter's `config`; an `Err` makes
    /// weir refuse the config (`weir check` shows it).
    fn new(config: Config) -> Result<Self, String> {
        Ok({{class}} {
            greeting: config.string("greeting")?,
        })
    }

    /// weir calls only these phases.
    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS | Phases::RESPONSE_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        if let Err(error) = req.set_header(HEADER, self.greeting.as_bytes()) {
            log::warn(&format!("cannot set {HEADER}: {error}"));
        }
        Decision::Continue
    }

    fn on_response_headers(&mut self, _req: &Request, resp: &Response) -> Decision {
        let _ = resp.set_header(HEADER, self.greeting.as_bytes());
        Decision::Continue
    }
}

export_filter!({{class}});
