//! Verification keys and the rules that bind each one to an algorithm
//! family. A key is never used outside its family: an RSA public key can
//! never become an HMAC secret (the classic HS256/RS256 confusion), whatever
//! a token's header says.

use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::Value;

/// A token without a `kid` is tried against at most this many keys, so a
/// large key set cannot turn one request into many signature checks.
const MAX_KEYS_TRIED: usize = 4;

/// The broad kind of a key, which decides the algorithms it may verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    Hmac,
    Rsa,
    Ec,
    Ed,
}

impl Family {
    pub fn name(self) -> &'static str {
        match self {
            Family::Hmac => "HMAC",
            Family::Rsa => "RSA",
            Family::Ec => "EC",
            Family::Ed => "Ed25519",
        }
    }

    pub fn of(algorithm: Algorithm) -> Family {
        match algorithm {
            Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => Family::Hmac,
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => Family::Rsa,
            Algorithm::ES256 | Algorithm::ES384 => Family::Ec,
            Algorithm::EdDSA => Family::Ed,
        }
    }
}

/// One public key (or HMAC secret) and what it may verify.
pub struct VerificationKey {
    /// Matched against the token's `kid`; a key without one matches any token.
    pub kid: Option<String>,
    pub family: Family,
    /// Set when the key itself names its algorithm (a JWK's `alg`, an EC
    /// key's curve): then only that algorithm.
    pub only: Option<Algorithm>,
    pub key: DecodingKey,
}

impl VerificationKey {
    fn accepts(&self, algorithm: Algorithm, kid: Option<&str>) -> bool {
        Family::of(algorithm) == self.family
            && self.only.is_none_or(|only| only == algorithm)
            && match (&self.kid, kid) {
                (Some(mine), Some(theirs)) => mine == theirs,
                _ => true,
            }
    }
}

/// The keys of one provider.
#[derive(Default)]
pub struct KeySet {
    keys: Vec<VerificationKey>,
}

impl KeySet {
    /// An HMAC secret.
    pub fn secret(bytes: Vec<u8>) -> KeySet {
        KeySet {
            keys: vec![VerificationKey {
                kid: None,
                family: Family::Hmac,
                only: None,
                key: DecodingKey::from_secret(&bytes),
            }],
        }
    }

    /// A PEM public key: RSA (SPKI or PKCS#1), EC or Ed25519 (SPKI). The PEM
    /// decoder reads the key type from the key itself.
    pub fn pem(pem: &[u8]) -> Result<KeySet, String> {
        let (key, family) = if let Ok(key) = DecodingKey::from_rsa_pem(pem) {
            (key, Family::Rsa)
        } else if let Ok(key) = DecodingKey::from_ec_pem(pem) {
            (key, Family::Ec)
        } else if let Ok(key) = DecodingKey::from_ed_pem(pem) {
            (key, Family::Ed)
        } else {
            return Err("not a PEM RSA, EC or Ed25519 public key".into());
        };
        Ok(KeySet {
            keys: vec![VerificationKey {
                kid: None,
                family,
                only: None,
                key,
            }],
        })
    }

    /// One inline JWK.
    pub fn jwk(value: &Value) -> Result<KeySet, String> {
        let jwk: Jwk =
            serde_json::from_value(value.clone()).map_err(|e| format!("not a JWK: {e}"))?;
        Ok(KeySet {
            keys: vec![public_key(&jwk)?],
        })
    }

    /// A JWK Set. With `strict`, any unusable key is an error (inline sets
    /// are checked when the config loads); otherwise such keys are skipped
    /// and named in the second result (a fetched set may hold keys for other
    /// uses, e.g. encryption).
    pub fn jwks(value: &Value, strict: bool) -> Result<(KeySet, Vec<String>), String> {
        let set: JwkSet =
            serde_json::from_value(value.clone()).map_err(|e| format!("not a JWK Set: {e}"))?;
        let mut keys = Vec::new();
        let mut skipped = Vec::new();
        for (index, jwk) in set.keys.iter().enumerate() {
            match public_key(jwk) {
                Ok(key) => keys.push(key),
                Err(reason) if strict => return Err(format!("key {index}: {reason}")),
                Err(reason) => skipped.push(format!("key {index}: {reason}")),
            }
        }
        if keys.is_empty() {
            return Err("the JWK Set has no usable signature key".into());
        }
        Ok((KeySet { keys }, skipped))
    }

    pub fn families(&self) -> impl Iterator<Item = Family> + '_ {
        self.keys.iter().map(|k| k.family)
    }

    /// The keys that may verify a token with this `alg` and `kid`, at most
    /// [`MAX_KEYS_TRIED`] of them.
    pub fn candidates<'a>(
        &'a self,
        algorithm: Algorithm,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = &'a VerificationKey> + 'a {
        self.keys
            .iter()
            .filter(move |k| k.accepts(algorithm, kid))
            .take(MAX_KEYS_TRIED)
    }
}

/// A JWK as a verification key, if it is a public signature key this filter
/// can use. Symmetric (`oct`) JWKs are refused: an HMAC secret belongs in a
/// weir secret, not in a config file or behind a URL.
fn public_key(jwk: &Jwk) -> Result<VerificationKey, String> {
    if let Some(usage) = &jwk.common.public_key_use
        && *usage != PublicKeyUse::Signature
    {
        return Err("its \"use\" is not \"sig\"".into());
    }
    let (family, curve_algorithm) = match &jwk.algorithm {
        AlgorithmParameters::RSA(_) => (Family::Rsa, None),
        AlgorithmParameters::EllipticCurve(params) => match params.curve {
            EllipticCurve::P256 => (Family::Ec, Some(Algorithm::ES256)),
            EllipticCurve::P384 => (Family::Ec, Some(Algorithm::ES384)),
            _ => return Err("unsupported EC curve (P-256 and P-384 are)".into()),
        },
        AlgorithmParameters::OctetKeyPair(params) => match params.curve {
            EllipticCurve::Ed25519 => (Family::Ed, Some(Algorithm::EdDSA)),
            _ => return Err("unsupported OKP curve (Ed25519 is)".into()),
        },
        AlgorithmParameters::OctetKey(_) => {
            return Err("symmetric (\"oct\") keys are refused: use a `secret` key source".into());
        }
    };
    let named = match &jwk.common.key_algorithm {
        None => None,
        Some(named) => {
            let algorithm: Algorithm = named
                .to_string()
                .parse()
                .map_err(|_| format!("its \"alg\" {named} is not a signature algorithm"))?;
            if Family::of(algorithm) != family || curve_algorithm.is_some_and(|c| c != algorithm) {
                return Err(format!("its \"alg\" {named} does not fit its key type"));
            }
            Some(algorithm)
        }
    };
    let key = DecodingKey::from_jwk(jwk).map_err(|e| format!("invalid key: {e}"))?;
    Ok(VerificationKey {
        kid: jwk.common.key_id.clone(),
        family,
        only: named.or(curve_algorithm),
        key,
    })
}
