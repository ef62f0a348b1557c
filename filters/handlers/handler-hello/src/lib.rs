//! Answers `200 text/plain` "hello from a weir handler\n" with
//! `x-handler: hello`; with the environment variable GREETING set
//! (wasi:cli/environment, the handler's `env` in weir's config), answers its
//! value instead.

use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct Hello;

impl Guest for Hello {
    fn handle(_request: IncomingRequest, response_out: ResponseOutparam) {
        let body =
            std::env::var("GREETING").unwrap_or_else(|_| "hello from a weir handler\n".to_owned());
        let headers = Fields::from_list(&[
            ("content-type".to_owned(), b"text/plain".to_vec()),
            ("x-handler".to_owned(), b"hello".to_vec()),
        ])
        .expect("valid headers");
        let response = OutgoingResponse::new(headers);
        let out_body = response.body().expect("the body is taken once");
        ResponseOutparam::set(response_out, Ok(response));
        let stream = out_body.write().expect("the stream is taken once");
        // At most 4096 bytes per call; a greeting longer than that goes in pieces.
        for piece in body.as_bytes().chunks(4096) {
            stream.blocking_write_and_flush(piece).expect("client gone");
        }
        drop(stream);
        OutgoingBody::finish(out_body, None).expect("body finished");
    }
}

wasip2::http::proxy::export!(Hello);
