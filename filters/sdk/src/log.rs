//! Logging into weir's log, tagged with the filter's name and the request id.

use crate::Level;
use crate::bindings::weir::filter::log as host;

pub fn log(level: Level, message: &str) {
    host::log(level, message)
}

pub fn debug(message: &str) {
    log(Level::Debug, message)
}

pub fn info(message: &str) {
    log(Level::Info, message)
}

pub fn warn(message: &str) {
    log(Level::Warn, message)
}

pub fn error(message: &str) {
    log(Level::Error, message)
}
