//! The one error type every backend returns.

/// Why a store call failed.
#[derive(Debug, Clone, thiserror::Error, PartialEq)]
pub enum KvError {
    /// The backend did not answer in time, is down, or refused the command.
    #[error("store unavailable: {0}")]
    Unavailable(String),
    /// The call is wrong for the data (e.g. increment of a non-integer).
    #[error("{0}")]
    Invalid(String),
}
