//! Puts each `values` entry of its config into the per-request context, as
//! an auth filter would put a claim there. The built-in filters' tests use
//! it to feed context values a client could never send in a header.

use std::collections::BTreeMap;

use serde::Deserialize;
use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, context, export_filter};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SetContext {
    values: BTreeMap<String, String>,
}

impl Filter for SetContext {
    fn new(config: Config) -> Result<Self, String> {
        config.deserialize()
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS
    }

    fn on_request_headers(&mut self, _req: &Request) -> Decision {
        for (key, value) in &self.values {
            context::set(key, value);
        }
        Decision::Continue
    }
}

export_filter!(SetContext);
