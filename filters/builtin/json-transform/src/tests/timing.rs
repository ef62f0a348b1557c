//! Time per transform of a 10 KB response, lazy engine against the whole-
//! `Value` one. Ignored: run it optimised and read the numbers:
//! `cargo test --release --target x86_64-unknown-linux-gnu -p json-transform
//! -- --ignored --nocapture timing`.

use std::hint::black_box;
use std::time::Instant;

use serde_json::json;

use super::{edits, lazy, reference};

/// `{"user":{..},"debug":{..},"items":[200 x {"id","name","price"}],"pad":"x.."}`,
/// padded to 10 KB.
pub fn ten_kb_response() -> String {
    let items: Vec<_> = (0..200)
        .map(|i| json!({ "id": i, "name": format!("item {i}"), "price": i as f64 * 0.25 + 1.0 }))
        .collect();
    let mut doc = json!({
        "user": { "id": 42, "name": "Ada", "email": "ada@example.com" },
        "debug": { "trace": "abc123", "timings": [1, 2, 3], "host": "backend-7" },
        "items": items,
        "pad": "",
    });
    let size = serde_json::to_string(&doc).unwrap().len();
    doc["pad"] = json!("x".repeat(10 * 1024 - size.min(10 * 1024)));
    serde_json::to_string(&doc).unwrap()
}

/// ns per run: the best of 50 batches of 200, so other work on the
/// machine shows less.
fn best_of(run: &dyn Fn() -> usize) -> f64 {
    (0..50)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..200 {
                black_box(run());
            }
            start.elapsed().as_nanos() as f64 / 200.0
        })
        .fold(f64::INFINITY, f64::min)
}

#[test]
#[ignore]
fn timing() {
    let edits = edits(json!({
        "request": {
            "remove": ["/debug"],
            "redact": ["/user/email"],
            "rename": { "/user/id": "/user/user_id" },
            "add": { "/meta/served_by": "weir" },
        },
        "create_parents": true,
    }))
    .unwrap();
    let compact = ten_kb_response();
    let pretty =
        serde_json::to_string_pretty(&serde_json::from_str::<serde_json::Value>(&compact).unwrap())
            .unwrap();
    for (name, body) in [("compact", compact), ("pretty", pretty)] {
        let body = body.as_bytes();
        assert_eq!(
            lazy(&edits, body).unwrap(),
            reference::edit(&edits, body).unwrap()
        );
        let whole = best_of(&|| {
            reference::edit(&edits, black_box(body))
                .unwrap()
                .unwrap()
                .len()
        });
        let lazy = best_of(&|| lazy(&edits, black_box(body)).unwrap().unwrap().len());
        println!(
            "{name} {} bytes: whole Value {whole:.0} ns, lazy {lazy:.0} ns, {:.1}x",
            body.len(),
            whole / lazy
        );
    }
}
