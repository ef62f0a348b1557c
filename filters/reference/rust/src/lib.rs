//! The reference filter (see `../README.md`), in Rust.

use weir_filter_sdk::kv::Store;
use weir_filter_sdk::{
    Config, Decision, Filter, LogInfo, Phases, Request, RequestBodyDecision, Response,
    ResponseBodyDecision, context, export_filter, log, respond,
};

const LANG: &str = "rust";

struct Reference {
    store: Store,
}

impl Filter for Reference {
    fn new(config: Config) -> Result<Self, String> {
        let store = config.string("store")?;
        Ok(Reference {
            store: Store::open(&store).map_err(|e| e.to_string())?,
        })
    }

    fn phases(&self) -> Phases {
        Phases::all()
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        if req.header_str("x-ref-deny").as_deref() == Some("yes") {
            return respond(403)
                .header("content-type", b"text/plain")
                .header("x-ref-denied", b"yes")
                .body(b"denied by the reference filter")
                .into();
        }
        let name = req
            .header_str("x-ref-name")
            .unwrap_or_else(|| "anonymous".into());
        let _ = req.set_header("x-ref-greeting", format!("hello, {name}").as_bytes());
        context::set("ref-name", &name);
        match self.store.increment(&format!("hits:{name}"), 1, None) {
            Ok(count) => context::set("ref-count", &count.to_string()),
            Err(error) => {
                context::set("ref-count", "unavailable");
                log::warn(&format!("not counted: {error}"));
            }
        }
        Decision::Continue
    }

    fn on_request_body(&mut self, req: &Request, body: Vec<u8>) -> RequestBodyDecision {
        if req.header_str("x-ref-upper").as_deref() == Some("yes") {
            return RequestBodyDecision::Replace(body.to_ascii_uppercase());
        }
        RequestBodyDecision::Continue
    }

    fn on_response_headers(&mut self, _req: &Request, resp: &Response) -> Decision {
        let _ = resp.set_header("x-ref-lang", LANG.as_bytes());
        for (key, header) in [("ref-name", "x-ref-name"), ("ref-count", "x-ref-count")] {
            if let Some(value) = context::get(key) {
                let _ = resp.set_header(header, value.as_bytes());
            }
        }
        Decision::Continue
    }

    fn on_response_body(
        &mut self,
        req: &Request,
        _resp: &Response,
        body: Vec<u8>,
    ) -> ResponseBodyDecision {
        if req.header_str("x-ref-wrap").as_deref() != Some("yes") {
            return ResponseBodyDecision::Continue;
        }
        let name = context::get("ref-name").unwrap_or_else(|| "-".into());
        let mut out = format!("[{LANG}:{name}]").into_bytes();
        out.extend_from_slice(&body);
        out.extend_from_slice(format!("[/{LANG}]").as_bytes());
        ResponseBodyDecision::Replace(out)
    }

    fn on_log(&mut self, req: &Request, _resp: &Response, info: &LogInfo) {
        log::info(&format!(
            "reference: {} {} -> {}",
            req.method(),
            req.path(),
            info.status
        ));
    }
}

export_filter!(Reference);
