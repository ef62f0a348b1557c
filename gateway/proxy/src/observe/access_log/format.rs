//! Formatting one line, JSON or logfmt, into a byte buffer: no intermediate
//! strings; integers by hand rather than through `fmt`, and the date part of
//! the timestamp formatted once a second per thread.

use std::cell::Cell;
use std::io::Write;
use std::net::IpAddr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use weir_config::{AccessLogField, AccessLogFormat};

use super::Record;
use crate::observe::text::{int, ip_text};

/// A value of one field; `None` is JSON `null`, an empty logfmt value.
enum Value<'a> {
    None,
    Str(&'a str),
    Ip(IpAddr),
    Int(u64),
    Millis(Duration),
    Time(SystemTime),
    Hex(&'a [u8; 16]),
}

fn value<'a>(field: AccessLogField, r: &'a Record<'a>, now: SystemTime) -> Value<'a> {
    use AccessLogField::*;
    let opt = |s: Option<&'a str>| s.filter(|s| !s.is_empty()).map_or(Value::None, Value::Str);
    match field {
        Time => Value::Time(now),
        RequestId => Value::Str(r.request_id),
        TraceId => r.trace_id.as_ref().map_or(Value::None, Value::Hex),
        Listener => Value::Str(r.listener),
        Client => r.client.map_or(Value::None, Value::Ip),
        Peer => r.peer.map_or(Value::None, Value::Ip),
        Method => Value::Str(r.method),
        Host => opt(r.host),
        Path => Value::Str(r.path),
        Query => opt(r.query),
        Status => Value::Int(r.status.into()),
        RequestBytes => Value::Int(r.request_bytes),
        ResponseBytes => Value::Int(r.response_bytes),
        DurationMs => Value::Millis(r.duration),
        UpstreamMs => r.upstream.map_or(Value::None, Value::Millis),
        FiltersMs => Value::Millis(r.filters),
        Route => opt(r.route),
        Upstream => opt(r.upstream_target),
        Error => opt(r.error),
    }
}

/// Appends one line (with its newline) to `out`.
pub fn line(
    out: &mut Vec<u8>,
    format: AccessLogFormat,
    fields: &[AccessLogField],
    record: &Record,
    now: SystemTime,
) {
    match format {
        AccessLogFormat::Json => {
            out.push(b'{');
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                out.push(b'"');
                out.extend_from_slice(field.key().as_bytes());
                out.extend_from_slice(b"\":");
                match value(*field, record, now) {
                    Value::None => out.extend_from_slice(b"null"),
                    Value::Str(s) => json_string(out, s),
                    Value::Ip(ip) => {
                        out.push(b'"');
                        ip_text(out, ip);
                        out.push(b'"');
                    }
                    Value::Int(n) => int(out, n),
                    Value::Millis(d) => millis(out, d),
                    Value::Time(t) => {
                        out.push(b'"');
                        rfc3339(out, t);
                        out.push(b'"');
                    }
                    Value::Hex(bytes) => {
                        out.push(b'"');
                        hex(out, bytes);
                        out.push(b'"');
                    }
                }
            }
            out.extend_from_slice(b"}\n");
        }
        AccessLogFormat::Text => {
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                out.extend_from_slice(field.key().as_bytes());
                out.push(b'=');
                match value(*field, record, now) {
                    Value::None => {}
                    Value::Str(s) => logfmt_string(out, s),
                    Value::Ip(ip) => ip_text(out, ip),
                    Value::Int(n) => int(out, n),
                    Value::Millis(d) => millis(out, d),
                    Value::Time(t) => rfc3339(out, t),
                    Value::Hex(bytes) => hex(out, bytes),
                }
            }
            out.push(b'\n');
        }
    }
}

fn hex(out: &mut Vec<u8>, bytes: &[u8]) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0xf)]);
    }
}

/// Milliseconds with microsecond precision: `12.345`.
fn millis(out: &mut Vec<u8>, d: Duration) {
    let us = u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
    int(out, us / 1000);
    let frac = us % 1000;
    out.extend_from_slice(&[
        b'.',
        b'0' + (frac / 100) as u8,
        b'0' + (frac / 10 % 10) as u8,
        b'0' + (frac % 10) as u8,
    ]);
}

fn json_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    // Most values need no escape: copy them whole.
    if !s.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.extend_from_slice(s.as_bytes());
        out.push(b'"');
        return;
    }
    for &b in s.as_bytes() {
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            0..=0x1f => {
                let _ = write!(out, "\\u{b:04x}");
            }
            _ => out.push(b),
        }
    }
    out.push(b'"');
}

/// Bare when it can be, else quoted with JSON escapes (as logfmt readers expect).
fn logfmt_string(out: &mut Vec<u8>, s: &str) {
    let bare = !s.is_empty()
        && s.bytes()
            .all(|b| b > b' ' && b != b'"' && b != b'=' && b != b'\\' && b != 0x7f);
    if bare {
        out.extend_from_slice(s.as_bytes());
    } else {
        json_string(out, s);
    }
}

thread_local! {
    /// The last second formatted on this thread, and its text up to the seconds.
    static SECOND: Cell<(u64, [u8; 19])> = const { Cell::new((u64::MAX, [0; 19])) };
}

/// `2026-11-25T12:57:31.123Z`.
fn rfc3339(out: &mut Vec<u8>, t: SystemTime) {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let (cached, mut text) = SECOND.get();
    if cached != secs {
        let (days, rem) = (secs / 86_400, secs % 86_400);
        let (y, m, d) = civil_from_days(days as i64);
        let mut cursor = &mut text[..];
        let _ = write!(
            cursor,
            "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}",
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
        );
        SECOND.set((secs, text));
    }
    out.extend_from_slice(&text);
    let ms = since.subsec_millis();
    out.extend_from_slice(&[
        b'.',
        b'0' + (ms / 100) as u8,
        b'0' + (ms / 10 % 10) as u8,
        b'0' + (ms % 10) as u8,
        b'Z',
    ]);
}

/// Days since 1970-01-01 to (year, month, day): Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record() -> Record<'static> {
        Record {
            request_id: "r1",
            trace_id: None,
            listener: "main",
            client: Some([10, 0, 0, 1].into()),
            peer: None,
            method: "GET",
            host: Some("example.com"),
            path: "/a \"b\"",
            query: None,
            status: 200,
            request_bytes: 0,
            response_bytes: 12,
            duration: Duration::from_micros(1_234_567),
            upstream: Some(Duration::from_micros(5)),
            filters: Duration::ZERO,
            route: Some("r"),
            upstream_target: None,
            error: Some("bad\nthing"),
        }
    }

    #[test]
    fn json_line_is_json() {
        let mut out = Vec::new();
        let now = UNIX_EPOCH + Duration::from_millis(1_764_075_451_123);
        line(
            &mut out,
            AccessLogFormat::Json,
            &AccessLogField::ALL,
            &record(),
            now,
        );
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v["time"], "2025-11-25T12:57:31.123Z");
        assert_eq!(v["path"], "/a \"b\"");
        assert_eq!(v["client"], "10.0.0.1");
        assert_eq!(v["status"], 200);
        assert_eq!(v["duration_ms"], 1234.567);
        assert_eq!(v["upstream_ms"], 0.005);
        assert!(v["trace_id"].is_null());
        assert_eq!(v["error"], "bad\nthing");
        assert!(out.ends_with(b"}\n"));
    }

    #[test]
    fn text_line_is_logfmt() {
        let mut out = Vec::new();
        let fields = [
            AccessLogField::Method,
            AccessLogField::Path,
            AccessLogField::Status,
            AccessLogField::TraceId,
            AccessLogField::Error,
        ];
        line(
            &mut out,
            AccessLogFormat::Text,
            &fields,
            &record(),
            UNIX_EPOCH,
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "method=GET path=\"/a \\\"b\\\"\" status=200 trace_id= error=\"bad\\nthing\"\n"
        );
    }

    #[test]
    fn dates() {
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
        assert_eq!(civil_from_days(20_417), (2025, 11, 25));
    }
}
