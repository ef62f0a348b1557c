//! Writing an edited document: compact JSON, as `serde_json::to_vec` writes
//! a `Value`, with the parts no edit reached copied from the body.

use serde_json::value::RawValue;

use crate::node::Node;
use crate::parse::is_whitespace;
use crate::scan;

/// The document as compact JSON; `size` is a guess for the capacity.
pub fn to_vec(doc: &Node<'_>, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(size);
    write(&mut out, doc);
    out
}

fn write(out: &mut Vec<u8>, node: &Node<'_>) {
    match node {
        Node::Raw(raw) => copy_compact(out, raw),
        Node::Given(value) => {
            serde_json::to_writer(&mut *out, value).expect("a Value always serialises")
        }
        Node::Object(members) => {
            out.push(b'{');
            for (i, (name, value)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                // Escaped as serde_json escapes it: a name that came with
                // escapes (`\u00e9`) goes out as serde_json would write it.
                serde_json::to_writer(&mut *out, name.as_ref()).expect("a str always serialises");
                out.push(b':');
                write(out, value);
            }
            out.push(b'}');
        }
        Node::Array(items) => {
            out.push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write(out, item);
            }
            out.push(b']');
        }
    }
}

/// Copies checked JSON text without its whitespace between tokens. Text
/// that is compact (most bodies) is found so quickly and copied whole;
/// else it goes in runs between whitespace, strings copied as they are
/// (their spaces and escapes are content).
fn copy_compact(out: &mut Vec<u8>, raw: &RawValue) {
    let text = raw.get().as_bytes();
    if !scan::maybe_spaced(text) {
        out.extend_from_slice(text);
        return;
    }
    let mut run = 0; // where the text not yet copied starts
    let mut i = scan::outside_string(text, 0);
    while i < text.len() {
        if text[i] == b'"' {
            i = string_end(text, i + 1);
        } else {
            out.extend_from_slice(&text[run..i]);
            while i < text.len() && is_whitespace(text[i]) {
                i += 1;
            }
            run = i;
        }
        i = scan::outside_string(text, i);
    }
    out.extend_from_slice(&text[run..]);
}

/// Just past the quote that closes the string whose content starts at `i`.
fn string_end(text: &[u8], mut i: usize) -> usize {
    loop {
        i = scan::in_string(text, i);
        match text.get(i) {
            Some(b'\\') => i += 2,
            Some(_) => return i + 1, // the closing quote
            None => return text.len(),
        }
    }
}
