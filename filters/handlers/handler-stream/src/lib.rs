//! `GET /?bytes=N` answers N bytes of a repeating pattern (`a` to `z`),
//! generated 64 KiB at a time into one reused buffer: memory stays flat
//! whatever N. No `content-length`: the response is chunked.

use std::io::Write;

use wasip2::exports::http::incoming_handler::Guest;
use wasip2::http::types::{
    Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
};

const CHUNK: u64 = 64 * 1024;

struct Stream;

impl Guest for Stream {
    fn handle(request: IncomingRequest, response_out: ResponseOutparam) {
        let path = request.path_with_query().unwrap_or_default();
        let bytes = path
            .split_once('?')
            .map(|(_, query)| query)
            .unwrap_or_default()
            .split('&')
            .find_map(|pair| pair.strip_prefix("bytes="))
            .and_then(|n| n.parse::<u64>().ok());
        let Some(bytes) = bytes else {
            let response = OutgoingResponse::new(Fields::new());
            response.set_status_code(400).expect("valid status");
            let body = response.body().expect("the body is taken once");
            ResponseOutparam::set(response_out, Ok(response));
            let stream = body.write().expect("the stream is taken once");
            let _ = stream.blocking_write_and_flush(b"expected ?bytes=N\n");
            drop(stream);
            let _ = OutgoingBody::finish(body, None);
            return;
        };

        let headers = Fields::from_list(&[(
            "content-type".to_owned(),
            b"application/octet-stream".to_vec(),
        )])
        .expect("valid headers");
        let response = OutgoingResponse::new(headers);
        let body = response.body().expect("the body is taken once");
        ResponseOutparam::set(response_out, Ok(response));
        let mut output = body.write().expect("the stream is taken once");
        let mut chunk = Vec::with_capacity(CHUNK as usize);
        let mut sent = 0u64;
        while sent < bytes {
            let len = (bytes - sent).min(CHUNK);
            chunk.clear();
            chunk.extend((sent..sent + len).map(|i| b'a' + (i % 26) as u8));
            // Waits for the stream's `check-write` budget (back-pressure).
            if output
                .write_all(&chunk)
                .and_then(|()| Write::flush(&mut output))
                .is_err()
            {
                return; // the client went away
            }
            sent += len;
        }
        drop(output);
        OutgoingBody::finish(body, None).expect("body finished");
    }
}

wasip2::http::proxy::export!(Stream);
