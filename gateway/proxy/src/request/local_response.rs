//! A response weir sends instead of an upstream's: what `local.rs` answers
//! with, kept in the request's context while it waits for `fail_to_proxy`.

use bytes::Bytes;
use pingora::http::ResponseHeader;
use weir_wasm::FilterResponse;

/// A response weir sends instead of an upstream's.
#[derive(Debug, Clone)]
pub(super) struct LocalResponse {
    pub(super) status: u16,
    pub(super) headers: Vec<(String, Vec<u8>)>,
    pub(super) body: Bytes,
}

impl From<FilterResponse> for LocalResponse {
    fn from(r: FilterResponse) -> Self {
        LocalResponse {
            status: r.status,
            headers: r.headers,
            body: Bytes::from(r.body),
        }
    }
}

impl LocalResponse {
    pub(super) fn header(&self) -> pingora::Result<ResponseHeader> {
        let mut header = ResponseHeader::build(self.status, Some(self.headers.len() + 2))?;
        for (name, value) in &self.headers {
            header.append_header(name.clone(), value.as_slice())?;
        }
        header.insert_header(http::header::CONTENT_LENGTH, self.body.len().to_string())?;
        Ok(header)
    }

    pub(super) fn into_body(self) -> Bytes {
        self.body
    }
}
