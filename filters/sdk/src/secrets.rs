//! Secrets granted to this filter (`grants.secrets` in weir's config): HMAC
//! keys, API keys, client secrets, from weir's environment or files, never
//! from the config file.

use crate::bindings::weir::filter::secrets as host;

/// The secret's bytes, or an error naming what is not granted.
pub fn get(name: &str) -> Result<Vec<u8>, String> {
    host::get(name)
}

/// The secret as text; an error if it is not UTF-8.
pub fn get_string(name: &str) -> Result<String, String> {
    String::from_utf8(get(name)?).map_err(|_| format!("secret {name:?} is not UTF-8"))
}
