//! An upstream that records exactly what reached it: the raw bytes of every
//! request, read with a strict parser (httparse, one framing header, chunked
//! decoded by hand), so a test can prove that what weir forwarded was one
//! well-framed request and that nothing was smuggled behind it.
//!
//! Every complete request is answered `200` with the body `recorded`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nrecorded";

/// What arrived for one request, in arrival order.
#[derive(Debug, Clone)]
pub struct Received {
    /// The request's bytes as received; for one the connection ended in the
    /// middle of, or that a strict server would refuse, what there was.
    pub raw: Vec<u8>,
    /// Set when the request was complete and well framed.
    pub request: Option<ParsedRequest>,
}

#[derive(Debug, Clone)]
pub struct ParsedRequest {
    pub method: String,
    pub target: String,
    pub headers: Vec<(String, Vec<u8>)>,
    /// Decoded: chunked framing removed.
    pub body: Vec<u8>,
}

pub struct RecordingUpstream {
    pub addr: SocketAddr,
    log: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl RecordingUpstream {
    /// Starts on a new ephemeral loopback port.
    pub async fn start() -> RecordingUpstream {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the recording upstream");
        let addr = listener.local_addr().expect("upstream address");
        let log = Arc::new(Mutex::new(Vec::new()));
        let shared = log.clone();
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(serve(stream, shared.clone()));
            }
        });
        RecordingUpstream { addr, log, task }
    }

    /// `host:port` for a config file.
    pub fn address(&self) -> String {
        self.addr.to_string()
    }

    /// Everything received so far.
    pub fn received(&self) -> Vec<Received> {
        self.log.lock().expect("upstream log").clone()
    }
}

impl Drop for RecordingUpstream {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// One connection: requests in order until the peer closes it or sends
/// something a strict server refuses (recorded, then the connection closes).
async fn serve(mut stream: TcpStream, log: Arc<Mutex<Vec<Received>>>) {
    let record = |raw: &[u8], request| {
        log.lock().expect("upstream log").push(Received {
            raw: raw.to_vec(),
            request,
        })
    };
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 64 * 1024];
    loop {
        match parse(&buf) {
            Parsed::Complete(len, request) => {
                record(&buf[..len], Some(request));
                buf.drain(..len);
                if stream.write_all(RESPONSE).await.is_err() {
                    return;
                }
                continue;
            }
            Parsed::Refused => {
                record(&buf, None);
                return;
            }
            Parsed::Partial => {}
        }
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => {
                if !buf.is_empty() {
                    record(&buf, None);
                }
                return;
            }
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

enum Parsed {
    Complete(usize, ParsedRequest),
    Partial,
    Refused,
}

fn parse(buf: &[u8]) -> Parsed {
    let mut slots = [httparse::EMPTY_HEADER; 128];
    let mut req = httparse::Request::new(&mut slots);
    let head_len = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Parsed::Partial,
        Err(_) => return Parsed::Refused,
    };
    let headers: Vec<(String, Vec<u8>)> = req
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), h.value.to_vec()))
        .collect();
    let values = |name: &str| -> Vec<&[u8]> {
        headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
            .collect()
    };
    let (te, cl) = (values("transfer-encoding"), values("content-length"));
    let rest = &buf[head_len..];
    let framed = match (te.as_slice(), cl.as_slice()) {
        ([], []) => Ok(Some((Vec::new(), 0))),
        ([], [length]) => match std::str::from_utf8(length)
            .ok()
            .and_then(|l| l.parse().ok())
        {
            Some(length) if rest.len() >= length => Ok(Some((rest[..length].to_vec(), length))),
            Some(_) => Ok(None),
            None => Err(()),
        },
        ([coding], []) if coding.eq_ignore_ascii_case(b"chunked") => dechunk(rest),
        // More than one framing header, or an unknown coding: ambiguous.
        _ => Err(()),
    };
    match framed {
        Ok(Some((body, body_len))) => Parsed::Complete(
            head_len + body_len,
            ParsedRequest {
                method: req.method.unwrap_or_default().to_owned(),
                target: req.path.unwrap_or_default().to_owned(),
                headers,
                body,
            },
        ),
        Ok(None) => Parsed::Partial,
        Err(()) => Parsed::Refused,
    }
}

/// A chunked body at the start of `bytes`: `Ok(None)` while incomplete, else
/// the decoded body and how many bytes it took (trailers included).
fn dechunk(bytes: &[u8]) -> Result<Option<(Vec<u8>, usize)>, ()> {
    let mut body = Vec::new();
    let mut pos = 0;
    // Each chunk takes at least 3 bytes: the loop ends within bytes.len() turns.
    for _ in 0..=bytes.len() {
        let (line_len, size) = match httparse::parse_chunk_size(&bytes[pos..]) {
            Ok(httparse::Status::Complete(sized)) => sized,
            Ok(httparse::Status::Partial) => return Ok(None),
            Err(_) => return Err(()),
        };
        pos += line_len;
        if size == 0 {
            return Ok(trailers_end(&bytes[pos..]).map(|end| (body, pos + end)));
        }
        let size = usize::try_from(size).map_err(|_| ())?;
        let Some(data) = bytes.get(pos..pos + size + 2) else {
            return Ok(None);
        };
        if !data.ends_with(b"\r\n") {
            return Err(());
        }
        body.extend_from_slice(&data[..size]);
        pos += size + 2;
    }
    Err(())
}

/// Where the trailer section (lines, then an empty line) ends, once complete.
fn trailers_end(bytes: &[u8]) -> Option<usize> {
    let mut pos = 0;
    while let Some(line) = bytes[pos..].windows(2).position(|w| w == b"\r\n") {
        pos += line + 2;
        if line == 0 {
            return Some(pos);
        }
    }
    None
}
