//! The per-request bag of strings shared by the filters of one chain: an auth
//! filter sets the subject, a later filter reads it.

use crate::bindings::weir::filter::context as host;

pub fn get(key: &str) -> Option<String> {
    host::get(key)
}

pub fn set(key: &str, value: &str) {
    host::set(key, value)
}

pub fn remove(key: &str) {
    host::remove(key)
}
