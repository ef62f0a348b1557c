//! The validated `access_log` section, and the field and format names the
//! file uses (one enum for both: the names are the contract).

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Deserialize;

/// One line per request (see docs/observability.md). Process-wide: a
/// change needs a restart.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessLog {
    /// Off when the section is absent or says `enabled: false`.
    pub enabled: bool,
    pub format: AccessLogFormat,
    /// Append to this file; `None`: standard output.
    pub path: Option<PathBuf>,
    /// Written in this order.
    pub fields: Vec<AccessLogField>,
    /// Lines a serving thread buffers between the writer's writes; beyond it
    /// lines are dropped and counted.
    pub buffer_lines: usize,
}

impl Default for AccessLog {
    fn default() -> Self {
        AccessLog {
            enabled: false,
            format: AccessLogFormat::Json,
            path: None,
            fields: AccessLogField::ALL.to_vec(),
            buffer_lines: 8192,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessLogFormat {
    /// One JSON object per line.
    Json,
    /// logfmt: `key=value` pairs, values quoted when they need it.
    Text,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccessLogField {
    /// When the request finished, RFC 3339 UTC with milliseconds.
    Time,
    RequestId,
    /// W3C trace id, when the request has one.
    TraceId,
    Listener,
    /// The client address (behind trusted proxies, the one they name).
    Client,
    /// The TCP peer.
    Peer,
    Method,
    Host,
    Path,
    Query,
    Status,
    /// Request body bytes received.
    RequestBytes,
    /// Response body bytes sent.
    ResponseBytes,
    /// Whole request, milliseconds.
    DurationMs,
    /// From choosing the upstream target to its response header, milliseconds.
    UpstreamMs,
    /// Time spent in filter calls, milliseconds.
    FiltersMs,
    Route,
    /// The last upstream target tried.
    Upstream,
    Error,
}

impl AccessLogField {
    pub const ALL: [AccessLogField; 19] = [
        AccessLogField::Time,
        AccessLogField::RequestId,
        AccessLogField::TraceId,
        AccessLogField::Listener,
        AccessLogField::Client,
        AccessLogField::Peer,
        AccessLogField::Method,
        AccessLogField::Host,
        AccessLogField::Path,
        AccessLogField::Query,
        AccessLogField::Status,
        AccessLogField::RequestBytes,
        AccessLogField::ResponseBytes,
        AccessLogField::DurationMs,
        AccessLogField::UpstreamMs,
        AccessLogField::FiltersMs,
        AccessLogField::Route,
        AccessLogField::Upstream,
        AccessLogField::Error,
    ];

    /// The key in a log line: the name the config uses.
    pub fn key(self) -> &'static str {
        use AccessLogField::*;
        match self {
            Time => "time",
            RequestId => "request_id",
            TraceId => "trace_id",
            Listener => "listener",
            Client => "client",
            Peer => "peer",
            Method => "method",
            Host => "host",
            Path => "path",
            Query => "query",
            Status => "status",
            RequestBytes => "request_bytes",
            ResponseBytes => "response_bytes",
            DurationMs => "duration_ms",
            UpstreamMs => "upstream_ms",
            FiltersMs => "filters_ms",
            Route => "route",
            Upstream => "upstream",
            Error => "error",
        }
    }
}
