//! Outbound HTTP from a filter, through the standard
//! `wasi:http/outgoing-handler`. weir only sends requests to the origins in
//! the filter's `grants.http.allow`; anything else fails with
//! [`OutboundError::Denied`] and never leaves weir. The call waits for the
//! response without holding up other requests; timeouts are capped by the
//! grant and the whole call by the filter's `call_deadline`.
//!
//! ```ignore
//! let resp = outbound::Request::get("http://auth.internal:8080/check")
//!     .header("accept", "application/json")
//!     .send()?;
//! if resp.status == 200 { /* ... */ }
//! ```

use std::time::Duration;

use wasip2::http::outgoing_handler;
use wasip2::http::types::{
    ErrorCode, Fields, IncomingBody, Method, OutgoingBody, OutgoingRequest, RequestOptions, Scheme,
};
use wasip2::io::streams::StreamError;

/// Why an outbound request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboundError {
    /// The URL is not `http://` or `https://` with a host.
    InvalidUrl(String),
    /// The origin is not in this filter's `grants.http.allow`.
    Denied,
    /// Connecting, sending or receiving failed, or the response was too big.
    Failed(String),
}

impl std::fmt::Display for OutboundError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OutboundError::InvalidUrl(url) => write!(f, "invalid URL {url:?}"),
            OutboundError::Denied => write!(f, "origin not granted (grants.http.allow)"),
            OutboundError::Failed(reason) => write!(f, "request failed: {reason}"),
        }
    }
}

impl std::error::Error for OutboundError {}

fn failed(code: ErrorCode) -> OutboundError {
    match code {
        ErrorCode::HttpRequestDenied => OutboundError::Denied,
        other => OutboundError::Failed(format!("{other:?}")),
    }
}

/// A request to send.
#[derive(Debug, Clone)]
pub struct Request {
    method: String,
    url: String,
    headers: Vec<(String, Vec<u8>)>,
    body: Vec<u8>,
    timeout: Option<Duration>,
}

/// A response with its whole body.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, Vec<u8>)>,
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header (names compare case-insensitively).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_slice())
    }
}

impl Request {
    pub fn new(method: &str, url: &str) -> Request {
        Request {
            method: method.to_owned(),
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
            timeout: None,
        }
    }

    pub fn get(url: &str) -> Request {
        Request::new("GET", url)
    }

    pub fn post(url: &str, body: impl Into<Vec<u8>>) -> Request {
        Request::new("POST", url).body(body)
    }

    pub fn header(mut self, name: &str, value: impl AsRef<[u8]>) -> Request {
        self.headers
            .push((name.to_ascii_lowercase(), value.as_ref().to_vec()));
        self
    }

    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Request {
        self.body = body.into();
        self
    }

    /// Time to the response's first byte (weir caps it by the grant's `timeout`).
    pub fn timeout(mut self, timeout: Duration) -> Request {
        self.timeout = Some(timeout);
        self
    }

    /// Sends the request and reads the whole response.
    pub fn send(self) -> Result<Response, OutboundError> {
        let (scheme, authority, path) = split_url(&self.url)?;
        let fields = Fields::from_list(&self.headers)
            .map_err(|e| OutboundError::Failed(format!("invalid header: {e:?}")))?;
        let request = OutgoingRequest::new(fields);
        let method = match self.method.to_ascii_uppercase().as_str() {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "DELETE" => Method::Delete,
            "PATCH" => Method::Patch,
            "OPTIONS" => Method::Options,
            other => Method::Other(other.to_owned()),
        };
        let invalid = |_| OutboundError::InvalidUrl(self.url.clone());
        request.set_method(&method).map_err(invalid)?;
        request.set_scheme(Some(&scheme)).map_err(invalid)?;
        request.set_authority(Some(authority)).map_err(invalid)?;
        request.set_path_with_query(Some(&path)).map_err(invalid)?;
        let body = request.body().expect("a new request's body is taken once");
        if !self.body.is_empty() {
            let stream = body.write().expect("a new body's stream is taken once");
            for chunk in self.body.chunks(4096) {
                stream
                    .blocking_write_and_flush(chunk)
                    .map_err(|e| OutboundError::Failed(format!("writing the body: {e:?}")))?;
            }
        }
        let options = self.timeout.map(|t| {
            let options = RequestOptions::new();
            let _ = options.set_first_byte_timeout(Some(t.as_nanos() as u64));
            options
        });
        let pending = outgoing_handler::handle(request, options).map_err(failed)?;
        OutgoingBody::finish(body, None).map_err(failed)?;
        pending.subscribe().block();
        let response = match pending.get() {
            Some(Ok(Ok(response))) => response,
            Some(Ok(Err(code))) => return Err(failed(code)),
            _ => return Err(OutboundError::Failed("no response".into())),
        };
        let headers = response.headers().entries().into_iter().collect::<Vec<_>>();
        let status = response.status();
        let body = read_body(response.consume().expect("a response body is taken once"))?;
        Ok(Response {
            status,
            headers,
            body,
        })
    }
}

fn read_body(body: IncomingBody) -> Result<Vec<u8>, OutboundError> {
    let mut bytes = Vec::new();
    {
        let stream = body.stream().expect("a body's stream is taken once");
        loop {
            match stream.blocking_read(64 * 1024) {
                Ok(chunk) => bytes.extend_from_slice(&chunk),
                Err(StreamError::Closed) => break,
                Err(StreamError::LastOperationFailed(e)) => {
                    return Err(OutboundError::Failed(e.to_debug_string()));
                }
            }
        }
    }
    let _trailers = IncomingBody::finish(body);
    Ok(bytes)
}

/// `scheme://authority/path?query` into its parts.
fn split_url(url: &str) -> Result<(Scheme, &str, String), OutboundError> {
    let invalid = || OutboundError::InvalidUrl(url.to_owned());
    let (scheme, rest) = url.split_once("://").ok_or_else(invalid)?;
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        "http" => Scheme::Http,
        "https" => Scheme::Https,
        _ => return Err(invalid()),
    };
    let split = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(split);
    if authority.is_empty() {
        return Err(invalid());
    }
    let path = if path.starts_with('/') {
        path.to_owned()
    } else {
        format!("/{path}")
    };
    Ok((scheme, authority, path))
}
