//! Native tests of the edit engine (`cargo test --target
//! x86_64-unknown-linux-gnu -p json-transform`): hand-picked cases, many
//! generated documents and edit sets against the whole-`Value` reference,
//! and an `#[ignore]`d timing of the two.

mod cases;
mod random;
mod reference;
mod timing;

use serde_json::Value;

use crate::config::Settings;
use crate::edits::Edits;

/// One side's edits from a config as written (request side), or the
/// config check's complaint.
fn edits(config: Value) -> Result<Edits, String> {
    let settings: Settings = serde_json::from_value(config).map_err(|e| e.to_string())?;
    Ok(settings.check()?.request)
}

/// The lazy engine, with skips ignored.
fn lazy(edits: &Edits, body: &[u8]) -> Result<Option<Vec<u8>>, serde_json::Error> {
    edits.edit(body, &mut |_| {})
}

/// Whether two JSON texts hold the same document. Floats may differ in
/// the last bit: serde_json (without `float_roundtrip`) reads a long
/// number and the number it writes back for it a bit differently.
fn same_document(a: &[u8], b: &[u8]) -> bool {
    fn same(a: &Value, b: &Value) -> bool {
        match (a, b) {
            (Value::Number(x), Value::Number(y)) if x.is_f64() || y.is_f64() => {
                let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
                x == y || (x - y).abs() <= x.abs().max(y.abs()) * 1e-15
            }
            (Value::Object(x), Value::Object(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|((k, v), (l, w))| k == l && same(v, w))
            }
            (Value::Array(x), Value::Array(y)) => {
                x.len() == y.len() && x.iter().zip(y).all(|(v, w)| same(v, w))
            }
            _ => a == b,
        }
    }
    let parse = |json: &[u8]| serde_json::from_slice::<Value>(json).unwrap();
    same(&parse(a), &parse(b))
}

/// Whether `json` has no whitespace outside strings.
fn is_compact(json: &[u8]) -> bool {
    let mut in_string = false;
    let mut escaped = false;
    for &b in json {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if matches!(b, b' ' | b'\n' | b'\r' | b'\t') {
            return false;
        }
    }
    true
}
