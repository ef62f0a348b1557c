//! Headers a proxy owns: `X-Forwarded-*`, `X-Request-Id` and hop-by-hop
//! headers (RFC 9110 §7.6.1), which describe one connection and must not be
//! passed on.

use std::net::IpAddr;

use http::header::{
    CONNECTION, HOST, PROXY_AUTHENTICATE, PROXY_AUTHORIZATION, TE, TRAILER, UPGRADE,
};
use http::{HeaderMap, HeaderName, HeaderValue};
use ipnet::IpNet;
use pingora::http::RequestHeader;

const KEEP_ALIVE: HeaderName = HeaderName::from_static("keep-alive");
const PROXY_CONNECTION: HeaderName = HeaderName::from_static("proxy-connection");
const X_FORWARDED_FOR: HeaderName = HeaderName::from_static("x-forwarded-for");
const X_FORWARDED_PROTO: HeaderName = HeaderName::from_static("x-forwarded-proto");
const X_FORWARDED_HOST: HeaderName = HeaderName::from_static("x-forwarded-host");

/// Always hop-by-hop; `Upgrade` and `Connection` too unless the message is
/// an upgrade.
const HOP_BY_HOP: [HeaderName; 6] = [
    KEEP_ALIVE,
    PROXY_CONNECTION,
    TE,
    TRAILER,
    PROXY_AUTHENTICATE,
    PROXY_AUTHORIZATION,
];

pub fn is_trusted(peer: Option<IpAddr>, trusted: &[IpNet]) -> bool {
    peer.is_some_and(|ip| trusted.iter().any(|net| net.contains(&ip)))
}

/// The client's address. From a trusted proxy it is the right-most address
/// of `X-Forwarded-For` that is not itself a trusted proxy (each proxy
/// appends the address it saw, so everything left of that could be forged by
/// the client); otherwise, or when the header names no usable address, the
/// TCP peer.
pub fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trusted: &[IpNet],
) -> Option<IpAddr> {
    if !is_trusted(peer, trusted) {
        return peer;
    }
    let mut hops = headers
        .get_all("x-forwarded-for")
        .iter()
        .rev()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.rsplit(','))
        .map(|hop| hop.trim().parse::<IpAddr>().ok());
    let mut client = peer;
    for hop in hops.by_ref() {
        let Some(ip) = hop else { break };
        client = Some(ip);
        if !trusted.iter().any(|net| net.contains(&ip)) {
            break;
        }
    }
    client
}

/// Sets `X-Forwarded-For/-Proto/-Host`. From a trusted peer the incoming
/// values are kept (and the peer appended to the `For` chain); from anyone
/// else they are replaced, so clients cannot forge them.
pub fn set_forwarded(
    req: &mut RequestHeader,
    peer: Option<IpAddr>,
    trusted: bool,
    tls: bool,
) -> pingora::Result<()> {
    let mut forwarded_for = Vec::with_capacity(40);
    if trusted && let Some(chain) = joined(&req.headers, &X_FORWARDED_FOR) {
        forwarded_for.extend_from_slice(chain.as_bytes());
        forwarded_for.extend_from_slice(b", ");
    }
    match peer {
        Some(ip) => crate::observe::text::ip_text(&mut forwarded_for, ip),
        None => forwarded_for.extend_from_slice(b"unknown"),
    }
    let forwarded_for = HeaderValue::from_maybe_shared(bytes::Bytes::from(forwarded_for))
        .expect("addresses and the values they joined are valid header text");
    req.insert_header("x-forwarded-for", forwarded_for)?;

    let keep = |req: &RequestHeader, name: &HeaderName| trusted && req.headers.contains_key(name);
    if !keep(req, &X_FORWARDED_PROTO) {
        req.insert_header("x-forwarded-proto", if tls { "https" } else { "http" })?;
    }
    if !keep(req, &X_FORWARDED_HOST) {
        // The Host as it came (before any `host_rewrite`), or the target's
        // authority for HTTP/2.
        let host = req.headers.get(HOST).cloned().or_else(|| {
            req.uri
                .authority()
                .and_then(|a| HeaderValue::from_str(a.as_str()).ok())
        });
        match host {
            Some(host) => req.insert_header("x-forwarded-host", host)?,
            None => {
                req.remove_header(&X_FORWARDED_HOST);
            }
        }
    }
    Ok(())
}

fn joined(headers: &HeaderMap, name: &HeaderName) -> Option<String> {
    let values: Vec<&str> = headers
        .get_all(name)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    (!values.is_empty()).then(|| values.join(", "))
}

/// The hop-by-hop headers of a message: the fixed list plus any header named
/// in `Connection`. An upgrade (WebSocket) keeps `Connection: upgrade` and
/// `Upgrade`. Pingora's headers keep their own case map, so callers remove
/// these through its API.
pub fn hop_by_hop_names(headers: &HeaderMap, upgrade: bool) -> Vec<HeaderName> {
    // Runs on every response: nothing is allocated unless one is present,
    // which for most messages none is. One pass over the message's few
    // names costs less than a hash lookup per name on the fixed list.
    let mut names: Vec<HeaderName> = Vec::new();
    for name in headers.keys() {
        let hop_by_hop =
            HOP_BY_HOP.contains(name) || !upgrade && (name == UPGRADE || name == CONNECTION);
        if hop_by_hop {
            names.push(name.clone());
        }
    }
    let named = headers
        .get_all(CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| {
            !(t.is_empty()
                || t.eq_ignore_ascii_case("close")
                || t.eq_ignore_ascii_case("keep-alive")
                || upgrade && t.eq_ignore_ascii_case("upgrade"))
        })
        .filter_map(|t| HeaderName::from_bytes(t.as_bytes()).ok());
    for name in named {
        if headers.contains_key(&name) && !names.contains(&name) {
            names.push(name);
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sorted_names(headers: &HeaderMap, upgrade: bool) -> Vec<String> {
        let mut names: Vec<String> = hop_by_hop_names(headers, upgrade)
            .iter()
            .map(HeaderName::to_string)
            .collect();
        names.sort();
        names
    }

    #[test]
    fn connection_named_headers_are_removed() {
        let mut h = HeaderMap::new();
        h.insert("connection", "close, x-secret".parse().unwrap());
        h.insert("x-secret", "1".parse().unwrap());
        h.insert("keep-alive", "timeout=5".parse().unwrap());
        h.insert("x-kept", "1".parse().unwrap());
        let names = sorted_names(&h, false);
        assert_eq!(names, ["connection", "keep-alive", "x-secret"]);
    }

    #[test]
    fn each_name_comes_once_and_only_when_present() {
        let mut h = HeaderMap::new();
        h.insert("connection", "te, TE, x-gone, upgrade".parse().unwrap());
        h.append("te", "trailers".parse().unwrap());
        h.append("te", "gzip".parse().unwrap());
        h.insert("upgrade", "websocket".parse().unwrap());
        h.insert("proxy-authorization", "Basic eA==".parse().unwrap());
        let names = sorted_names(&h, false);
        assert_eq!(
            names,
            ["connection", "proxy-authorization", "te", "upgrade"]
        );
        // An upgrade keeps Connection and Upgrade, not what Connection names.
        let names = sorted_names(&h, true);
        assert_eq!(names, ["proxy-authorization", "te"]);
    }

    #[test]
    fn upgrade_keeps_upgrade_headers() {
        let mut h = HeaderMap::new();
        h.insert("connection", "Upgrade".parse().unwrap());
        h.insert("upgrade", "websocket".parse().unwrap());
        assert!(hop_by_hop_names(&h, true).is_empty());
    }

    #[test]
    fn client_address_walks_trusted_hops_from_the_right() {
        let trusted: Vec<IpNet> = vec!["10.0.0.0/8".parse().unwrap()];
        let peer: IpAddr = "10.0.0.1".parse().unwrap();
        let mut h = HeaderMap::new();
        h.append(
            "x-forwarded-for",
            "198.51.100.9, 203.0.113.7".parse().unwrap(),
        );
        h.append("x-forwarded-for", "10.1.1.1".parse().unwrap());
        let client = |h: &HeaderMap, peer: IpAddr| client_address(Some(peer), h, &trusted);
        // 10.1.1.1 is a trusted hop; 203.0.113.7 is the first untrusted one.
        assert_eq!(client(&h, peer), Some("203.0.113.7".parse().unwrap()));
        // From an untrusted peer the header is ignored.
        let stranger: IpAddr = "192.0.2.1".parse().unwrap();
        assert_eq!(client(&h, stranger), Some(stranger));
        // Garbage stops the walk at the last good hop; no header: the peer.
        let mut bad = HeaderMap::new();
        bad.insert("x-forwarded-for", "not-an-ip, 10.2.2.2".parse().unwrap());
        assert_eq!(client(&bad, peer), Some("10.2.2.2".parse().unwrap()));
        assert_eq!(client(&HeaderMap::new(), peer), Some(peer));
    }

    #[test]
    fn untrusted_forwarded_values_are_replaced() {
        let mut req = RequestHeader::build("GET", b"/", None).unwrap();
        req.insert_header("x-forwarded-for", "6.6.6.6").unwrap();
        req.insert_header("x-forwarded-proto", "https").unwrap();
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        req.insert_header("host", "a.test").unwrap();
        set_forwarded(&mut req, Some(peer), false, false).unwrap();
        assert_eq!(req.headers["x-forwarded-for"], "10.1.2.3");
        assert_eq!(req.headers["x-forwarded-proto"], "http");
        assert_eq!(req.headers["x-forwarded-host"], "a.test");
        // No Host to forward: a client's own X-Forwarded-Host goes too.
        let mut req = RequestHeader::build("GET", b"/", None).unwrap();
        req.insert_header("x-forwarded-host", "forged.test")
            .unwrap();
        set_forwarded(&mut req, None, false, true).unwrap();
        assert!(!req.headers.contains_key("x-forwarded-host"));
        assert_eq!(req.headers["x-forwarded-for"], "unknown");
        assert_eq!(req.headers["x-forwarded-proto"], "https");
    }

    #[test]
    fn trusted_forwarded_values_are_appended() {
        let mut req = RequestHeader::build("GET", b"/", None).unwrap();
        req.insert_header("x-forwarded-for", "1.1.1.1").unwrap();
        req.insert_header("x-forwarded-proto", "https").unwrap();
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        let trusted = is_trusted(Some(peer), &["10.0.0.0/8".parse().unwrap()]);
        req.insert_header("host", "a.test").unwrap();
        set_forwarded(&mut req, Some(peer), trusted, false).unwrap();
        assert_eq!(req.headers["x-forwarded-for"], "1.1.1.1, 10.1.2.3");
        assert_eq!(req.headers["x-forwarded-proto"], "https");
    }
}
