//! Finding the token in a request: a header (with or without a scheme such
//! as `Bearer`), a cookie, or a query parameter, tried in the configured
//! order.

use weir_filter_sdk::Request;

use crate::settings::TokenSource;

/// The token from the first source that carries one.
pub fn find(req: &Request, sources: &[TokenSource]) -> Option<String> {
    sources.iter().find_map(|source| match source {
        TokenSource::Header { name, scheme } => from_header(req, name, scheme.as_deref()),
        TokenSource::Cookie(name) => from_cookies(req, name),
        TokenSource::Query(name) => from_query(req.query().as_deref()?, name),
    })
}

fn from_header(req: &Request, name: &str, scheme: Option<&str>) -> Option<String> {
    let value = req.header_str(name)?;
    let value = value.trim();
    let token = match scheme {
        None => value,
        // RFC 9110: the scheme is case-insensitive and followed by spaces.
        Some(scheme) => {
            let (given, rest) = value.split_once(' ')?;
            if !given.eq_ignore_ascii_case(scheme) {
                return None;
            }
            rest.trim_start()
        }
    };
    non_empty(token)
}

fn from_cookies(req: &Request, name: &str) -> Option<String> {
    // A request may carry several Cookie headers (HTTP/2 splits them).
    req.header_all("cookie").iter().find_map(|header| {
        String::from_utf8_lossy(header).split(';').find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name)
                .then(|| non_empty(value.trim_matches('"')))
                .flatten()
        })
    })
}

fn from_query(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (percent_decode(key)? == name)
            .then(|| percent_decode(value).and_then(|v| non_empty(&v)))
            .flatten()
    })
}

fn non_empty(token: &str) -> Option<String> {
    (!token.is_empty()).then(|| token.to_owned())
}

/// `%XX` escapes and `+` (a space in form encoding); None if malformed.
fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = std::str::from_utf8(bytes.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            byte => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}
