//! Answers with the value of the secret named in the request's `x-secret`
//! header (200), or with weir's refusal (403).

use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, export_filter, respond, secrets};

struct SecretProbe;

impl Filter for SecretProbe {
    fn new(_config: Config) -> Result<Self, String> {
        Ok(SecretProbe)
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        let name = req.header_str("x-secret").unwrap_or_default();
        match secrets::get(&name) {
            Ok(value) => respond(200).body(value).into(),
            Err(error) => respond(403).text(&error).into(),
        }
    }
}

export_filter!(SecretProbe);
