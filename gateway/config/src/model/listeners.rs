//! The validated `listeners` section.

use std::net::SocketAddr;
use std::path::PathBuf;

use ipnet::IpNet;

#[derive(Debug, Clone, PartialEq)]
pub struct Listener {
    pub name: String,
    pub address: SocketAddr,
    pub tls: Option<ListenerTls>,
    /// Accept HTTP/2: offered by ALPN on TLS (the default there), prior-
    /// knowledge h2c on plain listeners (off by default).
    pub http2: bool,
    pub limits: RequestLimits,
    /// Peers whose `X-Forwarded-*` headers are kept and appended to; from any
    /// other peer they are replaced.
    pub trusted_proxies: Vec<IpNet>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListenerTls {
    /// The first certificate is the default when SNI matches none.
    pub certificates: Vec<Certificate>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Certificate {
    /// Server names served by this certificate: exact (`api.example.com`) or
    /// wildcard (`*.example.com`); empty means "default only".
    pub server_names: Vec<String>,
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
}

#[derive(Debug, Clone, PartialEq)]
pub struct RequestLimits {
    /// Sum of header name and value bytes; over it the client gets 431.
    pub max_header_bytes: usize,
    /// Bytes of an HTTP/1 request line; over it the client gets 414.
    pub max_request_line: usize,
    /// Request body bytes; over it the client gets 413. `None`: unlimited.
    pub max_body_bytes: Option<u64>,
}
