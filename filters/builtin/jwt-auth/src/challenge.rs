//! The answers of a refused request (RFC 6750 §3). They say only that the
//! token is missing or invalid; the reason goes to weir's log, never to the
//! client, so probing teaches an attacker nothing.

use weir_filter_sdk::{Decision, respond};

/// No token at all: a bare challenge, no error code (RFC 6750 §3.1).
pub fn missing_token(realm: &str) -> Decision {
    respond(401)
        .header("www-authenticate", format!("Bearer realm=\"{realm}\""))
        .header("cache-control", "no-store")
        .text("unauthorized\n")
        .into()
}

/// A token that did not verify, whatever the reason.
pub fn invalid_token(realm: &str) -> Decision {
    respond(401)
        .header(
            "www-authenticate",
            format!("Bearer realm=\"{realm}\", error=\"invalid_token\""),
        )
        .header("cache-control", "no-store")
        .text("unauthorized\n")
        .into()
}

/// No key could ever be obtained: weir, not the client, is at fault.
pub fn keys_unavailable() -> Decision {
    respond(503)
        .header("cache-control", "no-store")
        .text("authentication temporarily unavailable\n")
        .into()
}
