//! Upper-cases the request body (or, with `x-body-respond`, answers 422 with
//! its length) and wraps the response body in `prefix` and `suffix`.

use serde::Deserialize;
use weir_filter_sdk::{
    Config, Filter, Phases, Request, RequestBodyDecision, Response, ResponseBodyDecision,
    export_filter, respond,
};

#[derive(Deserialize, Default)]
#[serde(default)]
struct Body {
    prefix: String,
    suffix: String,
}

impl Filter for Body {
    fn new(config: Config) -> Result<Self, String> {
        if config.value().is_null() {
            Ok(Body::default())
        } else {
            config.deserialize()
        }
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_BODY | Phases::RESPONSE_HEADERS | Phases::RESPONSE_BODY
    }

    fn on_request_body(&mut self, req: &Request, body: Vec<u8>) -> RequestBodyDecision {
        if req.header("x-body-respond").is_some() {
            return respond(422)
                .text(&format!("got {} bytes", body.len()))
                .into();
        }
        RequestBodyDecision::Replace(body.to_ascii_uppercase())
    }

    fn on_response_body(
        &mut self,
        _req: &Request,
        _resp: &Response,
        body: Vec<u8>,
    ) -> ResponseBodyDecision {
        let mut out = self.prefix.as_bytes().to_vec();
        out.extend_from_slice(&body);
        out.extend_from_slice(self.suffix.as_bytes());
        ResponseBodyDecision::Replace(out)
    }
}

export_filter!(Body);
