//! {{name}}: answers `200 text/plain` "hello from {{name}}\n" with
//! `x-handler: {{name}}`, or the environment variable GREETING's value when
//! set.

use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

struct {{class}};

impl Guest for {{class}} {
    /// Called once per request. The response goes out when it is set on
    /// `response_out`; its body is streamed after that.
    fn handle(_request: IncomingRequest, response_out: ResponseOutparam) {
        let body = std::env::var("GREETING").unwrap_or_else(|_| "hello from {{name}}\n".to_owned());

        let headers = Fields::from_list(&[
            ("content-type".to_owned(), b"text/plain".to_vec()),
            ("x-handler".to_owned(), b"{{name}}".to_vec()),
        ])
        .expect("valid headers");
        let response = OutgoingResponse::new(headers);
        response.set_status_code(200).expect("a valid status");
        let out_body = response.body().expect("the body is taken once");
        ResponseOutparam::set(response_out, Ok(response));

        let stream = out_body.write().expect("the stream is taken once");
        // At most 4096 bytes per call; `check_write` and `write` stream
        // larger bodies as fast as the client reads them.
        for piece in body.as_bytes().chunks(4096) {
            if stream.blocking_write_and_flush(piece).is_err() {
                return; // the client went away
            }
        }
        drop(stream);
        let _ = OutgoingBody::finish(out_body, None);
    }
}

wasip2::http::proxy::export!({{class}});
