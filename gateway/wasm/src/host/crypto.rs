//! `weir:filter/crypto`: signature verification computed natively (with
//! `ring`) for filters that check signed tokens. Inside Wasm, RSA is several
//! times slower than native code (no 64x64->128-bit multiply; see
//! `benches/jwt_verify.rs`), so the jwt-auth filter verifies through this.
//! A pure function of its arguments: no grant, no state, nothing to leak.

use ring::hmac;
use ring::signature::{
    self, RsaParameters, RsaPublicKeyComponents, UnparsedPublicKey, VerificationAlgorithm,
};

use super::HostState;
use crate::bindings::weir::filter::crypto::{self, PublicKey};

impl crypto::Host for HostState {
    fn verify_signature(
        &mut self,
        algorithm: String,
        key: PublicKey,
        message: Vec<u8>,
        signature: Vec<u8>,
    ) -> Result<bool, String> {
        verify(&algorithm, &key, &message, &signature)
    }
}

/// The check behind `verify-signature`.
pub(crate) fn verify(
    algorithm: &str,
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, String> {
    let mismatch = || Err(format!("a {} key cannot verify {algorithm}", key_kind(key)));
    if let Some(hash) = hmac_algorithm(algorithm) {
        let PublicKey::Hmac(secret) = key else {
            return mismatch();
        };
        let key = hmac::Key::new(hash, secret);
        return Ok(hmac::verify(&key, message, signature).is_ok());
    }
    if let Some(params) = rsa_parameters(algorithm) {
        return Ok(match key {
            PublicKey::RsaComponents((n, e)) => RsaPublicKeyComponents {
                n: without_leading_zeros(n),
                e: without_leading_zeros(e),
            }
            .verify(params, message, signature)
            .is_ok(),
            PublicKey::RsaPkcs1Der(der) => UnparsedPublicKey::new(params, der)
                .verify(message, signature)
                .is_ok(),
            _ => return mismatch(),
        });
    }
    let (verifier, point): (&'static dyn VerificationAlgorithm, &[u8]) = match (algorithm, key) {
        ("ES256", PublicKey::EcSec1(point)) => (&signature::ECDSA_P256_SHA256_FIXED, point),
        ("ES384", PublicKey::EcSec1(point)) => (&signature::ECDSA_P384_SHA384_FIXED, point),
        ("EdDSA", PublicKey::Ed25519(point)) => (&signature::ED25519, point),
        ("ES256" | "ES384" | "EdDSA", _) => return mismatch(),
        _ => return Err(format!("unknown algorithm {algorithm:?}")),
    };
    Ok(UnparsedPublicKey::new(verifier, point)
        .verify(message, signature)
        .is_ok())
}

fn hmac_algorithm(algorithm: &str) -> Option<hmac::Algorithm> {
    Some(match algorithm {
        "HS256" => hmac::HMAC_SHA256,
        "HS384" => hmac::HMAC_SHA384,
        "HS512" => hmac::HMAC_SHA512,
        _ => return None,
    })
}

fn rsa_parameters(algorithm: &str) -> Option<&'static RsaParameters> {
    Some(match algorithm {
        "RS256" => &signature::RSA_PKCS1_2048_8192_SHA256,
        "RS384" => &signature::RSA_PKCS1_2048_8192_SHA384,
        "RS512" => &signature::RSA_PKCS1_2048_8192_SHA512,
        "PS256" => &signature::RSA_PSS_2048_8192_SHA256,
        "PS384" => &signature::RSA_PSS_2048_8192_SHA384,
        "PS512" => &signature::RSA_PSS_2048_8192_SHA512,
        _ => return None,
    })
}

fn key_kind(key: &PublicKey) -> &'static str {
    match key {
        PublicKey::Hmac(_) => "HMAC",
        PublicKey::RsaComponents(_) | PublicKey::RsaPkcs1Der(_) => "RSA",
        PublicKey::EcSec1(_) => "EC",
        PublicKey::Ed25519(_) => "Ed25519",
    }
}

/// JWKs sometimes carry a leading zero byte; ring wants minimal integers.
fn without_leading_zeros(bytes: &[u8]) -> &[u8] {
    let first = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    &bytes[first..]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hmac_verifies_and_refuses_other_key_kinds() {
        let secret = b"0123456789abcdef0123456789abcdef".to_vec();
        let key = hmac::Key::new(hmac::HMAC_SHA256, &secret);
        let tag = hmac::sign(&key, b"header.payload");
        let hmac_key = PublicKey::Hmac(secret.clone());
        assert_eq!(
            verify("HS256", &hmac_key, b"header.payload", tag.as_ref()),
            Ok(true)
        );
        assert_eq!(
            verify("HS256", &hmac_key, b"header.payloaD", tag.as_ref()),
            Ok(false)
        );
        assert_eq!(
            verify("HS384", &hmac_key, b"header.payload", tag.as_ref()),
            Ok(false)
        );
        // An RSA key is never an HMAC secret, nor the reverse.
        let rsa = PublicKey::RsaPkcs1Der(secret.clone());
        assert!(verify("HS256", &rsa, b"m", tag.as_ref()).is_err());
        assert!(verify("RS256", &hmac_key, b"m", tag.as_ref()).is_err());
        assert!(verify("ES256", &hmac_key, b"m", tag.as_ref()).is_err());
        assert!(verify("none", &hmac_key, b"m", b"").is_err());
    }

    #[test]
    fn ed25519_and_ecdsa_verify_with_their_own_keys_only() {
        use ring::rand::SystemRandom;
        use ring::signature::{EcdsaKeyPair, Ed25519KeyPair, KeyPair};
        let rng = SystemRandom::new();

        let pkcs8 = Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        let pair = Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap();
        let signature = pair.sign(b"message");
        let key = PublicKey::Ed25519(pair.public_key().as_ref().to_vec());
        assert_eq!(
            verify("EdDSA", &key, b"message", signature.as_ref()),
            Ok(true)
        );
        assert_eq!(
            verify("EdDSA", &key, b"massage", signature.as_ref()),
            Ok(false)
        );
        assert!(verify("ES256", &key, b"message", signature.as_ref()).is_err());

        let alg = &signature::ECDSA_P256_SHA256_FIXED_SIGNING;
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(alg, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(alg, pkcs8.as_ref(), &rng).unwrap();
        let signature = pair.sign(&rng, b"message").unwrap();
        let key = PublicKey::EcSec1(pair.public_key().as_ref().to_vec());
        assert_eq!(
            verify("ES256", &key, b"message", signature.as_ref()),
            Ok(true)
        );
        assert_eq!(
            verify("ES384", &key, b"message", signature.as_ref()),
            Ok(false)
        );
        assert!(verify("EdDSA", &key, b"message", signature.as_ref()).is_err());
    }
}
