//! One token issuer: its `iss`, audiences, allowed algorithms and keys, and
//! the verification of a token against them.

use std::time::Duration;

use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Header, Validation};
use serde_json::{Map, Value};
use weir_filter_sdk::secrets;

use crate::jwks::RemoteKeys;
use crate::keys::{Family, KeySet};
use crate::settings::{KeySource, ProviderSettings};

/// HMAC keys shorter than the smallest hash output are refused (RFC 7518 §3.2).
const MIN_SECRET_BYTES: usize = 32;

/// What came of verifying a token.
pub enum Verdict {
    Valid(Map<String, Value>),
    /// The token is refused; the reason is for the log only.
    Invalid(String),
    /// No key was ever obtained for this provider (its JWKS URL never answered).
    KeysUnavailable,
}

/// Claim checks shared by every provider of a filter.
pub struct ClaimRules {
    pub leeway: Duration,
    pub require_exp: bool,
}

pub struct Provider {
    pub issuer: String,
    /// One `Validation` per allowed algorithm: jsonwebtoken checks that
    /// every algorithm of a `Validation` fits the key's family, so each
    /// holds exactly the token's algorithm.
    validations: Vec<(Algorithm, Validation)>,
    keys: Keys,
}

enum Keys {
    Fixed(KeySet),
    Remote(RemoteKeys),
}

impl Provider {
    pub fn new(settings: ProviderSettings, rules: &ClaimRules) -> Result<Provider, String> {
        if settings.issuer.is_empty() {
            return Err("issuer must not be empty".into());
        }
        if settings.audiences.is_empty() || settings.audiences.iter().any(String::is_empty) {
            return Err("audiences must list at least one non-empty audience".into());
        }
        let algorithms = parse_algorithms(&settings.algorithms)?;
        let keys = match settings.keys {
            KeySource::Secret(name) => {
                let secret = secrets::get(&name)
                    .map_err(|e| format!("keys.secret: {e} (add it to grants.secrets)"))?;
                if secret.len() < MIN_SECRET_BYTES {
                    return Err(format!(
                        "keys.secret: secret {name:?} has {} bytes; HMAC keys need at least {MIN_SECRET_BYTES}",
                        secret.len()
                    ));
                }
                Keys::Fixed(KeySet::secret(secret))
            }
            KeySource::PemFile(path) => {
                let pem = std::fs::read(&path).map_err(|e| {
                    format!("keys.pem_file: cannot read {path:?}: {e} (is it under grants.files' mount?)")
                })?;
                Keys::Fixed(KeySet::pem(&pem).map_err(|e| format!("keys.pem_file {path:?}: {e}"))?)
            }
            KeySource::Jwk(value) => {
                Keys::Fixed(KeySet::jwk(&value).map_err(|e| format!("keys.jwk: {e}"))?)
            }
            KeySource::Jwks(value) => Keys::Fixed(
                KeySet::jwks(&value, true)
                    .map(|(set, _)| set)
                    .map_err(|e| format!("keys.jwks: {e}"))?,
            ),
            KeySource::JwksUrl(url) => Keys::Remote(RemoteKeys::new(url)?),
        };
        check_algorithms_fit_keys(&algorithms, &keys)?;
        let validations = algorithms
            .into_iter()
            .map(|algorithm| {
                (
                    algorithm,
                    validation(algorithm, &settings.issuer, &settings.audiences, rules),
                )
            })
            .collect();
        Ok(Provider {
            issuer: settings.issuer,
            validations,
            keys,
        })
    }

    /// Changes whenever this provider's keys may have changed.
    pub fn key_generation(&self) -> u64 {
        match &self.keys {
            Keys::Fixed(_) => 0,
            Keys::Remote(remote) => remote.generation(),
        }
    }

    pub fn verify(&mut self, token: &str, header: &Header) -> Verdict {
        let Some((_, validation)) = self.validations.iter().find(|(a, _)| *a == header.alg) else {
            return Verdict::Invalid(format!(
                "algorithm {:?} is not allowed for issuer {:?}",
                header.alg, self.issuer
            ));
        };
        let kid = header.kid.as_deref();
        match &mut self.keys {
            Keys::Fixed(set) => {
                try_keys(set, token, header.alg, kid, validation).unwrap_or_else(no_key)
            }
            Keys::Remote(remote) => {
                let Some(set) = remote.current() else {
                    return Verdict::KeysUnavailable;
                };
                if let Some(verdict) = try_keys(set, token, header.alg, kid, validation) {
                    return verdict;
                }
                if kid.is_some() && remote.refetch_for_unknown_kid() {
                    let set = remote.current().expect("a successful fetch leaves keys");
                    if let Some(verdict) = try_keys(set, token, header.alg, kid, validation) {
                        return verdict;
                    }
                }
                no_key()
            }
        }
    }
}

fn no_key() -> Verdict {
    Verdict::Invalid("no key fits the token's alg and kid".into())
}

/// Tries the keys that fit the token; None if no key fits at all.
fn try_keys(
    set: &KeySet,
    token: &str,
    algorithm: Algorithm,
    kid: Option<&str>,
    validation: &Validation,
) -> Option<Verdict> {
    let mut tried = false;
    for candidate in set.candidates(algorithm, kid) {
        tried = true;
        match jsonwebtoken::decode::<Map<String, Value>>(token, &candidate.key, validation) {
            Ok(data) => return Some(Verdict::Valid(data.claims)),
            // Another key of the set may have signed it.
            Err(e) if matches!(e.kind(), ErrorKind::InvalidSignature) => continue,
            // The signature held (it is checked first); a claim did not.
            Err(e) => return Some(Verdict::Invalid(e.to_string())),
        }
    }
    tried.then(|| Verdict::Invalid("bad signature".into()))
}

fn validation(
    algorithm: Algorithm,
    issuer: &str,
    audiences: &[String],
    rules: &ClaimRules,
) -> Validation {
    let mut validation = Validation::new(algorithm);
    validation.set_issuer(&[issuer]);
    validation.set_audience(audiences);
    validation.leeway = rules.leeway.as_secs();
    validation.validate_exp = true;
    validation.validate_nbf = true;
    let mut required = vec!["iss", "aud"];
    if rules.require_exp {
        required.push("exp");
    }
    validation.set_required_spec_claims(&required);
    validation
}

fn parse_algorithms(names: &[String]) -> Result<Vec<Algorithm>, String> {
    if names.is_empty() {
        return Err("algorithms must list at least one algorithm, e.g. [RS256]".into());
    }
    let mut algorithms = Vec::with_capacity(names.len());
    for name in names {
        if name.eq_ignore_ascii_case("none") {
            return Err("algorithm \"none\" is never accepted".into());
        }
        let algorithm: Algorithm = name.parse().map_err(|_| {
            format!(
                "unknown algorithm {name:?}: expected HS256, HS384, HS512, RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384 or EdDSA"
            )
        })?;
        if !algorithms.contains(&algorithm) {
            algorithms.push(algorithm);
        }
    }
    Ok(algorithms)
}

/// Every allowed algorithm needs a key of its family, and HMAC only ever
/// comes from a secret: this makes HS/RS confusion a config error as well
/// as impossible at run time.
fn check_algorithms_fit_keys(algorithms: &[Algorithm], keys: &Keys) -> Result<(), String> {
    for &algorithm in algorithms {
        let family = Family::of(algorithm);
        let fits = match keys {
            Keys::Fixed(set) => set.families().any(|f| f == family),
            Keys::Remote(_) => family != Family::Hmac,
        };
        if !fits {
            return Err(if family == Family::Hmac {
                format!("algorithm {algorithm:?} needs a `secret` key source")
            } else {
                format!(
                    "algorithm {algorithm:?} has no {} key in this provider's keys",
                    family.name()
                )
            });
        }
    }
    Ok(())
}
