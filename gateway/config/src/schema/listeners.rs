//! File types of the `listeners` section.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::units::ByteSize;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListenerFile {
    /// Unique name, used in logs.
    pub name: String,
    /// `ip:port` to bind, e.g. `0.0.0.0:8080`.
    pub address: String,
    /// Accept HTTP/2. With TLS it is offered by ALPN (h2, then http/1.1); default true, `false` offers HTTP/1.1 only. Without TLS it means prior-knowledge h2c beside HTTP/1.1; default false.
    pub http2: Option<bool>,
    pub tls: Option<ListenerTlsFile>,
    pub limits: Option<LimitsFile>,
    /// Peers (CIDR or IP) whose X-Forwarded-* headers are kept. Default: none.
    #[serde(default)]
    pub trusted_proxies: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListenerTlsFile {
    /// Certificates chosen by SNI; the first is the default.
    #[schemars(length(min = 1))]
    pub certificates: Vec<CertificateFile>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CertificateFile {
    /// PEM certificate chain, relative to this file.
    pub cert: String,
    /// PEM private key, relative to this file.
    pub key: String,
    /// Exact names or `*.example.com` wildcards served by this certificate.
    #[serde(default)]
    pub server_names: Vec<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LimitsFile {
    /// Total request header bytes; over it: 431. Default 64KiB.
    pub max_header_bytes: Option<ByteSize>,
    /// HTTP/1 request line (method, target and version) bytes; over it: 414. Default 8KiB.
    pub max_request_line: Option<ByteSize>,
    /// Request body bytes; over it: 413. Default: unlimited.
    pub max_body_bytes: Option<ByteSize>,
}
