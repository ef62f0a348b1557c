//! What weir refuses in a request header: the listener's size limits (414,
//! 431), and strict HTTP/1.1 checks (RFC 9112, RFC 9110 §7.2) on top of what
//! Pingora's parser already refuses. Pingora answers 400 before any hook for
//! what httparse cannot parse (bad method token, version other than HTTP/1.0
//! or 1.1, whitespace before a colon, obs-fold, CTLs in field values),
//! duplicate Host, Host disagreeing with an absolute-form target, differing or
//! non-numeric Content-Length, a Transfer-Encoding whose last coding is not
//! `chunked`, and Transfer-Encoding in HTTP/1.0. What reaches this module
//! parsed; it refuses what is still invalid or ambiguous, and weir closes the
//! connection after the answer so nothing left in it is read as a request.
//! docs/operations.md ("What weir rejects") lists both sides.

use http::header::{CONTENT_LENGTH, HOST, TRANSFER_ENCODING};
use pingora::http::RequestHeader;
use pingora::protocols::http::ServerSession;
use pingora::proxy::Session;
use weir_config::RequestLimits;

/// Why a request is refused, and the status it gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub reason: &'static str,
}

const fn bad_request(reason: &'static str) -> Refusal {
    Refusal {
        status: 400,
        reason,
    }
}

/// Checks a request header against the listener's limits and, for HTTP/1
/// (HTTP/2 frames requests itself), against RFC 9112; collapses identical
/// repeated Content-Length values into one.
pub fn enforce(session: &mut Session, limits: &RequestLimits) -> Result<(), Refusal> {
    // The raw header bounds what its fields add up to: counting them is
    // only needed when it is larger than the limit.
    let mut raw_len = None;
    if let ServerSession::H1(h1) = session.as_downstream() {
        let raw = h1.get_headers_raw_bytes();
        raw_len = Some(raw.len());
        let req = session.req_header();
        check_raw_header(&raw, limits.max_request_line, req)?;
        check_host(req)?;
        check_transfer_codings(req)?;
        collapse_content_length(session.req_header_mut());
    }
    if raw_len.is_none_or(|len| len > limits.max_header_bytes)
        && header_bytes(session.req_header()) > limits.max_header_bytes
    {
        return Err(Refusal {
            status: 431,
            reason: "request headers too large",
        });
    }
    Ok(())
}

/// What `max_header_bytes` counts: names and values.
fn header_bytes(req: &RequestHeader) -> usize {
    req.headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len())
        .sum()
}

/// Checks on the bytes as received: line endings, the request line, and
/// framing headers Pingora drops while parsing.
fn check_raw_header(
    raw: &[u8],
    max_request_line: usize,
    parsed: &RequestHeader,
) -> Result<(), Refusal> {
    check_line_endings(raw)?;
    // RFC 9112 §2.2: empty lines before the request line are ignored.
    let start = raw
        .iter()
        .position(|&b| b != b'\r' && b != b'\n')
        .unwrap_or(raw.len());
    let rest = &raw[start..];
    // Every LF ends a CRLF here (checked above).
    let line_end = memchr::memchr(b'\n', rest).map_or(rest.len(), |lf| lf - 1);
    let request_line = &rest[..line_end];
    if request_line.len() > max_request_line {
        return Err(Refusal {
            status: 414,
            reason: "request line too long",
        });
    }
    check_request_line(request_line)?;
    // Pingora keeps Transfer-Encoding and drops Content-Length when both
    // come: only then do the raw lines need a look.
    if parsed.headers.contains_key(TRANSFER_ENCODING)
        && has_field(&rest[line_end..], b"content-length")
    {
        // RFC 9112 §6.1: ambiguous framing is how requests are smuggled.
        return Err(bad_request("both Content-Length and Transfer-Encoding"));
    }
    Ok(())
}

/// RFC 9112 §2.2 lets a server accept a bare LF as a line ending; httparse
/// does. weir refuses it: a peer in front of weir that does not (a CDN, a
/// load balancer) would see other header fields than weir does.
fn check_line_endings(raw: &[u8]) -> Result<(), Refusal> {
    for i in memchr::memchr2_iter(b'\r', b'\n', raw) {
        if raw[i] == b'\n' {
            if i == 0 || raw[i - 1] != b'\r' {
                return Err(bad_request("bare LF line ending"));
            }
        } else if raw.get(i + 1) != Some(&b'\n') {
            return Err(bad_request("bare CR"));
        }
    }
    Ok(())
}

/// RFC 9112 §3: `method SP request-target SP HTTP-version`, and §3.2: the
/// target's form must suit the method.
fn check_request_line(line: &[u8]) -> Result<(), Refusal> {
    let mut parts = line.split(|&b| b == b' ');
    let (Some(method), Some(target), Some(_version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad_request("malformed request line"));
    };
    check_target(method, target)
}

fn check_target(method: &[u8], target: &[u8]) -> Result<(), Refusal> {
    // Visible ASCII only. (Pingora percent-encodes spaces and controls in
    // the target before any hook sees it; other non-ASCII bytes stay raw.)
    if !target.iter().all(|b| (0x21..=0x7e).contains(b)) {
        return Err(bad_request("invalid character in request target"));
    }
    // §3.2: a request target has no fragment. Pingora would drop it silently.
    if memchr::memchr(b'#', target).is_some() {
        return Err(bad_request("fragment in request target"));
    }
    if target == b"*" {
        // §3.2.4: asterisk-form is for OPTIONS only.
        return if method == b"OPTIONS" {
            Ok(())
        } else {
            Err(bad_request("asterisk-form target is for OPTIONS only"))
        };
    }
    if target.starts_with(b"/") {
        return Ok(()); // origin-form, §3.2.1
    }
    match absolute_form_scheme(target) {
        // §3.2.2; Pingora checks the authority against Host.
        Some(scheme) if scheme.eq_ignore_ascii_case(b"http") => Ok(()),
        Some(scheme) if scheme.eq_ignore_ascii_case(b"https") => Ok(()),
        Some(_) => Err(bad_request("request target scheme is not http or https")),
        // Authority-form is for CONNECT only (§3.2.3), which Pingora answers
        // with 405 before weir sees it; anything else (`?q`, `host:80`) is no form.
        None => Err(bad_request(
            "request target is neither origin-form nor absolute-form",
        )),
    }
}

/// `scheme` of a `scheme://...` target (RFC 3986 §3.1 scheme syntax).
fn absolute_form_scheme(target: &[u8]) -> Option<&[u8]> {
    let end = target.windows(3).position(|w| w == b"://")?;
    let scheme = &target[..end];
    let valid = scheme.first().is_some_and(u8::is_ascii_alphabetic)
        && scheme
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    valid.then_some(scheme)
}

/// Whether a header line named `name` is among `fields` (raw lines).
fn has_field(fields: &[u8], name: &[u8]) -> bool {
    fields.split(|&b| b == b'\n').any(|line| {
        line.iter()
            .position(|&b| b == b':')
            .is_some_and(|colon| line[..colon].eq_ignore_ascii_case(name))
    })
}

/// RFC 9112 §3.2: an HTTP/1.1 request has exactly one Host field, and its
/// value is `uri-host [ ":" port ]` (empty when the target has no authority).
fn check_host(req: &RequestHeader) -> Result<(), Refusal> {
    let mut hosts = req.headers.get_all(HOST).iter();
    match (hosts.next(), hosts.next()) {
        (None, _) if req.version == http::Version::HTTP_11 => {
            Err(bad_request("missing Host header"))
        }
        (None, _) => Ok(()),
        (Some(_), Some(_)) => Err(bad_request("more than one Host header")),
        (Some(host), None) if valid_host(host.as_bytes()) => Ok(()),
        (Some(_), None) => Err(bad_request("invalid Host header")),
    }
}

fn valid_host(value: &[u8]) -> bool {
    if value.is_empty() || plain_host(value) {
        return true;
    }
    let Ok(authority) = http::uri::Authority::try_from(value) else {
        return false;
    };
    // No userinfo (RFC 9110 §4.2.4); `port = *DIGIT`, which the http crate
    // leaves unchecked.
    let after_host = &authority.as_str()[authority.host().len()..];
    !value.contains(&b'@')
        && (after_host.is_empty()
            || after_host
                .strip_prefix(':')
                .is_some_and(|port| port.bytes().all(|b| b.is_ascii_digit())))
}

/// The common case, checked without parsing: a host name or IPv4 address
/// (letters, digits, `-` and `.`, not empty) and an optional `:port` of
/// digits. Anything else goes through the full authority parse.
fn plain_host(value: &[u8]) -> bool {
    let (host, port) = match memchr::memchr(b':', value) {
        Some(colon) => (&value[..colon], Some(&value[colon + 1..])),
        None => (value, None),
    };
    !host.is_empty()
        && host
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.')
        && port.is_none_or(|p| p.iter().all(u8::is_ascii_digit))
}

/// RFC 9112 §6.1: `chunked` is applied once, last (Pingora refuses a list
/// whose last coding is not `chunked`). weir decodes no other coding and
/// would pass the body on without it, so any other coding gets 501.
fn check_transfer_codings(req: &RequestHeader) -> Result<(), Refusal> {
    let mut codings = Vec::new();
    for value in req.headers.get_all(TRANSFER_ENCODING) {
        let Ok(text) = value.to_str() else {
            return Err(bad_request("invalid Transfer-Encoding"));
        };
        // Empty list elements are ignored (RFC 9110 §5.6.1).
        codings.extend(
            text.split(',')
                .map(|c| c.trim_matches([' ', '\t']))
                .filter(|c| !c.is_empty()),
        );
    }
    let Some((last, earlier)) = codings.split_last() else {
        return Ok(());
    };
    if !last.eq_ignore_ascii_case("chunked") {
        return Err(bad_request("chunked is not the last transfer coding"));
    }
    if earlier.iter().any(|c| c.eq_ignore_ascii_case("chunked")) {
        return Err(bad_request("chunked applied more than once"));
    }
    if !earlier.is_empty() {
        return Err(Refusal {
            status: 501,
            reason: "unsupported transfer coding",
        });
    }
    Ok(())
}

/// Pingora accepts repeated Content-Length values when they agree
/// (`5, 5` or two lines of `5`, RFC 9110 §8.6) but forwards them as sent;
/// the upstream gets the one value instead.
fn collapse_content_length(req: &mut RequestHeader) {
    let values = req.headers.get_all(CONTENT_LENGTH);
    let mut lines = values.iter();
    let repeated = match (lines.next(), lines.next()) {
        (Some(first), None) => first.as_bytes().contains(&b','),
        (Some(_), Some(_)) => true,
        (None, _) => false,
    };
    if !repeated {
        return;
    }
    let first = values
        .iter()
        .next()
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if let Some(length) = first {
        let _ = req.insert_header(CONTENT_LENGTH, length.to_string());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `raw` checked as Pingora would hand it over: parsed, with
    /// Transfer-Encoding kept when it came.
    fn status(raw: &[u8]) -> Option<u16> {
        let mut parsed = RequestHeader::build("GET", b"/", None).unwrap();
        if raw
            .to_ascii_lowercase()
            .windows(18)
            .any(|w| w == b"transfer-encoding:")
        {
            parsed.insert_header(TRANSFER_ENCODING, "chunked").unwrap();
        }
        check_raw_header(raw, 64, &parsed).err().map(|r| r.status)
    }

    #[test]
    fn request_lines() {
        assert_eq!(status(b"GET /a?b=c HTTP/1.1\r\nHost: x\r\n\r\n"), None);
        assert_eq!(status(b"\r\nGET / HTTP/1.1\r\n\r\n"), None);
        assert_eq!(status(b"OPTIONS * HTTP/1.1\r\n\r\n"), None);
        assert_eq!(status(b"GET http://x/a HTTP/1.1\r\n\r\n"), None);
        assert_eq!(status(b"GET HTTPS://x HTTP/1.1\r\n\r\n"), None);
        for bad in [
            &b"GET * HTTP/1.1\r\n\r\n"[..],
            b"GET x:80 HTTP/1.1\r\n\r\n",
            b"GET ?a HTTP/1.1\r\n\r\n",
            b"GET %20/ HTTP/1.1\r\n\r\n",
            b"GET ftp://x/ HTTP/1.1\r\n\r\n",
            b"GET /a#b HTTP/1.1\r\n\r\n",
            "GET /é HTTP/1.1\r\n\r\n".as_bytes(),
            b"GET / HTTP/1.1\nHost: x\n\n",
            b"GET / HTTP/1.1\r\nHost: x\r\nX: a\rb\r\n\r\n",
            b"POST / HTTP/1.1\r\nContent-Length: 1\r\ntransfer-encoding: chunked\r\n\r\n",
        ] {
            assert_eq!(status(bad), Some(400), "{}", bad.escape_ascii());
        }
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(64));
        assert_eq!(status(long.as_bytes()), Some(414));
    }

    fn request(version: http::Version, fields: &[(&str, &str)]) -> RequestHeader {
        let mut req = RequestHeader::build("POST", b"/", None).unwrap();
        req.set_version(version);
        for (name, value) in fields {
            req.append_header(name.to_string(), *value).unwrap();
        }
        req
    }

    #[test]
    fn host_field() {
        let v11 = http::Version::HTTP_11;
        let check =
            |fields: &[(&str, &str)]| check_host(&request(v11, fields)).map_err(|r| r.status);
        assert_eq!(check(&[("host", "a.example:8080")]), Ok(()));
        assert_eq!(check(&[("host", "127.0.0.1:8083")]), Ok(()));
        assert_eq!(check(&[("host", "a-b.example")]), Ok(()));
        assert_eq!(check(&[("host", "[::1]:8080")]), Ok(()));
        assert_eq!(check(&[("host", "")]), Ok(()));
        assert_eq!(check(&[]), Err(400));
        assert_eq!(check(&[("host", "a"), ("host", "a")]), Err(400));
        for bad in ["a b", "u@a", "a/b", "a:port", "a:8:8", "a_b:80/"] {
            assert_eq!(check(&[("host", bad)]), Err(400), "{bad}");
        }
        assert!(check_host(&request(http::Version::HTTP_10, &[])).is_ok());
    }

    #[test]
    fn transfer_codings() {
        let check = |values: &[&str]| {
            let fields: Vec<_> = values.iter().map(|v| ("transfer-encoding", *v)).collect();
            check_transfer_codings(&request(http::Version::HTTP_11, &fields)).map_err(|r| r.status)
        };
        assert_eq!(check(&["chunked"]), Ok(()));
        assert_eq!(check(&["Chunked"]), Ok(()));
        assert_eq!(check(&[", chunked"]), Ok(()));
        assert_eq!(check(&["chunked", "chunked"]), Err(400));
        assert_eq!(check(&["chunked, chunked"]), Err(400));
        assert_eq!(check(&["gzip, chunked"]), Err(501));
        assert_eq!(check(&["gzip", "chunked"]), Err(501));
    }

    #[test]
    fn agreeing_content_lengths_become_one() {
        let mut req = request(
            http::Version::HTTP_11,
            &[("content-length", "5"), ("content-length", "5")],
        );
        collapse_content_length(&mut req);
        let values: Vec<_> = req.headers.get_all(CONTENT_LENGTH).iter().collect();
        assert_eq!(values, ["5"]);
        let mut req = request(http::Version::HTTP_11, &[("content-length", "7, 7")]);
        collapse_content_length(&mut req);
        assert_eq!(req.headers.get(CONTENT_LENGTH).unwrap(), "7");
    }
}
