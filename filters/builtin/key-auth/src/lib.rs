//! `key-auth`: API keys mapped to named consumers.
//!
//! The key comes from a header (`x-api-key`) or a query parameter; keys are
//! configured per consumer, in the config (plain or as `sha256:<hex>`) or in
//! weir secrets, and kept only as SHA-256 hashes. A known key lets the
//! request through with the consumer's name in the context (`consumer`) and
//! in a request header (`x-consumer`); a missing or unknown key gets 401
//! with a `WWW-Authenticate` challenge and nothing more. The key itself is
//! removed before the request goes upstream. See `docs/filters/key-auth.md`.

mod credential;
mod keyring;
mod settings;

use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, context, export_filter, respond};

use crate::credential::Presented;
use crate::settings::KeyAuthConfig;

/// The context key later filters read the consumer's name from.
const CONSUMER_CONTEXT_KEY: &str = "consumer";

struct KeyAuth(KeyAuthConfig);

impl Filter for KeyAuth {
    fn new(config: Config) -> Result<Self, String> {
        KeyAuthConfig::load(&config).map(KeyAuth)
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        let config = &self.0;
        // Only this filter may say who the consumer is.
        if let Some(header) = &config.consumer_header {
            req.remove_header(header);
        }
        let consumer = match config.location.presented(req) {
            Presented::Key(key) => config.keyring.find(&key),
            Presented::Missing | Presented::Ambiguous => None,
        };
        let Some(consumer) = consumer else {
            // The same answer for a missing, unknown or doubled key.
            return respond(401)
                .header("www-authenticate", config.challenge.as_str())
                .text("unauthorized\n")
                .into();
        };
        if config.strip_key {
            config.location.strip(req);
        }
        context::set(CONSUMER_CONTEXT_KEY, consumer);
        if let Some(header) = &config.consumer_header {
            // Names are checked printable ASCII at load, so this cannot fail.
            let _ = req.set_header(header, consumer.as_bytes());
        }
        Decision::Continue
    }
}

export_filter!(KeyAuth);
