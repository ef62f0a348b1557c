//! Appends its `name` to `x-chain` on the request and to `x-chain-resp` on the
//! response, so tests can see the order filters ran in.

use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, Response, export_filter};

struct Tag {
    name: String,
}

impl Filter for Tag {
    fn new(config: Config) -> Result<Self, String> {
        Ok(Tag {
            name: config.string("name")?,
        })
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS | Phases::RESPONSE_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        req.append_header("x-chain", self.name.as_bytes())
            .expect("a valid header");
        Decision::Continue
    }

    fn on_response_headers(&mut self, _req: &Request, resp: &Response) -> Decision {
        resp.append_header("x-chain-resp", self.name.as_bytes())
            .expect("a valid header");
        Decision::Continue
    }
}

export_filter!(Tag);
