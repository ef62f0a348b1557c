//! `rewrite`: rewrites the path and query a request is sent upstream with,
//! or answers it with a redirect. Rules run in order, each on the result of
//! the ones before; the first matching redirect answers.
//!
//! ```yaml
//! filters:
//!   rewrite:
//!     module: filters/target/wasm32-wasip2/release/rewrite.wasm
//!     config:
//!       rules:
//!         - redirect: { pattern: "^/old/(.*)$", location: "/new/$1", status: 301 }
//!         - prefix: { from: /api/v1, to: /v1 }
//!         - regex: { pattern: "^/v1/users/(?P<id>[0-9]+)$", replacement: "/v1/user?id=${id}" }
//!         - query: { set: { source: weir }, remove: [debug] }
//! ```
//!
//! See docs/filters/rewrite.md for every field and how this differs from a
//! route's `strip_prefix`.

mod config;
mod query;
mod replacement;
mod rules;

use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, export_filter};

use config::Settings;
use rules::{Rule, Target};

struct Rewrite {
    rules: Vec<Rule>,
}

impl Filter for Rewrite {
    fn new(config: Config) -> Result<Self, String> {
        let rules = config.deserialize::<Settings>()?.compile()?;
        Ok(Rewrite { rules })
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        let original = Target {
            path: req.path(),
            query: req.query(),
        };
        let mut target = Target {
            path: original.path.clone(),
            query: original.query.clone(),
        };
        if let Some(redirect) = rules::run(&self.rules, &mut target) {
            return redirect;
        }
        rules::write_back(req, &original, target);
        Decision::Continue
    }
}

export_filter!(Rewrite);
