//! File types of the `access_log` section.

use schemars::JsonSchema;
use serde::Deserialize;

use crate::model::{AccessLogField, AccessLogFormat};

/// One line per request, written off the request path (see
/// docs/observability.md). Absent: no access log. A change needs a restart.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AccessLogFile {
    /// Default true: the section turns the log on; `false` keeps it off.
    pub enabled: Option<bool>,
    /// `json` (default) or `text` (logfmt).
    pub format: Option<AccessLogFormat>,
    /// File to append to, relative to this file; reopened on SIGUSR1 and when it is renamed or removed. `-` or absent: standard output.
    pub path: Option<String>,
    /// Fields, in order. Default: all of them.
    pub fields: Option<Vec<AccessLogField>>,
    /// Lines each serving thread buffers between the writer's writes (every 20 ms); beyond it, lines are dropped and counted, never waited for. Default 8192.
    #[schemars(range(min = 1))]
    pub buffer_lines: Option<usize>,
}
