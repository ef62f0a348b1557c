//! `mode: set`: copies request header `from_header` into the context bag under
//! `key`. `mode: get`: reads `key` from the bag (or `<none>`) and sets it as
//! `to_header` on the request and on the response.

use serde::Deserialize;
use weir_filter_sdk::{
    Config, Decision, Filter, Phases, Request, Response, context, export_filter,
};

#[derive(Deserialize)]
struct Settings {
    mode: String,
    key: String,
    from_header: Option<String>,
    to_header: Option<String>,
}

struct ContextFilter {
    settings: Settings,
    /// What this request read, for its response phase.
    seen: Option<String>,
}

impl Filter for ContextFilter {
    fn new(config: Config) -> Result<Self, String> {
        let settings: Settings = config.deserialize()?;
        match settings.mode.as_str() {
            "set" if settings.from_header.is_some() => {}
            "get" if settings.to_header.is_some() => {}
            _ => return Err("mode set needs from_header; mode get needs to_header".into()),
        }
        Ok(ContextFilter {
            settings,
            seen: None,
        })
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS | Phases::RESPONSE_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        // Instances serve many requests: forget the previous one.
        self.seen = None;
        let s = &self.settings;
        if s.mode == "set" {
            if let Some(value) = s.from_header.as_deref().and_then(|h| req.header_str(h)) {
                context::set(&s.key, &value);
            }
        } else {
            let value = context::get(&s.key).unwrap_or_else(|| "<none>".into());
            let header = s.to_header.as_deref().expect("checked in new");
            req.set_header(header, value.as_bytes())
                .expect("a valid header");
            self.seen = Some(value);
        }
        Decision::Continue
    }

    fn on_response_headers(&mut self, _req: &Request, resp: &Response) -> Decision {
        if let (Some(header), Some(value)) =
            (self.settings.to_header.as_deref(), self.seen.as_deref())
        {
            resp.set_header(header, value.as_bytes())
                .expect("a valid header");
        }
        Decision::Continue
    }
}

export_filter!(ContextFilter);
