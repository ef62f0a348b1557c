//! jsonwebtoken's signature checks, done by weir natively.
//!
//! jsonwebtoken 10 takes its cryptography from a `CryptoProvider`. Instead
//! of compiling RustCrypto into the component (RS256 ran about 8x slower in
//! Wasm than natively, see docs/filters/jwt-auth.md), this provider hands
//! every verification to the host's `weir:filter/crypto` interface. Parsing,
//! claim validation and key handling stay in jsonwebtoken.

use jsonwebtoken::crypto::{CryptoProvider, JwkUtils, JwtSigner, JwtVerifier};
use jsonwebtoken::errors::{Error, ErrorKind};
use jsonwebtoken::signature::{self, Verifier};
use jsonwebtoken::{Algorithm, AlgorithmFamily, DecodingKey, DecodingKeyKind, EncodingKey};
use weir_filter_sdk::crypto::{self, PublicKey};

/// Verification through the host; this filter never signs, and never needs
/// the JWK helpers (which only serve building JWKs from private keys).
pub static HOST_PROVIDER: CryptoProvider = CryptoProvider {
    signer_factory: no_signing,
    verifier_factory: host_verifier,
    jwk_utils: JwkUtils::new_unimplemented(),
};

/// Makes [`HOST_PROVIDER`] jsonwebtoken's provider for this instance.
pub fn install() {
    // Err only if it is already installed, by an earlier `init` of this
    // instance: the same provider.
    let _ = HOST_PROVIDER.install_default();
}

fn no_signing(_: &Algorithm, _: &EncodingKey) -> Result<Box<dyn JwtSigner>, Error> {
    Err(ErrorKind::Provider("jwt-auth does not sign tokens".into()).into())
}

fn host_verifier(algorithm: &Algorithm, key: &DecodingKey) -> Result<Box<dyn JwtVerifier>, Error> {
    // A key only ever verifies its own family (no HS/RS confusion), checked
    // here as well as by the host.
    if key.family() != algorithm.family() {
        return Err(ErrorKind::InvalidAlgorithm.into());
    }
    let key = match (key.family(), key.kind()) {
        (AlgorithmFamily::Hmac, DecodingKeyKind::SecretOrDer(secret)) => {
            PublicKey::Hmac(secret.clone())
        }
        (AlgorithmFamily::Rsa, DecodingKeyKind::SecretOrDer(der)) => {
            PublicKey::RsaPkcs1Der(der.clone())
        }
        (AlgorithmFamily::Rsa, DecodingKeyKind::RsaModulusExponent { n, e }) => {
            PublicKey::RsaComponents((n.clone(), e.clone()))
        }
        (AlgorithmFamily::Ec, DecodingKeyKind::SecretOrDer(point)) => {
            PublicKey::EcSec1(point.clone())
        }
        (AlgorithmFamily::Ed, DecodingKeyKind::SecretOrDer(raw)) => PublicKey::Ed25519(raw.clone()),
        _ => return Err(ErrorKind::InvalidKeyFormat.into()),
    };
    Ok(Box::new(HostVerifier {
        algorithm: *algorithm,
        key,
    }))
}

struct HostVerifier {
    algorithm: Algorithm,
    key: PublicKey,
}

impl Verifier<Vec<u8>> for HostVerifier {
    fn verify(&self, message: &[u8], signature: &Vec<u8>) -> Result<(), signature::Error> {
        let name = format!("{:?}", self.algorithm);
        match crypto::verify_signature(&name, &self.key, message, signature) {
            Ok(true) => Ok(()),
            // jsonwebtoken reports any failure here as a bad signature.
            Ok(false) | Err(_) => Err(signature::Error::new()),
        }
    }
}

impl JwtVerifier for HostVerifier {
    fn algorithm(&self) -> Algorithm {
        self.algorithm
    }
}
