//! Test keys, generated for each run (no private key is committed), and
//! token signing with native `jsonwebtoken`.

use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256, PKCS_ECDSA_P384_SHA384, PKCS_ED25519};
use rsa::pkcs1::EncodeRsaPrivateKey;
use rsa::pkcs8::{EncodePublicKey, LineEnding};
use serde_json::{Value, json};

/// The HMAC secret the gateway reads from a secret file (48 bytes).
pub const HMAC_SECRET: &[u8] = b"an-hmac-secret-for-jwt-auth-tests-0123456789abcd";

/// A signing key with everything a test hands to the gateway.
pub struct TestKey {
    pub algorithm: Algorithm,
    pub kid: String,
    pub encoding: EncodingKey,
    /// The public key as a PEM SPKI (not for HMAC).
    pub public_pem: String,
    /// The raw public key, for Ed25519 JWKs (jsonwebtoken makes the others).
    pub public_raw: Vec<u8>,
}

impl TestKey {
    /// Its public JWK, with `kid` (and `alg`).
    pub fn jwk(&self) -> Value {
        if self.algorithm == Algorithm::EdDSA {
            return json!({
                "kty": "OKP",
                "crv": "Ed25519",
                "alg": "EdDSA",
                "kid": self.kid,
                "x": URL_SAFE_NO_PAD.encode(&self.public_raw),
            });
        }
        let mut jwk = serde_json::to_value(
            Jwk::from_encoding_key(&self.encoding, self.algorithm).expect("public JWK"),
        )
        .unwrap();
        jwk["kid"] = json!(self.kid);
        jwk
    }

    /// Signs `claims` with this key and its `kid`.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(self.algorithm);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("signing")
    }

    /// Signs without a `kid` in the header.
    pub fn sign_without_kid(&self, claims: &Value) -> String {
        jsonwebtoken::encode(&Header::new(self.algorithm), claims, &self.encoding).expect("signing")
    }
}

/// A JWK Set of these keys' public halves.
pub fn jwks(keys: &[&TestKey]) -> Value {
    json!({ "keys": keys.iter().map(|k| k.jwk()).collect::<Vec<_>>() })
}

pub fn hmac(algorithm: Algorithm) -> TestKey {
    TestKey {
        algorithm,
        kid: "hmac".into(),
        encoding: EncodingKey::from_secret(HMAC_SECRET),
        public_pem: String::new(),
        public_raw: Vec::new(),
    }
}

/// RSA keys are slow to make: one per name and run.
pub fn rsa(algorithm: Algorithm, kid: &str) -> TestKey {
    static KEYS: OnceLock<std::sync::Mutex<Vec<(String, rsa::RsaPrivateKey)>>> = OnceLock::new();
    let keys = KEYS.get_or_init(Default::default);
    let private = {
        let mut keys = keys.lock().unwrap();
        match keys.iter().find(|(name, _)| name == kid) {
            Some((_, key)) => key.clone(),
            None => {
                let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).expect("RSA key");
                keys.push((kid.to_owned(), key.clone()));
                key
            }
        }
    };
    let pem = private.to_pkcs1_pem(LineEnding::LF).expect("PKCS#1 PEM");
    TestKey {
        algorithm,
        kid: kid.into(),
        encoding: EncodingKey::from_rsa_pem(pem.as_bytes()).expect("RSA encoding key"),
        public_pem: private
            .to_public_key()
            .to_public_key_pem(LineEnding::LF)
            .expect("SPKI PEM"),
        public_raw: Vec::new(),
    }
}

/// ECDSA (ES256, ES384) and EdDSA keys, through rcgen.
pub fn curve(algorithm: Algorithm, kid: &str) -> TestKey {
    let (rcgen_alg, encoding): (_, fn(&[u8]) -> _) = match algorithm {
        Algorithm::ES256 => (&PKCS_ECDSA_P256_SHA256, EncodingKey::from_ec_pem),
        Algorithm::ES384 => (&PKCS_ECDSA_P384_SHA384, EncodingKey::from_ec_pem),
        Algorithm::EdDSA => (&PKCS_ED25519, EncodingKey::from_ed_pem),
        other => panic!("{other:?} is not a curve algorithm"),
    };
    let pair = KeyPair::generate_for(rcgen_alg).expect("key pair");
    TestKey {
        algorithm,
        kid: kid.into(),
        encoding: encoding(pair.serialize_pem().as_bytes()).expect("encoding key"),
        public_pem: pair.public_key_pem(),
        public_raw: pair.public_key_raw().to_vec(),
    }
}
