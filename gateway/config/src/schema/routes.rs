//! File types of the `routes` section.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteFile {
    /// Unique name, used in logs. Default `routes[<index>]`.
    pub name: Option<String>,
    /// Higher is evaluated first. Default 0.
    pub priority: Option<i32>,
    /// What the route matches; absent matches every request.
    #[serde(rename = "match")]
    pub matcher: Option<MatchFile>,
    /// Proxy to this upstream (exactly one of `upstream`, `respond` and `handler`).
    pub upstream: Option<String>,
    /// Answer directly (exactly one of `upstream`, `respond` and `handler`).
    pub respond: Option<RespondFile>,
    /// Answer with this handler (exactly one of `upstream`, `respond` and `handler`).
    pub handler: Option<String>,
    /// Remove the matched path prefix before proxying (`upstream` routes with a
    /// prefix match only).
    pub strip_prefix: Option<bool>,
    /// Send this Host header upstream (`upstream` routes only).
    pub host_rewrite: Option<String>,
    /// Filters run after the global ones, in this order.
    #[serde(default)]
    pub filters: Vec<String>,
}

#[derive(Debug, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MatchFile {
    /// Any of these hosts (exact or `*.example.com`).
    #[serde(default)]
    pub hosts: Vec<String>,
    pub path: Option<PathFile>,
    /// Any of these methods.
    #[serde(default)]
    pub methods: Vec<String>,
    /// All of these headers.
    #[serde(default)]
    pub headers: Vec<ValueMatchFile>,
    /// All of these query parameters.
    #[serde(default)]
    pub query: Vec<ValueMatchFile>,
}

/// Exactly one of `prefix`, `exact` and `regex`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PathFile {
    /// Whole path segments: `/api` matches `/api` and `/api/x`, not `/apix`.
    pub prefix: Option<String>,
    pub exact: Option<String>,
    /// Matched against the path (anchor it with ^ and $).
    pub regex: Option<String>,
}

/// A header or query parameter: exactly one of `present`, `exact` and `regex`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ValueMatchFile {
    pub name: String,
    pub present: Option<bool>,
    pub exact: Option<String>,
    pub regex: Option<String>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RespondFile {
    /// Default 200.
    #[schemars(range(min = 100, max = 599))]
    pub status: Option<u16>,
    #[serde(default)]
    pub headers: BTreeMap<String, String>,
    /// Default empty.
    #[serde(default)]
    pub body: String,
}
