//! Misbehaves by path, for the tests of weir's limits on handlers:
//!
//! - `/trap`: panics (a Wasm trap) before answering;
//! - `/loop`: computes forever before answering (epoch deadline, fuel);
//! - `/sleep`: waits forever on a `wasi:clocks/monotonic-clock` pollable, not
//!   computing (a wall-clock timeout);
//! - `/alloc`: allocates memory without bound before answering (the memory
//!   limit);
//! - `/late-trap`: sends the response head (200) and a first body chunk,
//!   then traps;
//! - anything else: 200 "ok".

use std::hint::black_box;

use wasip2::clocks::monotonic_clock;
use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Misbehave;

impl Guest for Misbehave {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let path = path.split('?').next().unwrap_or_default();
        match path {
            "/trap" => panic!("handler-misbehave: /trap"),
            "/loop" => {
                let mut n: u64 = 0;
                loop {
                    n = black_box(n.wrapping_add(1));
                }
            }
            "/sleep" => loop {
                // An hour at a time: no host has to add u64::MAX to its clock.
                monotonic_clock::subscribe_duration(3_600 * 1_000_000_000).block();
            },
            "/alloc" => {
                let mut held: Vec<Vec<u8>> = Vec::new();
                loop {
                    // Touched, so the pages are really used.
                    held.push(black_box(vec![1u8; 1 << 20]));
                }
            }
            "/late-trap" => {
                let body = answer(response_out, b"first chunk\n");
                drop(body);
                panic!("handler-misbehave: /late-trap after the first chunk");
            }
            _ => {
                let (stream, body) = answer(response_out, b"ok\n");
                drop(stream);
                OutgoingBody::finish(body, None).expect("body finished");
            }
        }
    }
}

/// Sends 200 with `first` as the first body chunk; returns the open body.
fn answer(
    response_out: ResponseOutparam,
    first: &[u8],
) -> (wasip2::io::streams::OutputStream, OutgoingBody) {
    let headers = Fields::from_list(&[("content-type".to_owned(), b"text/plain".to_vec())])
        .expect("valid headers");
    let response = OutgoingResponse::new(headers);
    let body = response.body().expect("the body is taken once");
    ResponseOutparam::set(response_out, Ok(response));
    let stream = body.write().expect("the stream is taken once");
    stream.blocking_write_and_flush(first).expect("client gone");
    (stream, body)
}

wasip2::http::proxy::export!(Misbehave);
