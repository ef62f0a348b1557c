//! `jwt-auth`: verifies a JSON Web Token on every request and forwards
//! chosen claims to the upstream and to later filters.
//!
//! A token's unverified `iss` only picks the provider; the signature is then
//! checked with that provider's keys alone, each key bound to its algorithm
//! family, and `iss`, `aud`, `exp` and `nbf` are validated by jsonwebtoken.
//! The signature itself is computed by weir natively (`host_crypto`). See
//! `docs/filters/jwt-auth.md`.

mod cache;
mod challenge;
mod forward;
mod host_crypto;
mod jwks;
mod keys;
mod provider;
mod settings;
mod token;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use weir_filter_sdk::{Config, Decision, Filter, Phases, Request, export_filter, log};

use crate::cache::VerifiedTokens;
use crate::forward::Forwarding;
use crate::provider::{ClaimRules, Provider, Verdict};
use crate::settings::{Settings, TokenSource};

struct JwtAuth {
    providers: Vec<Provider>,
    sources: Vec<TokenSource>,
    forwarding: Forwarding,
    realm: String,
    max_token_bytes: usize,
    verified: VerifiedTokens,
}

impl Filter for JwtAuth {
    fn new(config: Config) -> Result<Self, String> {
        let settings: Settings = config.deserialize()?;
        host_crypto::install();
        if settings.providers.is_empty() {
            return Err("providers must list at least one provider".into());
        }
        if settings.tokens.is_empty() {
            return Err("tokens must list at least one place to look for the token".into());
        }
        if settings
            .realm
            .chars()
            .any(|c| c == '"' || c == '\\' || c.is_control())
        {
            return Err("realm must not contain quotes, backslashes or control characters".into());
        }
        if settings.leeway.subsec_nanos() != 0 {
            return Err("leeway must be whole seconds".into());
        }
        let rules = ClaimRules {
            leeway: settings.leeway,
            require_exp: settings.require_exp,
        };
        let mut providers: Vec<Provider> = Vec::with_capacity(settings.providers.len());
        for (index, provider) in settings.providers.into_iter().enumerate() {
            let provider =
                Provider::new(provider, &rules).map_err(|e| format!("providers[{index}]: {e}"))?;
            if providers.iter().any(|p| p.issuer == provider.issuer) {
                return Err(format!(
                    "providers[{index}]: issuer {:?} is listed twice",
                    provider.issuer
                ));
            }
            providers.push(provider);
        }
        Ok(JwtAuth {
            providers,
            sources: settings.tokens,
            forwarding: Forwarding::new(settings.forward)?,
            realm: settings.realm,
            max_token_bytes: settings.max_token_bytes,
            verified: VerifiedTokens::new(
                settings.cache.max_entries,
                settings.cache.ttl,
                settings.leeway,
            ),
        })
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        let Some(token) = token::find(req, &self.sources) else {
            return challenge::missing_token(&self.realm);
        };
        let now = unix_now();
        if let Some(claims) = self.verified.get(&token, now) {
            self.forwarding.apply(req, claims);
            return Decision::Continue;
        }
        let verdict = self.verify(&token);
        // Verifying may have fetched new keys: cached tokens are checked again.
        self.verified
            .keys_are(self.providers.iter().map(Provider::key_generation).sum());
        match verdict {
            Verdict::Valid(claims) => {
                self.forwarding.apply(req, &claims);
                self.verified.insert(&token, &claims, now);
                Decision::Continue
            }
            Verdict::Invalid(reason) => {
                log::info(&format!("token refused: {reason}"));
                challenge::invalid_token(&self.realm)
            }
            Verdict::KeysUnavailable => {
                log::warn("token not checked: no verification key could be fetched yet");
                challenge::keys_unavailable()
            }
        }
    }
}

impl JwtAuth {
    fn verify(&mut self, token: &str) -> Verdict {
        if token.len() > self.max_token_bytes {
            return Verdict::Invalid(format!("token over {} bytes", self.max_token_bytes));
        }
        if token.split('.').count() != 3 {
            return Verdict::Invalid("not three dot-separated segments".into());
        }
        // `alg: none` and unknown algorithms fail here: jsonwebtoken's
        // `Algorithm` has no `none`.
        let header = match jsonwebtoken::decode_header(token) {
            Ok(header) => header,
            Err(e) => return Verdict::Invalid(format!("unreadable header: {e}")),
        };
        // With one provider there is nothing to pick: its own validation
        // checks `iss`, and the payload is parsed once instead of twice.
        if let [provider] = self.providers.as_mut_slice() {
            return provider.verify(token, &header);
        }
        let issuer = match unverified_issuer(token) {
            Ok(issuer) => issuer,
            Err(reason) => return Verdict::Invalid(reason),
        };
        match self.providers.iter_mut().find(|p| p.issuer == issuer) {
            Some(provider) => provider.verify(token, &header),
            None => Verdict::Invalid(format!("no provider for issuer {issuer:?}")),
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The `iss` of a token whose signature is not checked yet: used only to
/// pick the provider whose keys then verify it.
fn unverified_issuer(token: &str) -> Result<String, String> {
    #[derive(Deserialize)]
    struct Issuer {
        iss: Option<String>,
    }
    let payload = token.split('.').nth(1).unwrap_or_default();
    let json = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|e| format!("payload is not base64url: {e}"))?;
    let claims: Issuer =
        serde_json::from_slice(&json).map_err(|e| format!("payload is not a JSON object: {e}"))?;
    claims.iss.ok_or_else(|| "no iss claim".into())
}

export_filter!(JwtAuth);
