//! `Authorization: Basic base64(user:password)` (RFC 7617).

use base64::Engine;
use base64::engine::general_purpose::STANDARD;

pub struct Credentials {
    pub user: String,
    pub password: Vec<u8>,
}

/// The credentials of a request's `Authorization` values, or `None` when
/// there are none, several, or they are malformed.
pub fn parse(values: &[Vec<u8>]) -> Option<Credentials> {
    let [value] = values else { return None };
    let value = std::str::from_utf8(value).ok()?.trim();
    let (scheme, encoded) = value.split_once(' ')?;
    // The scheme is case-insensitive (RFC 9110 §11.1).
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD.decode(encoded.trim()).ok()?;
    // The user-id cannot contain a colon; the password may.
    let colon = decoded.iter().position(|&b| b == b':')?;
    let user = String::from_utf8(decoded[..colon].to_vec()).ok()?;
    Some(Credentials {
        user,
        password: decoded[colon + 1..].to_vec(),
    })
}
