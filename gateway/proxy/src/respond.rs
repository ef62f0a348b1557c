//! Responses weir writes itself: client errors as small JSON, direct route
//! responses, and responses produced by filters.

use bytes::Bytes;
use pingora::http::ResponseHeader;
use pingora::proxy::Session;
use weir_wasm::FilterResponse;

/// A response weir sends instead of an upstream's.
#[derive(Debug, Clone)]
pub struct LocalResponse {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Bytes,
}

impl LocalResponse {
    /// `{"error": "...", "request_id": "..."}` with the given status.
    pub fn error(status: u16, message: &str, request_id: &str) -> Self {
        let body = serde_json::json!({ "error": message, "request_id": request_id }).to_string();
        LocalResponse {
            status,
            headers: vec![("content-type".into(), b"application/json".to_vec())],
            body: Bytes::from(body),
        }
    }

    pub fn from_filter(r: FilterResponse) -> Self {
        LocalResponse {
            status: r.status,
            headers: r.headers,
            body: Bytes::from(r.body),
        }
    }

    pub fn direct(r: &weir_config::DirectResponse) -> Self {
        LocalResponse {
            status: r.status,
            headers: r
                .headers
                .iter()
                .map(|(n, v)| (n.clone(), v.as_bytes().to_vec()))
                .collect(),
            body: Bytes::from(r.body.clone()),
        }
    }

    pub fn header(&self) -> pingora::Result<ResponseHeader> {
        let mut header = ResponseHeader::build(self.status, Some(self.headers.len() + 2))?;
        for (name, value) in &self.headers {
            header.append_header(name.clone(), value.as_slice())?;
        }
        header.insert_header(http::header::CONTENT_LENGTH, self.body.len().to_string())?;
        Ok(header)
    }
}

/// Writes a complete response; `extra` headers (e.g. the request id) are added.
pub async fn write(
    session: &mut Session,
    mut header: ResponseHeader,
    body: Bytes,
    request_id: &str,
) -> pingora::Result<()> {
    header.insert_header("x-request-id", request_id)?;
    let head_only = session.req_header().method == http::Method::HEAD;
    let end = body.is_empty() || head_only;
    session.write_response_header(Box::new(header), end).await?;
    if !end {
        session.write_response_body(Some(body), true).await?;
    }
    Ok(())
}
