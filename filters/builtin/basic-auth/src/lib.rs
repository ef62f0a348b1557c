//! `basic-auth`: HTTP Basic authentication (RFC 7617) against bcrypt or
//! argon2 password hashes, from the config or from weir secrets.
//!
//! A valid user and password let the request through with the user's name
//! in the context (`consumer`) and in a request header (`x-consumer`); the
//! `Authorization` header is removed before the upstream. Anything else gets
//! 401 with `WWW-Authenticate: Basic realm="…"`. Successful verifications
//! are cached briefly per instance (a hash verification costs tens of
//! milliseconds by design). See `docs/filters/basic-auth.md`.

mod cache;
mod credentials;
mod password;
mod settings;

use std::time::{Duration, Instant};

use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, context, export_filter, respond};

use crate::cache::VerifiedCache;
use crate::settings::BasicAuthConfig;

/// The context key later filters read the user's name from.
const CONSUMER_CONTEXT_KEY: &str = "consumer";

struct BasicAuth {
    config: BasicAuthConfig,
    cache: VerifiedCache,
}

impl Filter for BasicAuth {
    fn new(config: Config) -> Result<Self, String> {
        let config = BasicAuthConfig::load(&config)?;
        let cache = VerifiedCache::new(
            Duration::from_secs(config.cache_ttl_secs),
            config.cache_max_entries,
        )?;
        Ok(BasicAuth { config, cache })
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        // Only this filter may say who the consumer is.
        if let Some(header) = &self.config.consumer_header {
            req.remove_header(header);
        }
        let Some(user) = self.authenticate(req) else {
            // Missing, malformed, unknown user or wrong password: one answer.
            return respond(401)
                .header("www-authenticate", self.config.challenge.as_str())
                .text("unauthorized\n")
                .into();
        };
        let name = &self.config.users[user].name;
        if self.config.strip_authorization {
            req.remove_header("authorization");
        }
        context::set(CONSUMER_CONTEXT_KEY, name);
        if let Some(header) = &self.config.consumer_header {
            // Names are checked printable ASCII at load, so this cannot fail.
            let _ = req.set_header(header, name.as_bytes());
        }
        Decision::Continue
    }
}

impl BasicAuth {
    /// The index of the authenticated user.
    fn authenticate(&mut self, req: &Request) -> Option<usize> {
        let credentials = credentials::parse(&req.header_all("authorization"))?;
        let user = self
            .config
            .users
            .iter()
            .position(|u| u.name == credentials.user);
        let now = Instant::now();
        let key = self.cache.key(&credentials.user, &credentials.password);
        if let Some(cached) = self.cache.get(&key, now) {
            return Some(cached);
        }
        // An unknown user still costs a verification (against the first
        // user's hash), so response times do not tell which names exist.
        let hash = &self.config.users[user.unwrap_or(0)].hash;
        let verified = hash.verify(&credentials.password);
        let user = user.filter(|_| verified)?;
        self.cache.insert(key, user, now);
        Some(user)
    }
}

export_filter!(BasicAuth);
