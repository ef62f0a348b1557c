//! Misbehaves on request: with header `x-misbehave` set to `loop` it spins
//! forever, `alloc` allocates without bound, `trap` panics (a Wasm trap), and
//! `crlf` tries to set a request and a response header value containing CR
//! LF and reports weir's answers in `x-crlf-result` and
//! `x-crlf-response-result`. `x-misbehave-work: N` computes N million
//! steps, a fixed amount of work whatever the clock says, then goes on. Logs the status in the log phase, and weir's
//! answer to a response-header edit made after the response went out.
//!
//! With `config: { body_phase: true }` it also takes the response body:
//! `x-misbehave-body: sleep` waits 20 ms (a WASI clock wait, so the call
//! suspends) and then replaces the body with `slept`; `busy` computes for
//! 20 ms (past several epoch ticks, so the call yields) and replaces it with
//! `computed`; `loop` spins.

use std::hint::black_box;

use weir_filter_sdk::{
    Config, Decision, Filter, LogInfo, Phases, Request, Response, ResponseBodyDecision,
    export_filter, log,
};

struct Misbehave {
    body_phase: bool,
    body_mode: Option<String>,
}

impl Filter for Misbehave {
    fn new(config: Config) -> Result<Self, String> {
        let body_phase = config
            .get("body_phase")
            .and_then(|v| v.as_bool())
            .unwrap_or(false);
        Ok(Misbehave {
            body_phase,
            body_mode: None,
        })
    }

    fn phases(&self) -> Phases {
        let phases = Phases::REQUEST_HEADERS | Phases::LOG;
        if self.body_phase {
            phases | Phases::RESPONSE_BODY
        } else {
            phases
        }
    }

    fn on_response_body(
        &mut self,
        _req: &Request,
        _resp: &Response,
        body: Vec<u8>,
    ) -> ResponseBodyDecision {
        match self.body_mode.take().as_deref() {
            Some("sleep") => {
                std::thread::sleep(std::time::Duration::from_millis(20));
                ResponseBodyDecision::Replace(b"slept".to_vec())
            }
            Some("busy") => {
                let until = std::time::Instant::now() + std::time::Duration::from_millis(20);
                let mut n: u64 = 0;
                while std::time::Instant::now() < until {
                    n = black_box(n.wrapping_add(1));
                }
                ResponseBodyDecision::Replace(b"computed".to_vec())
            }
            Some("loop") => {
                let mut n: u64 = 0;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            _ => ResponseBodyDecision::Replace(body),
        }
    }

    fn on_request_headers(&mut self, req: &Request) -> Decision {
        self.body_mode = req.header_str("x-misbehave-body");
        if let Some(millions) = req
            .header_str("x-misbehave-work")
            .and_then(|n| n.parse::<u64>().ok())
        {
            let mut n: u64 = 0;
            for _ in 0..millions * 1_000_000 {
                n = black_box(n.wrapping_add(1));
            }
        }
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
                let result = match req.set_response_header("x-injected", b"a\r\nb") {
                    Ok(()) => "accepted".to_owned(),
                    Err(error) => format!("refused: {error}"),
                };
                req.set_header("x-crlf-response-result", result.as_bytes())
                    .expect("a valid header");
                Decision::Continue
            }
            _ => Decision::Continue,
        }
    }

    fn on_log(&mut self, req: &Request, _resp: &Response, info: &LogInfo) {
        log::info(&format!("misbehave saw status {}", info.status));
        match req.set_response_header("x-late", b"1") {
            Ok(()) => log::info("late response edit accepted"),
            Err(error) => log::info(&format!("late response edit refused: {error}")),
        }
    }
}

export_filter!(Misbehave);
