//! Log hygiene: a client that closes or resets its connection mid-request,
//! or sends a request body that is not valid HTTP (a bad chunk), causes a
//! failed request that is the client's doing, not a gateway error. Pingora
//! logs every failed request at ERROR unless `suppress_error_log` says
//! otherwise; for these it says so, and weir notes them at DEBUG (the client
//! got its 400 or is gone; the access log still has the request, with its
//! error), so a hostile client cannot fill the log.

use pingora::{Error, ErrorSource, ErrorType};

/// Whether `e` is the downstream connection going away.
pub fn is_client_gone(e: &Error) -> bool {
    use ErrorType::*;
    *e.esource() == ErrorSource::Downstream
        && matches!(
            e.etype(),
            ConnectionClosed | ReadError | WriteError | ReadTimedout | WriteTimedout
        )
}

/// Whether `e` is the client's request being malformed, found while
/// reading it (Pingora's parser already answered 400).
pub fn is_malformed_request(e: &Error) -> bool {
    *e.esource() == ErrorSource::Downstream
        && matches!(
            e.etype(),
            ErrorType::InvalidHTTPHeader | ErrorType::Custom("InvalidChunk")
        )
}

/// For `ProxyHttp::suppress_error_log`: true (and a DEBUG line) when the
/// client went away or sent a malformed request; Pingora logs everything
/// else at ERROR as before.
pub fn suppress_error_log(request_id: &str, e: &Error) -> bool {
    if is_client_gone(e) {
        tracing::debug!(request_id, "client went away: {e}");
        return true;
    }
    if is_malformed_request(e) {
        tracing::debug!(request_id, "malformed request: {e}");
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_downstream_connection_errors_are_client_gone() {
        let mut e = Error::new(ErrorType::ConnectionClosed);
        e.as_down();
        assert!(is_client_gone(&e));
        let mut e = Error::new(ErrorType::ConnectionClosed);
        e.as_up();
        assert!(!is_client_gone(&e));
        let mut e = Error::new(ErrorType::InvalidHTTPHeader);
        e.as_down();
        assert!(!is_client_gone(&e));
        assert!(is_malformed_request(&e));
        let mut e = Error::new(ErrorType::Custom("InvalidChunk"));
        e.as_down();
        assert!(is_malformed_request(&e));
        // An upstream sending a bad chunk is the gateway's business.
        let mut e = Error::new(ErrorType::Custom("InvalidChunk"));
        e.as_up();
        assert!(!is_malformed_request(&e));
    }
}
