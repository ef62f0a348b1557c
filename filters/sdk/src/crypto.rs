//! Signature verification computed natively by weir (`weir:filter/crypto`),
//! for filters that check signed tokens: RSA is several times slower inside
//! Wasm than natively. A pure computation: it needs no grant.
//!
//! ```ignore
//! use weir_filter_sdk::crypto::{self, PublicKey};
//! let ok = crypto::verify_signature("HS256", &PublicKey::Hmac(secret), signed_part, &signature)?;
//! ```

use crate::bindings::weir::filter::crypto as host;

pub use host::PublicKey;

/// Whether `signature` signs `message` under `key` with `algorithm` (a JWS
/// name: `HS256`…`HS512`, `RS256`…`RS512`, `PS256`…`PS512`, `ES256`,
/// `ES384`, `EdDSA`). `Err` for an unknown algorithm or a key of another
/// kind than the algorithm's; `Ok(false)` for a signature that does not
/// verify.
pub fn verify_signature(
    algorithm: &str,
    key: &PublicKey,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, String> {
    host::verify_signature(algorithm, key, message, signature)
}
