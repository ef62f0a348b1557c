//! What weir changes on the request it sends upstream, beyond the filters'
//! edits (already applied in `request_filter`).

use pingora::http::RequestHeader;
use pingora::{Error, ErrorType};

use super::context::RequestCtx;
use super::forwarded;
use crate::observe::trace_context;
use crate::snapshot::Action;

/// `X-Forwarded-*`, the route's `strip_prefix` and `host_rewrite`, the
/// trace headers, and the framing of a body filters may have resized.
///
/// Hop-by-hop fields, and those `Connection` names, are already gone:
/// Pingora's upstream request policy (the standard one, which weir keeps)
/// strips them before this phase, for HTTP/1 and HTTP/2 upstreams alike
/// (e2e `forwarding::hop_by_hop_headers_are_not_forwarded`).
pub(super) fn prepare(
    upstream: &mut RequestHeader,
    ctx: &RequestCtx,
    tls: bool,
) -> pingora::Result<()> {
    let trusted = ctx
        .listener()
        .is_some_and(|l| forwarded::is_trusted(ctx.peer_ip, &l.trusted_proxies));
    // Before `host_rewrite`: X-Forwarded-Host is the Host the client sent.
    forwarded::set_forwarded(upstream, ctx.peer_ip, trusted, tls)?;
    if let Some(Action::Proxy {
        strip_prefix,
        host_rewrite,
        ..
    }) = ctx.route().map(|r| &r.action)
    {
        if let Some(prefix) = strip_prefix {
            strip_path(upstream, prefix)?;
        }
        if let Some(host) = host_rewrite {
            upstream.insert_header(http::header::HOST, host.as_str())?;
        }
    }
    if let Some(trace) = &ctx.trace {
        trace_context::set_upstream_headers(upstream, trace)?;
    }
    if ctx.request_body.is_some() {
        // A filter may change the body's length: let Pingora frame it as
        // chunked instead of passing on a Content-Length that could lie.
        upstream.remove_header(&http::header::CONTENT_LENGTH);
    }
    Ok(())
}

fn strip_path(upstream: &mut RequestHeader, prefix: &str) -> pingora::Result<()> {
    let stripped = strip_path_prefix(upstream.uri.path(), prefix);
    let path_and_query = match upstream.uri.query() {
        Some(q) => format!("{stripped}?{q}"),
        None => stripped,
    };
    upstream.set_uri(path_and_query.parse().map_err(|_| {
        Error::explain(ErrorType::InternalError, "stripped path is not a valid URI")
    })?);
    Ok(())
}

fn strip_path_prefix(path: &str, prefix: &str) -> String {
    let rest = path.strip_prefix(prefix).unwrap_or(path);
    if rest.starts_with('/') {
        rest.to_owned()
    } else {
        format!("/{rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strip_prefix_keeps_a_rooted_path() {
        assert_eq!(strip_path_prefix("/api/users", "/api"), "/users");
        assert_eq!(strip_path_prefix("/api", "/api"), "/");
        assert_eq!(strip_path_prefix("/api/", "/api/"), "/");
    }
}
