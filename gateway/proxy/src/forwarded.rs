//! Headers a proxy owns: `X-Forwarded-*`, `X-Request-Id` and hop-by-hop
//! headers (RFC 9110 §7.6.1), which describe one connection and must not be
//! passed on.

use std::net::IpAddr;

use http::HeaderMap;
use ipnet::IpNet;
use pingora::http::RequestHeader;

const HOP_BY_HOP: [&str; 6] = [
    "keep-alive",
    "proxy-connection",
    "te",
    "trailer",
    "proxy-authenticate",
    "proxy-authorization",
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
    original_host: Option<&str>,
) -> pingora::Result<()> {
    let peer_text = peer
        .map(|ip| ip.to_string())
        .unwrap_or_else(|| "unknown".into());
    let incoming_for = trusted
        .then(|| joined(&req.headers, "x-forwarded-for"))
        .flatten();
    let forwarded_for = match incoming_for {
        Some(chain) => format!("{chain}, {peer_text}"),
        None => peer_text,
    };
    req.insert_header("x-forwarded-for", forwarded_for)?;

    let keep = |req: &RequestHeader, name: &str| trusted && req.headers.contains_key(name);
    if !keep(req, "x-forwarded-proto") {
        req.insert_header("x-forwarded-proto", if tls { "https" } else { "http" })?;
    }
    if !keep(req, "x-forwarded-host") {
        match original_host {
            Some(host) => req.insert_header("x-forwarded-host", host)?,
            None => {
                req.remove_header("x-forwarded-host");
            }
        }
    }
    Ok(())
}

fn joined(headers: &HeaderMap, name: &str) -> Option<String> {
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
pub fn hop_by_hop_names(headers: &HeaderMap, upgrade: bool) -> Vec<String> {
    // Runs twice per request: only names actually present are allocated,
    // which for most messages is none.
    let mut names: Vec<String> = headers
        .get_all(http::header::CONNECTION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|t| {
            let kept = t.is_empty()
                || t.eq_ignore_ascii_case("close")
                || t.eq_ignore_ascii_case("keep-alive")
                || upgrade && t.eq_ignore_ascii_case("upgrade");
            !kept && headers.contains_key(*t)
        })
        .map(str::to_ascii_lowercase)
        .collect();
    let fixed: &[&str] = if upgrade {
        &[]
    } else {
        &["upgrade", "connection"]
    };
    for name in HOP_BY_HOP.iter().chain(fixed) {
        if headers.contains_key(*name) && !names.iter().any(|n| n == name) {
            names.push((*name).to_owned());
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_named_headers_are_removed() {
        let mut h = HeaderMap::new();
        h.insert("connection", "close, x-secret".parse().unwrap());
        h.insert("x-secret", "1".parse().unwrap());
        h.insert("keep-alive", "timeout=5".parse().unwrap());
        h.insert("x-kept", "1".parse().unwrap());
        let mut names = hop_by_hop_names(&h, false);
        names.sort();
        assert_eq!(names, ["connection", "keep-alive", "x-secret"]);
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
        set_forwarded(&mut req, Some(peer), false, false, Some("a.test")).unwrap();
        assert_eq!(req.headers["x-forwarded-for"], "10.1.2.3");
        assert_eq!(req.headers["x-forwarded-proto"], "http");
        assert_eq!(req.headers["x-forwarded-host"], "a.test");
    }

    #[test]
    fn trusted_forwarded_values_are_appended() {
        let mut req = RequestHeader::build("GET", b"/", None).unwrap();
        req.insert_header("x-forwarded-for", "1.1.1.1").unwrap();
        req.insert_header("x-forwarded-proto", "https").unwrap();
        let peer: IpAddr = "10.1.2.3".parse().unwrap();
        let trusted = is_trusted(Some(peer), &["10.0.0.0/8".parse().unwrap()]);
        set_forwarded(&mut req, Some(peer), trusted, false, Some("a.test")).unwrap();
        assert_eq!(req.headers["x-forwarded-for"], "1.1.1.1, 10.1.2.3");
        assert_eq!(req.headers["x-forwarded-proto"], "https");
    }
}
