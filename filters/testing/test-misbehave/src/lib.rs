//! Misbehaves on request: with header `x-misbehave` set to `loop` it spins
//! forever, `alloc` allocates without bound, `trap` panics (a Wasm trap), and
//! `crlf` tries to set a header value containing CR LF and reports weir's
//! answer in `x-crlf-result`. Logs the status in the log phase.

use std::hint::black_box;

use weir_filter_sdk::{
    Config, Decision, Filter, LogInfo, Phases, Request, Response, export_filter, log,
};

struct Misbehave;

impl Filter for Misbehave {
    fn new(_config: Config) -> Result<Self, String> {
        Ok(Misbehave)
    }

    fn phases(&self) -> Phases {
        Phases::REQUEST_HEADERS | Phases::LOG
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        match req.header_str("x-misbehave").as_deref() {
            Some("loop") => {
                let mut n: u64 = 0;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            Some("alloc") => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(black_box(vec![1u8; 1 << 20]));
                    black_box(&hoard);
                }
            }
            Some("trap") => panic!("filter trapped on purpose"),
            Some("crlf") => {
                let result = match req.set_header("x-injected", b"a\r\nb") {
                    Ok(()) => "accepted".to_owned(),
                    Err(error) => format!("refused: {error}"),
                };
                req.set_header("x-crlf-result", result.as_bytes())
                    .expect("a valid header");
                Decision::Continue
            }
            _ => Decision::Continue,
        }
    }

    fn on_log(&mut self, _req: &Request, _resp: &Response, info: &LogInfo) {
        log::info(&format!("misbehave saw status {}", info.status));
    }
}

export_filter!(Misbehave);
