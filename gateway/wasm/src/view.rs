//! The request and response as filters see them.
//!
//! The proxy builds a [`RequestView`] once per request from Pingora's header and
//! keeps it, with the response and the context bag, in one boxed [`Exchange`]
//! that each call moves into the filter's store and back out: a pointer swap,
//! no copy per filter or per call. Filters' header edits are applied to the
//! view and journalled, so the proxy can replay them onto Pingora's header
//! without diffing.

use std::net::IpAddr;

use http::{HeaderMap, HeaderName, HeaderValue, Method};

use crate::context_bag::ContextBag;

/// One header change made by a filter, in the order it was made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeaderEdit {
    Set(HeaderName, HeaderValue),
    Append(HeaderName, HeaderValue),
    Remove(HeaderName),
}

#[derive(Debug, Clone, Default)]
pub struct RequestView {
    pub method: Method,
    pub path: String,
    pub query: Option<String>,
    pub headers: HeaderMap,
    /// Formatted only when a filter asks for it.
    pub client_ip: Option<IpAddr>,
    pub request_id: String,
    /// Set when a filter changed the path or the query.
    pub uri_changed: bool,
    pub edits: Vec<HeaderEdit>,
}

#[derive(Debug, Clone, Default)]
pub struct ResponseView {
    pub status: u16,
    pub headers: HeaderMap,
    pub status_changed: bool,
    pub edits: Vec<HeaderEdit>,
}

/// What the filters of one chain share for one request: the request and
/// the response as they see them, and the context bag. A call moves the box
/// into the filter's store and back.
#[derive(Debug, Clone, Default)]
pub struct Exchange {
    pub request: RequestView,
    pub response: ResponseView,
    pub context: ContextBag,
    /// Response-header edits made in request phases, waiting for the
    /// response (see [`Exchange::response_arrived`]).
    pending_response_edits: Vec<HeaderEdit>,
    response_arrived: bool,
}

impl Exchange {
    pub fn new(request: RequestView) -> Box<Exchange> {
        Box::new(Exchange {
            request,
            ..Exchange::default()
        })
    }

    /// A response (the upstream's, a filter's or weir's own) is about to
    /// go through the response phases. Returns the response-header edits
    /// the request phases made, in order, for the caller to apply to it
    /// first; from now on such edits are refused (filters edit the response
    /// itself). The edits stay: a response that replaces this one (weir's
    /// 503 when a response-body filter fails closed) gets them too.
    pub fn response_arrived(&mut self) -> &[HeaderEdit] {
        self.response_arrived = true;
        &self.pending_response_edits
    }

    /// Queues a response-header edit made in a request phase.
    pub(crate) fn defer_response_edit(&mut self, edit: HeaderEdit) -> Result<(), String> {
        if self.response_arrived {
            return Err(
                "the response has arrived: edit its headers through the response handle".to_owned(),
            );
        }
        self.pending_response_edits.push(edit);
        Ok(())
    }
}

/// Checks a header edit's name and value; values with CR, LF or NUL and
/// invalid names are refused.
pub(crate) fn header_edit(name: &str, value: &[u8], append: bool) -> Result<HeaderEdit, String> {
    let name = HeaderName::from_bytes(name.as_bytes())
        .map_err(|_| format!("invalid header name {name:?}"))?;
    // HeaderValue refuses CR, LF and NUL (and other control bytes but tab).
    let value = HeaderValue::from_bytes(value).map_err(|_| {
        format!("invalid value for header {name}: control characters are not allowed")
    })?;
    Ok(if append {
        HeaderEdit::Append(name, value)
    } else {
        HeaderEdit::Set(name, value)
    })
}

pub(crate) fn remove_edit(name: &str) -> Result<HeaderEdit, String> {
    HeaderName::from_bytes(name.as_bytes())
        .map(HeaderEdit::Remove)
        .map_err(|_| format!("invalid header name {name:?}"))
}

/// Applies `edits` in order to a header map.
pub fn apply_edits(headers: &mut HeaderMap, edits: impl IntoIterator<Item = HeaderEdit>) {
    for edit in edits {
        apply_edit(headers, &edit);
    }
}

fn apply_edit(headers: &mut HeaderMap, edit: &HeaderEdit) {
    match edit {
        HeaderEdit::Set(n, v) => {
            headers.insert(n.clone(), v.clone());
        }
        HeaderEdit::Append(n, v) => {
            headers.append(n.clone(), v.clone());
        }
        HeaderEdit::Remove(n) => {
            headers.remove(n);
        }
    }
}

/// Header edits shared by requests and responses: checked, applied to the
/// view and journalled; a refused edit changes nothing.
pub(crate) fn set_header(
    headers: &mut HeaderMap,
    edits: &mut Vec<HeaderEdit>,
    name: &str,
    value: &[u8],
    append: bool,
) -> Result<(), String> {
    let edit = header_edit(name, value, append)?;
    apply_edit(headers, &edit);
    edits.push(edit);
    Ok(())
}

pub(crate) fn remove_header(headers: &mut HeaderMap, edits: &mut Vec<HeaderEdit>, name: &str) {
    if let Ok(edit) = remove_edit(name) {
        apply_edit(headers, &edit);
        edits.push(edit);
    }
}

pub(crate) fn header_first(headers: &HeaderMap, name: &str) -> Option<Vec<u8>> {
    headers.get(name).map(|v| v.as_bytes().to_vec())
}

pub(crate) fn header_all(headers: &HeaderMap, name: &str) -> Vec<Vec<u8>> {
    headers
        .get_all(name)
        .iter()
        .map(|v| v.as_bytes().to_vec())
        .collect()
}

pub(crate) fn header_list(headers: &HeaderMap) -> Vec<(String, Vec<u8>)> {
    headers
        .iter()
        .map(|(n, v)| (n.as_str().to_owned(), v.as_bytes().to_vec()))
        .collect()
}

/// A path set by a filter must be a valid origin-form path.
pub(crate) fn check_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("path must start with '/': {path:?}"));
    }
    if path
        .bytes()
        .any(|b| b <= b' ' || b == 0x7f || b == b'?' || b == b'#')
    {
        return Err(format!(
            "path contains a character not allowed in a path: {path:?}"
        ));
    }
    Ok(())
}

pub(crate) fn check_query(query: &str) -> Result<(), String> {
    if query.bytes().any(|b| b <= b' ' || b == 0x7f || b == b'#') {
        return Err(format!(
            "query contains a character not allowed in a query: {query:?}"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_in_values_are_refused_and_change_nothing() {
        let (mut headers, mut edits) = (HeaderMap::new(), Vec::new());
        for bad in [&b"a\r\nb"[..], b"a\nb", b"a\0b", b"a\rb"] {
            assert!(set_header(&mut headers, &mut edits, "x-h", bad, false).is_err());
        }
        assert!(set_header(&mut headers, &mut edits, "bad name", b"v", false).is_err());
        assert!(headers.is_empty() && edits.is_empty());
    }

    #[test]
    fn edits_are_applied_and_journalled_in_order() {
        let (mut headers, mut edits) = (HeaderMap::new(), Vec::new());
        set_header(&mut headers, &mut edits, "X-A", b"1", false).unwrap();
        set_header(&mut headers, &mut edits, "x-a", b"2", true).unwrap();
        remove_header(&mut headers, &mut edits, "x-b");
        assert_eq!(header_all(&headers, "x-a"), [b"1".to_vec(), b"2".to_vec()]);
        let a = HeaderName::from_static("x-a");
        assert_eq!(
            edits,
            [
                HeaderEdit::Set(a.clone(), HeaderValue::from_static("1")),
                HeaderEdit::Append(a, HeaderValue::from_static("2")),
                HeaderEdit::Remove(HeaderName::from_static("x-b")),
            ]
        );
    }

    #[test]
    fn response_edits_wait_for_the_response_and_are_refused_after_it() {
        let mut exchange = Exchange::new(RequestView::default());
        let edit = header_edit("x-a", b"1", false).unwrap();
        exchange.defer_response_edit(edit.clone()).unwrap();
        exchange
            .defer_response_edit(remove_edit("server").unwrap())
            .unwrap();
        let queued = [edit.clone(), remove_edit("server").unwrap()];
        assert_eq!(exchange.response_arrived(), queued);
        assert!(exchange.defer_response_edit(edit).is_err());
        // A response that replaces the first gets the same edits.
        assert_eq!(exchange.response_arrived(), queued);
        assert!(remove_edit("bad name").is_err());
    }

    #[test]
    fn paths_and_queries_must_stay_in_their_part_of_the_uri() {
        assert!(check_path("/a/b").is_ok());
        for bad in ["a", "/a b", "/a?b", "/a#b", "/a\r\n"] {
            assert!(check_path(bad).is_err(), "{bad:?}");
        }
        assert!(check_query("a=1&b=2").is_ok());
        assert!(check_query("a=1#frag").is_err());
    }
}
