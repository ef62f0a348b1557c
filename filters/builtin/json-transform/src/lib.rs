//! `json-transform`: adds, removes, renames and redacts fields of JSON
//! request and response bodies, addressed by JSON Pointer (RFC 6901).
//!
//! ```yaml
//! filters:
//!   json:
//!     module: filters/target/wasm32-wasip2/release/json_transform.wasm
//!     config:
//!       request:
//!         remove: [/debug]
//!         add: { /meta/source: weir }
//!       response:
//!         redact: [/user/email]
//!         rename: { /user/id: /user/user_id }
//!       create_parents: true
//!       on_invalid_json: reject
//! ```
//!
//! Only bodies whose content type is JSON are touched. See
//! docs/filters/json-transform.md for every field, the body cap and what
//! happens to invalid JSON.

mod config;
mod content_type;
mod edits;
mod node;
mod parse;
mod pointer;
mod scan;
#[cfg(test)]
mod tests;
mod write;

use serde_json::json;
use weir_filter_sdk::{
    Config, Filter, Phases, Request, RequestBodyDecision, Response, ResponseBodyDecision,
    export_filter, log, respond,
};

use config::{Checked, OnInvalidJson, Settings};
use edits::Edits;

struct JsonTransform {
    config: Checked,
}

/// What became of a body.
enum Outcome {
    /// Not JSON by its content type, empty, or nothing to change.
    Unchanged,
    Edited(Vec<u8>),
    Invalid(serde_json::Error),
}

fn transform(edits: &Edits, content_type: Option<Vec<u8>>, body: &[u8]) -> Outcome {
    if body.is_empty() || !content_type::is_json(content_type.as_deref()) {
        return Outcome::Unchanged;
    }
    match edits.edit(body, &mut |skip| log::debug(&skip)) {
        Ok(Some(edited)) => Outcome::Edited(edited),
        Ok(None) => Outcome::Unchanged,
        Err(e) => Outcome::Invalid(e),
    }
}

impl Filter for JsonTransform {
    fn new(config: Config) -> Result<Self, String> {
        Ok(JsonTransform {
            config: config.deserialize::<Settings>()?.check()?,
        })
    }

    fn phases(&self) -> Phases {
        let mut phases = Phases::empty();
        if !self.config.request.is_empty() {
            phases |= Phases::REQUEST_BODY;
        }
        if !self.config.response.is_empty() {
            phases |= Phases::RESPONSE_BODY;
        }
        phases
    }

    fn on_request_body(&mut self, req: &Request, body: Vec<u8>) -> RequestBodyDecision {
        match transform(&self.config.request, req.header("content-type"), &body) {
            Outcome::Unchanged => RequestBodyDecision::Continue,
            Outcome::Edited(body) => RequestBodyDecision::Replace(body),
            Outcome::Invalid(e) if self.config.on_invalid_json == OnInvalidJson::Reject => {
                log::debug(&format!("request body rejected: not valid JSON: {e}"));
                respond(400)
                    .json(&json!({ "error": "request body is not valid JSON" }))
                    .into()
            }
            Outcome::Invalid(e) => {
                log::debug(&format!(
                    "request body passed on unedited: not valid JSON: {e}"
                ));
                RequestBodyDecision::Continue
            }
        }
    }

    fn on_response_body(
        &mut self,
        _req: &Request,
        resp: &Response,
        body: Vec<u8>,
    ) -> ResponseBodyDecision {
        match transform(&self.config.response, resp.header("content-type"), &body) {
            Outcome::Edited(body) => ResponseBodyDecision::Replace(body),
            // The status went out already: invalid JSON can only pass.
            Outcome::Invalid(e) => {
                log::debug(&format!(
                    "response body passed on unedited: not valid JSON: {e}"
                ));
                ResponseBodyDecision::Continue
            }
            Outcome::Unchanged => ResponseBodyDecision::Continue,
        }
    }
}

export_filter!(JsonTransform);
