//! Hostile HTTP/1.1 input, byte for byte over raw TCP, against the real weir
//! in front of an upstream that records what reached it: request smuggling
//! (CL.TE, TE.CL, TE.TE), malformed request lines, fields and targets, bad
//! chunked bodies, oversized request lines and headers, pipelining after a
//! refusal. For every case in `cases.rs`: the client gets the expected
//! 4xx/501 and weir closes the connection, or the request reaches the
//! upstream as exactly one well-framed request; and a normal request on a new
//! connection is served afterwards. Upstream traffic is attributed to cases
//! by a tag each case carries; nothing may arrive that no case accounts for.

mod cases;

use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::time::Duration;

use weir_tests::recording_upstream::Received;
use weir_tests::{Gateway, RecordingUpstream};

use cases::{Answer, Case, Seen};

/// How long a read may wait for weir; refusals and answers come in milliseconds.
const READ_TIMEOUT: Duration = Duration::from_secs(5);

#[tokio::test(flavor = "multi_thread")]
async fn hostile_requests_are_refused_or_forwarded_unambiguously() {
    let upstream = RecordingUpstream::start().await;
    let gw = Gateway::start(&crate::config(&format!(
        "    limits: {{ max_header_bytes: 8KiB }}\nupstreams:\n  recorder:\n    targets: [{{ address: {} }}]\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: recorder\n",
        upstream.address()
    )));
    let cases = cases::all();
    let mut failures = Vec::new();
    for (i, case) in cases.iter().enumerate() {
        let tag = tag(i, case);
        let bytes = replace(&case.bytes, b"{tag}", tag.as_bytes());
        let exchange = exchange(gw.port, &bytes, case.answer == Answer::Forwarded);
        let mut results = vec![check_answer(case.answer, &exchange)];
        results.push(fence(gw.port, &upstream, i).map_err(|e| format!("afterwards, {e}")));
        results.push(check_seen(&case.seen, &tag, &upstream.received()));
        failures.extend(
            results
                .into_iter()
                .filter_map(Result::err)
                .map(|e| format!("{tag}: {e}")),
        );
    }
    // Again over everything received: a request that arrived late counts too.
    let received = upstream.received();
    for (i, case) in cases.iter().enumerate() {
        if let Err(e) = check_seen(&case.seen, &tag(i, case), &received) {
            failures.push(format!("{} (at the end): {e}", tag(i, case)));
        }
    }
    let tags: Vec<String> = cases.iter().enumerate().map(|(i, c)| tag(i, c)).collect();
    for r in &received {
        let owners = tags
            .iter()
            .filter(|t| contains(&r.raw, t.as_bytes()))
            .count();
        if owners != 1 && !is_fence(r) {
            failures.push(format!("unaccounted upstream traffic: {}", shown(&r.raw)));
        }
        if contains(&r.raw.to_ascii_lowercase(), b"smuggled") {
            failures.push(format!(
                "a smuggled request reached the upstream: {}",
                shown(&r.raw)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} problems over {} cases:\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n")
    );
}

/// Unique per case, and no tag contains another (`c07-` prefixes).
fn tag(index: usize, case: &Case) -> String {
    format!("c{index:02}-{}", case.name)
}

fn check_answer(expected: Answer, exchange: &Exchange) -> Result<(), String> {
    let [response] = exchange.responses.as_slice() else {
        return Err(format!(
            "expected one response, got {} (then {})",
            exchange.responses.len(),
            shown(&exchange.rest)
        ));
    };
    match expected {
        Answer::Refused(status) => {
            if response.status != status {
                return Err(format!("expected {status}, got {}", response.status));
            }
            if !exchange.closed {
                return Err(format!("{status} but the connection stayed open"));
            }
            if !response.connection_close {
                return Err(format!("{status} without Connection: close"));
            }
        }
        Answer::Forwarded => {
            if response.status != 200 || response.body != b"recorded" {
                return Err(format!(
                    "expected the upstream's answer, got {} {}",
                    response.status,
                    shown(&response.body)
                ));
            }
        }
    }
    Ok(())
}

/// What the upstream received from the case (tagged) matches `seen`.
fn check_seen(seen: &Seen, tag: &str, received: &[Received]) -> Result<(), String> {
    let mine: Vec<&Received> = received
        .iter()
        .filter(|r| contains(&r.raw, tag.as_bytes()))
        .collect();
    let listed = || {
        mine.iter()
            .map(|r| shown(&r.raw))
            .collect::<Vec<_>>()
            .join(" | ")
    };
    match seen {
        Seen::Nothing if mine.is_empty() => Ok(()),
        Seen::Nothing => Err(format!("the upstream received {}", listed())),
        Seen::Unfinished if mine.len() <= 1 && mine.iter().all(|r| r.request.is_none()) => Ok(()),
        Seen::Unfinished => Err(format!(
            "expected no complete request upstream, got {}",
            listed()
        )),
        Seen::One { target, body } => {
            let target = target.replace("{tag}", tag);
            match mine.as_slice() {
                [one] => match &one.request {
                    Some(req) if req.target == target && req.body == *body => Ok(()),
                    Some(req) => Err(format!(
                        "upstream got {} {} with body {}, expected {target} with {}",
                        req.method,
                        req.target,
                        shown(&req.body),
                        shown(body)
                    )),
                    None => Err(format!("not a well-framed request upstream: {}", listed())),
                },
                _ => Err(format!(
                    "expected exactly one request upstream, got {}: {}",
                    mine.len(),
                    listed()
                )),
            }
        }
    }
}

/// A normal request on a new connection is served, through to the upstream.
fn fence(port: u16, upstream: &RecordingUpstream, index: usize) -> Result<(), String> {
    let target = fence_target(index);
    let request = format!("GET {target} HTTP/1.1\r\nHost: fence\r\nConnection: close\r\n\r\n");
    let exchange = exchange(port, request.as_bytes(), true);
    match exchange.responses.as_slice() {
        [r] if r.status == 200 => {}
        other => {
            let statuses: Vec<u16> = other.iter().map(|r| r.status).collect();
            return Err(format!("a normal request got {statuses:?}"));
        }
    }
    // The upstream records a request before it answers.
    let recorded = upstream
        .received()
        .iter()
        .any(|r| r.request.as_ref().is_some_and(|req| req.target == target));
    recorded
        .then_some(())
        .ok_or_else(|| "a normal request was answered but never reached the upstream".into())
}

fn fence_target(index: usize) -> String {
    format!("/fence/{index:02}")
}

fn is_fence(r: &Received) -> bool {
    r.request
        .as_ref()
        .is_some_and(|req| req.target.starts_with("/fence/"))
}

struct Exchange {
    responses: Vec<Response>,
    /// weir closed the connection (or reset it).
    closed: bool,
    /// Bytes after the last whole response.
    rest: Vec<u8>,
}

struct Response {
    status: u16,
    connection_close: bool,
    body: Vec<u8>,
}

/// Writes `request`, reads the first whole response, then reads until weir
/// closes the connection (each read bounded by `READ_TIMEOUT`). With
/// `half_close`, the client ends its side first, as a keep-alive connection
/// stays open otherwise; without it, only weir can end the exchange.
fn exchange(port: u16, request: &[u8], half_close: bool) -> Exchange {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connecting to weir");
    stream.set_read_timeout(Some(READ_TIMEOUT)).unwrap();
    // weir may refuse and close before reading everything: not an error here.
    let _ = stream.write_all(request);
    let mut buf = Vec::new();
    let mut closed = false;
    let mut half_closed = false;
    // Bounded: each turn reads bytes, or ends on close or a timeout.
    for _ in 0..10_000 {
        if half_close && !half_closed && !parse_responses(&buf).0.is_empty() {
            let _ = stream.shutdown(Shutdown::Write);
            half_closed = true;
        }
        let mut chunk = [0u8; 16 * 1024];
        match stream.read(&mut chunk) {
            Ok(0) => {
                closed = true;
                break;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => break,
            Err(_) => {
                closed = true;
                break;
            }
        }
    }
    let (responses, used) = parse_responses(&buf);
    Exchange {
        responses,
        closed,
        rest: buf[used..].to_vec(),
    }
}

/// The whole responses at the start of `buf`, and how many bytes they take.
fn parse_responses(buf: &[u8]) -> (Vec<Response>, usize) {
    let mut responses = Vec::new();
    let mut pos = 0;
    while pos < buf.len() {
        let mut slots = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut slots);
        let Ok(httparse::Status::Complete(head)) = parsed.parse(&buf[pos..]) else {
            break;
        };
        let field = |name: &str| {
            parsed
                .headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).trim().to_ascii_lowercase())
        };
        let length: usize = field("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let Some(body) = buf.get(pos + head..pos + head + length) else {
            break;
        };
        responses.push(Response {
            status: parsed.code.unwrap_or(0),
            connection_close: field("connection").as_deref() == Some("close"),
            body: body.to_vec(),
        });
        pos += head + length;
    }
    (responses, pos)
}

fn replace(bytes: &[u8], from: &[u8], to: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len() + to.len());
    let mut rest = bytes;
    while let Some(at) = rest.windows(from.len()).position(|w| w == from) {
        out.extend_from_slice(&rest[..at]);
        out.extend_from_slice(to);
        rest = &rest[at + from.len()..];
    }
    out.extend_from_slice(rest);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// Bytes for a failure message: escaped, and cut short.
fn shown(bytes: &[u8]) -> String {
    let text = bytes.escape_ascii().to_string();
    match text.char_indices().nth(300) {
        Some((cut, _)) => format!("{}...", &text[..cut]),
        None => text,
    }
}
