//! Header names this filter accepts in its config.

/// A token per RFC 9110 §5.6.2: what weir accepts as a header name.
pub fn is_valid(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Headers that frame the message. weir sets them itself (a filter that
/// changed them could make the upstream or the client misread where a body
/// ends), so the config may not name them.
const FRAMING: [&str; 2] = ["content-length", "transfer-encoding"];

/// Checks a configured name and returns it lower-cased.
pub fn checked(name: &str, field: &str) -> Result<String, String> {
    if !is_valid(name) {
        return Err(format!("{field}: {name:?} is not a valid header name"));
    }
    let lower = name.to_ascii_lowercase();
    if FRAMING.contains(&lower.as_str()) {
        return Err(format!(
            "{field}: {lower:?} frames the message and is managed by weir; it cannot be edited"
        ));
    }
    Ok(lower)
}
