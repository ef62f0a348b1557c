//! Between Pingora's headers and the filters: the views a chain sees of the
//! request and the response, and the filters' edits replayed onto what
//! goes upstream or to the client.

use std::net::IpAddr;

use pingora::http::{RequestHeader, ResponseHeader};
use pingora::{Error, ErrorType};
use weir_wasm::{HeaderEdit, RequestView, ResponseView};

/// What filters see of a response.
pub fn response_view(header: &ResponseHeader) -> ResponseView {
    ResponseView {
        status: header.status.as_u16(),
        headers: header.headers.clone(),
        status_changed: false,
        edits: Vec::new(),
    }
}

/// Replays filters' response-header edits onto what goes to the client.
pub fn apply_response_edits(
    header: &mut ResponseHeader,
    edits: impl IntoIterator<Item = HeaderEdit>,
) {
    for edit in edits {
        let applied = match edit {
            HeaderEdit::Set(n, v) => header.insert_header(n, v),
            HeaderEdit::Append(n, v) => header.append_header(n, v).map(|_| ()),
            HeaderEdit::Remove(n) => {
                header.remove_header(&n);
                Ok(())
            }
        };
        if let Err(err) = applied {
            tracing::warn!("cannot apply a filter's response header edit: {err}");
        }
    }
}

/// What filters see of a request.
pub fn request_view(
    req: &RequestHeader,
    client_ip: Option<IpAddr>,
    request_id: &str,
) -> RequestView {
    RequestView {
        method: req.method.clone(),
        path: req.uri.path().to_owned(),
        query: req.uri.query().map(str::to_owned),
        headers: req.headers.clone(),
        client_ip,
        request_id: request_id.to_owned(),
        uri_changed: false,
        edits: Vec::new(),
    }
}

/// Replays the request-header filters' edits onto Pingora's header, which is
/// what goes upstream.
pub fn apply_request_edits(req: &mut RequestHeader, view: &mut RequestView) -> pingora::Result<()> {
    for edit in view.edits.drain(..) {
        match edit {
            HeaderEdit::Set(n, v) => req.insert_header(n, v)?,
            HeaderEdit::Append(n, v) => {
                req.append_header(n, v)?;
            }
            HeaderEdit::Remove(n) => {
                req.remove_header(&n);
            }
        }
    }
    if view.uri_changed {
        view.uri_changed = false;
        let path_and_query = match &view.query {
            Some(q) => format!("{}?{q}", view.path),
            None => view.path.clone(),
        };
        let uri = path_and_query.parse().map_err(|_| {
            Error::explain(ErrorType::InternalError, "a filter set an invalid path")
        })?;
        req.set_uri(uri);
    }
    Ok(())
}

/// Response-body filters may change the body's length, so the upstream's
/// `Content-Length` cannot go out. An HTTP/1.1 client then gets the body
/// chunked (Pingora would otherwise end it by closing the connection); an
/// HTTP/1.0 one gets it close-delimited, and HTTP/2 frames it anyway.
pub fn reframe_for_body_filters(
    header: &mut ResponseHeader,
    client_version: http::Version,
) -> pingora::Result<()> {
    header.remove_header(&http::header::CONTENT_LENGTH);
    if client_version == http::Version::HTTP_11 {
        header.insert_header(http::header::TRANSFER_ENCODING, "chunked")?;
    }
    Ok(())
}
