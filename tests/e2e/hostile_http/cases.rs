//! The hostile requests, one line each: bytes in, the answer expected, and
//! what the upstream must have seen. `{tag}` is replaced by the case's tag,
//! which is how upstream traffic is attributed to a case.

/// What the client must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    /// This status, then weir closes the connection.
    Refused(u16),
    /// The upstream's `200 recorded`.
    Forwarded,
}

/// What the upstream must have received from the case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Seen {
    Nothing,
    /// No complete request: weir found the body malformed after it had
    /// started forwarding, and cut the upstream connection.
    Unfinished,
    /// Exactly one well-framed request with this target and decoded body.
    One {
        target: String,
        body: &'static [u8],
    },
}

pub struct Case {
    pub name: &'static str,
    pub bytes: Vec<u8>,
    pub answer: Answer,
    pub seen: Seen,
}

fn refused(name: &'static str, status: u16, bytes: impl AsRef<[u8]>) -> Case {
    Case {
        name,
        bytes: bytes.as_ref().to_vec(),
        answer: Answer::Refused(status),
        seen: Seen::Nothing,
    }
}

/// Malformed chunked bodies: found only while the body streams upstream.
fn cut_off(name: &'static str, bytes: impl AsRef<[u8]>) -> Case {
    Case {
        seen: Seen::Unfinished,
        ..refused(name, 400, bytes)
    }
}

fn forwarded(
    name: &'static str,
    bytes: impl AsRef<[u8]>,
    target: &str,
    body: &'static [u8],
) -> Case {
    Case {
        name,
        bytes: bytes.as_ref().to_vec(),
        answer: Answer::Forwarded,
        seen: Seen::One {
            target: target.to_owned(),
            body,
        },
    }
}

const CHUNKED_HELLO: &str = "5\r\nhello\r\n0\r\n\r\n";

/// One case a line; rustfmt would spread each over five.
#[rustfmt::skip]
pub fn all() -> Vec<Case> {
    let te = |value: &str| format!("POST /t/{{tag}} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding:{value}\r\n\r\n{CHUNKED_HELLO}");
    let cl = |value: &str| format!("POST /t/{{tag}} HTTP/1.1\r\nHost: x\r\nContent-Length:{value}\r\n\r\nhello");
    let chunked = |body: &str| format!("POST /t/{{tag}} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n{body}");
    // A target that does not carry the tag: the tag goes in a field.
    let get = |target: &str, fields: &str| format!("GET {target} HTTP/1.1\r\n{fields}X-Case: {{tag}}\r\n\r\n");
    // A target that makes "GET <target> HTTP/1.1" `len` bytes long.
    let target_for_line = |len: usize| format!("/{}", "a".repeat(len - "GET / HTTP/1.1".len()));
    vec![
        // Framing: Content-Length against Transfer-Encoding.
        refused("cl-te", 400, "POST /t/{tag} HTTP/1.1\r\nHost: x\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
        refused("te-cl", 400, "POST /t/{tag} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n2c\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n"),
        refused("te-te-xchunked", 400, te(" xchunked")),
        refused("te-te-xchunked-with-cl", 400, "POST /t/{tag} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\nContent-Length: 5\r\n\r\nhello"),
        refused("te-te-chunked-identity", 400, te(" chunked, identity")),
        refused("te-te-duplicated", 400, "POST /t/{tag} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        refused("te-te-second-identity", 400, "POST /t/{tag} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        refused("te-te-folded-name", 400, "POST /t/{tag} HTTP/1.1\r\nHost: x\r\nX-A: a\r\n Transfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        refused("te-space-before-colon", 400, "POST /t/{tag} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding : chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        refused("te-unknown-coding", 501, te(" gzip, chunked")),
        refused("te-in-http10", 400, "POST /t/{tag} HTTP/1.0\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"),
        forwarded("te-leading-spaces", te("   chunked"), "/t/{tag}", b"hello"),
        forwarded("te-tab", te("\tchunked"), "/t/{tag}", b"hello"),
        refused("cl-differing", 400, "POST /t/{tag} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!"),
        refused("cl-differing-list", 400, cl(" 5, 6")),
        refused("cl-plus-sign", 400, cl(" +5")),
        refused("cl-minus-sign", 400, cl(" -5")),
        refused("cl-inner-space", 400, cl(" 5 5")),
        refused("cl-hex", 400, cl(" 0x5")),
        forwarded("cl-agreeing-lines", "POST /t/{tag} HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello", "/t/{tag}", b"hello"),
        forwarded("cl-agreeing-list", cl(" 5, 5"), "/t/{tag}", b"hello"),
        forwarded("cl-surrounding-spaces", cl("   5  "), "/t/{tag}", b"hello"),
        // Line endings and field syntax.
        refused("bare-lf", 400, "GET /t/{tag} HTTP/1.1\nHost: x\n\n"),
        refused("bare-lf-after-request-line", 400, "GET /t/{tag} HTTP/1.1\nHost: x\r\n\r\n"),
        refused("bare-cr-after-version", 400, "GET /t/{tag} HTTP/1.1\rHost: x\r\n\r\n"),
        refused("bare-cr-in-field", 400, "GET /t/{tag} HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n"),
        refused("space-before-colon", 400, "GET /t/{tag} HTTP/1.1\r\nHost : x\r\n\r\n"),
        refused("obs-fold", 400, "GET /t/{tag} HTTP/1.1\r\nHost: x\r\nX-A: a\r\n\tb\r\n\r\n"),
        refused("nul-in-field", 400, "GET /t/{tag} HTTP/1.1\r\nHost: x\r\nX-A: a\0b\r\n\r\n"),
        refused("ctl-in-field", 400, "GET /t/{tag} HTTP/1.1\r\nHost: x\r\nX-A: a\x01b\r\n\r\n"),
        refused("bad-field-name", 400, "GET /t/{tag} HTTP/1.1\r\nHost: x\r\nX(A): a\r\n\r\n"),
        refused("too-many-fields", 400, format!("GET /t/{{tag}} HTTP/1.1\r\nHost: x\r\n{}\r\n", "X-N: v\r\n".repeat(300))),
        // Host.
        refused("host-missing", 400, "GET /t/{tag} HTTP/1.1\r\nX-A: a\r\n\r\n"),
        refused("host-twice", 400, "GET /t/{tag} HTTP/1.1\r\nHost: x\r\nHost: y\r\n\r\n"),
        refused("host-invalid", 400, "GET /t/{tag} HTTP/1.1\r\nHost: a b\r\n\r\n"),
        refused("host-userinfo", 400, "GET /t/{tag} HTTP/1.1\r\nHost: u@x\r\n\r\n"),
        refused("host-disagrees-with-target", 400, "GET http://a.example/t/{tag} HTTP/1.1\r\nHost: b.example\r\n\r\n"),
        refused("absolute-form-without-host", 400, "GET http://a.example/t/{tag} HTTP/1.1\r\nX-A: a\r\n\r\n"),
        forwarded("absolute-form", "GET http://a.example/t/{tag} HTTP/1.1\r\nHost: a.example\r\n\r\n", "http://a.example/t/{tag}", b""),
        // Request targets.
        refused("asterisk-with-get", 400, get("*", "Host: x\r\n")),
        refused("authority-form-with-get", 400, get("x.example:80", "Host: x.example:80\r\n")),
        refused("connect", 405, get("x.example:443", "Host: x.example:443\r\n").replacen("GET", "CONNECT", 1)),
        refused("query-only-target", 400, get("?a=1", "Host: x\r\n")),
        refused("other-scheme", 400, get("ftp://x/a", "Host: x\r\n")),
        refused("fragment", 400, "GET /t/{tag}#top HTTP/1.1\r\nHost: x\r\n\r\n"),
        refused("non-ascii-target", 400, "GET /t/{tag}/é HTTP/1.1\r\nHost: x\r\n\r\n"),
        refused("double-space", 400, "GET  /t/{tag} HTTP/1.1\r\nHost: x\r\n\r\n"),
        // Spaces and controls in the target: percent-encoded before any hook.
        forwarded("raw-space", "GET /t/{tag} x HTTP/1.1\r\nHost: x\r\n\r\n", "/t/{tag}%20x", b""),
        forwarded("raw-nul", "GET /t/{tag}\0x HTTP/1.1\r\nHost: x\r\n\r\n", "/t/{tag}%00x", b""),
        forwarded("raw-cr", "GET /t/{tag}\rx HTTP/1.1\r\nHost: x\r\n\r\n", "/t/{tag}%0Dx", b""),
        // Method and version.
        refused("bad-method-token", 400, "G(T /t/{tag} HTTP/1.1\r\nHost: x\r\n\r\n"),
        refused("nul-in-method", 400, "GE\0T /t/{tag} HTTP/1.1\r\nHost: x\r\n\r\n"),
        refused("http-1-2", 400, "GET /t/{tag} HTTP/1.2\r\nHost: x\r\n\r\n"),
        refused("http-2-0", 400, "GET /t/{tag} HTTP/2.0\r\nHost: x\r\n\r\n"),
        refused("lowercase-version", 400, "GET /t/{tag} http/1.1\r\nHost: x\r\n\r\n"),
        refused("garbage-version", 400, "GET /t/{tag} HTXP/1.1\r\nHost: x\r\n\r\n"),
        refused("no-version", 400, "GET /t/{tag}\r\nHost: x\r\n\r\n"),
        // Sizes (the listener keeps the default max_request_line, 8KiB).
        forwarded("request-line-at-limit", get(&target_for_line(8192), "Host: x\r\n"), &target_for_line(8192), b""),
        refused("request-line-over-limit", 414, get(&target_for_line(8193), "Host: x\r\n")),
        refused("header-section-over-limit", 431, format!("GET /t/{{tag}} HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n", "a".repeat(16 * 1024))),
        // Chunked bodies.
        cut_off("chunk-size-overflow", chunked("ffffffffffffffffff\r\nhello\r\n0\r\n\r\n")),
        cut_off("chunk-missing-crlf", chunked("5\r\nhelloXX0\r\n\r\n")),
        cut_off("chunk-longer-than-size", chunked("3\r\nhello\r\n0\r\n\r\n")),
        cut_off("chunk-size-bare-lf", chunked("5\nhello\r\n0\r\n\r\n")),
        cut_off("chunk-size-not-hex", chunked("5g\r\nhello\r\n0\r\n\r\n")),
        forwarded("chunk-extension", chunked("5;name=\"value\"\r\nhello\r\n0\r\n\r\n"), "/t/{tag}", b"hello"),
        forwarded("chunk-trailer", chunked("5\r\nhello\r\n0\r\nX-Trailer: t\r\n\r\n"), "/t/{tag}", b"hello"),
        // An empty chunk-size line reads as the last chunk; what follows is
        // read as trailers, never as a request.
        forwarded("chunk-size-empty", chunked("\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"), "/t/{tag}", b""),
        // Pipelining: nothing after a refused request is read.
        refused("pipelined-after-weir-refusal", 400, "GET * HTTP/1.1\r\nHost: x\r\nX-Case: {tag}\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
        refused("pipelined-after-parser-refusal", 400, "GET /t/{tag} HTTP/1.2\r\nHost: x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
        refused("pipelined-after-framing-refusal", 400, "POST /t/{tag} HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"),
        forwarded("pipelined-after-accepted", "GET /t/{tag} HTTP/1.1\r\nHost: x\r\n\r\nGET /t/{tag}/second HTTP/1.1\r\nHost: x\r\n\r\n", "/t/{tag}", b""),
    ]
}
