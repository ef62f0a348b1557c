//! W3C Trace Context (https://www.w3.org/TR/trace-context/): the request's
//! trace, continued from the client's `traceparent` or started here, and the
//! `traceparent` weir sends upstream with its own span as the parent.

use http::header::HeaderValue;
use http::{HeaderMap, HeaderName};
use weir_wasm::ContextBag;

const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// `traceparent` is always 55 bytes in version 00.
const TRACEPARENT_LEN: usize = 55;
/// The `sampled` bit of the trace flags.
pub const SAMPLED: u8 = 0x01;

/// A request's trace: ids, flags, and the client's span if it sent one.
#[derive(Debug, Clone)]
pub struct TraceContext {
    pub trace_id: [u8; 16],
    /// The client's span (the parent of weir's), if the trace was continued.
    pub parent_span_id: Option<[u8; 8]>,
    /// weir's own span for this request.
    pub span_id: [u8; 8],
    pub flags: u8,
    /// Passed on as is (weir adds no entry of its own).
    pub tracestate: Option<HeaderValue>,
}

impl TraceContext {
    /// Continues the client's trace if its `traceparent` is valid, else
    /// starts one; `sample` decides the sampled flag of a new trace from its id.
    pub fn from_headers(headers: &HeaderMap, sample: impl FnOnce(&[u8; 16]) -> bool) -> Self {
        let span_id = new_span_id();
        if let Some((trace_id, parent, flags)) =
            single(headers, &TRACEPARENT).and_then(|v| parse_traceparent(v.as_bytes()))
        {
            // tracestate belongs to the traceparent: dropped with an invalid one.
            let tracestate = single(headers, &TRACESTATE)
                .filter(|v| v.len() <= 512)
                .cloned();
            return TraceContext {
                trace_id,
                parent_span_id: Some(parent),
                span_id,
                flags,
                tracestate,
            };
        }
        let trace_id = new_trace_id();
        let flags = if sample(&trace_id) { SAMPLED } else { 0 };
        TraceContext {
            trace_id,
            parent_span_id: None,
            span_id,
            flags,
            tracestate: None,
        }
    }

    pub fn sampled(&self) -> bool {
        self.flags & SAMPLED != 0
    }

    /// The trace id as 32 lower-case hex digits.
    pub fn trace_id_hex(&self) -> String {
        hex(&self.trace_id)
    }

    /// `00-<trace id>-<weir's span id>-<flags>`: what the upstream gets.
    pub fn traceparent(&self) -> String {
        // Formatted into bytes: once per request for the upstream, and again
        // when a filter reads it from the context bag.
        let mut out = *b"00-________________________________-________________-__";
        let (trace, rest) = out[3..].split_at_mut(32);
        hex::encode_to_slice(self.trace_id, trace).expect("32 digits");
        hex::encode_to_slice(self.span_id, &mut rest[1..17]).expect("16 digits");
        hex::encode_to_slice([self.flags], &mut rest[18..]).expect("2 digits");
        String::from_utf8(out.to_vec()).expect("hex digits are text")
    }
}

/// A header that occurs once; a repeated `traceparent` is invalid.
fn single<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a HeaderValue> {
    let mut values = headers.get_all(name).iter();
    let first = values.next()?;
    values.next().is_none().then_some(first)
}

/// Parses `version-traceid-parentid-flags`. Version `ff` and all-zero ids are
/// invalid; hex must be lower case. A future version (not 00) may carry more
/// fields after a `-`, which are ignored as the spec asks.
fn parse_traceparent(v: &[u8]) -> Option<([u8; 16], [u8; 8], u8)> {
    if v.len() < TRACEPARENT_LEN {
        return None;
    }
    let version = parse_hex::<1>(&v[0..2])?[0];
    if version == 0xff
        || (version == 0 && v.len() != TRACEPARENT_LEN)
        || (v.len() > TRACEPARENT_LEN && v[TRACEPARENT_LEN] != b'-')
    {
        return None;
    }
    if v[2] != b'-' || v[35] != b'-' || v[52] != b'-' {
        return None;
    }
    let trace_id = parse_hex::<16>(&v[3..35])?;
    let parent = parse_hex::<8>(&v[36..52])?;
    let flags = parse_hex::<1>(&v[53..55])?[0];
    if trace_id == [0; 16] || parent == [0; 8] {
        return None;
    }
    Some((trace_id, parent, flags))
}

fn parse_hex<const N: usize>(text: &[u8]) -> Option<[u8; N]> {
    fn digit(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        }
    }
    if text.len() != 2 * N {
        return None;
    }
    let mut out = [0; N];
    for (i, pair) in text.chunks_exact(2).enumerate() {
        out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// Lower-case hex digits.
pub fn hex(bytes: &[u8]) -> String {
    let mut out = vec![0; bytes.len() * 2];
    hex::encode_to_slice(bytes, &mut out).expect("two digits a byte");
    String::from_utf8(out).expect("hex digits are text")
}

/// Random and never all zero (the spec's invalid value).
fn new_trace_id() -> [u8; 16] {
    loop {
        let id: u128 = rand::random();
        if id != 0 {
            return id.to_be_bytes();
        }
    }
}

fn new_span_id() -> [u8; 8] {
    loop {
        let id: u64 = rand::random();
        if id != 0 {
            return id.to_be_bytes();
        }
    }
}

/// Context-bag keys filters read (docs/observability.md).
pub const CONTEXT_TRACE_ID: &str = "trace_id";
pub const CONTEXT_TRACEPARENT: &str = "traceparent";

/// Puts the trace's ids into a chain's context bag, written only when a
/// filter first asks for them: most chains never do.
pub(crate) fn defer_into_context(context: &mut ContextBag, trace: &TraceContext) {
    let ids = TraceContext {
        tracestate: None,
        parent_span_id: None,
        ..*trace
    };
    context.defer(&[CONTEXT_TRACE_ID, CONTEXT_TRACEPARENT], move |context| {
        context.insert(CONTEXT_TRACE_ID.to_owned(), ids.trace_id_hex());
        context.insert(CONTEXT_TRACEPARENT.to_owned(), ids.traceparent());
    });
}

/// Sets `traceparent` (weir's span as the parent) and `tracestate` on the
/// upstream request, replacing whatever the client or a filter put there.
pub(crate) fn set_upstream_headers(
    upstream: &mut pingora::http::RequestHeader,
    trace: &TraceContext,
) -> pingora::Result<()> {
    upstream.insert_header("traceparent", trace.traceparent())?;
    match &trace.tracestate {
        Some(state) => upstream.insert_header("tracestate", state.clone())?,
        None => {
            upstream.remove_header(&TRACESTATE);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALID: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    fn ctx(traceparent: &[&str]) -> TraceContext {
        let mut headers = HeaderMap::new();
        for v in traceparent {
            headers.append("traceparent", v.parse().unwrap());
        }
        headers.insert("tracestate", "congo=t61rcWkgMzE".parse().unwrap());
        TraceContext::from_headers(&headers, |_| false)
    }

    #[test]
    fn a_valid_traceparent_is_continued() {
        let c = ctx(&[VALID]);
        assert_eq!(c.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(
            c.parent_span_id.map(|p| hex(&p)).unwrap(),
            "00f067aa0ba902b7"
        );
        assert!(c.sampled());
        assert_eq!(c.tracestate.as_ref().unwrap(), "congo=t61rcWkgMzE");
        let sent = c.traceparent();
        assert_eq!(sent.len(), 55);
        assert!(sent.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-"));
        assert!(sent.ends_with("-01"));
        assert!(
            !sent.contains("00f067aa0ba902b7"),
            "weir's own span is the parent"
        );
        assert_eq!(
            parse_traceparent(sent.as_bytes()),
            Some((c.trace_id, c.span_id, c.flags)),
            "what goes upstream reads back as the same trace, span and flags"
        );
    }

    #[test]
    fn a_future_version_may_carry_more_fields() {
        let c = ctx(&[&format!("cc{}-what-ever", &VALID[2..])]);
        assert!(c.parent_span_id.is_some());
    }

    #[test]
    fn invalid_traceparents_start_a_new_trace() {
        let bad = [
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero parent
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // version ff
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x", // 00 with more
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  // short id
            "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // separator
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g", // flags
            "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x", // no dash after
            "",
        ];
        for v in bad {
            let c = ctx(&[v]);
            assert!(c.parent_span_id.is_none(), "{v:?} accepted");
            assert!(c.tracestate.is_none(), "tracestate kept with {v:?}");
            assert_ne!(c.trace_id, [0; 16]);
            assert!(!c.sampled(), "the sampler decides a new trace");
        }
        // Two traceparent headers: ambiguous, so invalid.
        assert!(ctx(&[VALID, VALID]).parent_span_id.is_none());
    }

    #[test]
    fn new_ids_differ() {
        let a = ctx(&[]);
        let b = ctx(&[]);
        assert_ne!(a.trace_id, b.trace_id);
        assert_ne!(a.span_id, b.span_id);
    }
}
