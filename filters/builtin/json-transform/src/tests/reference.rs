//! The edit engine as it was before bodies were parsed lazily: the whole
//! body into a `Value`, edited, serialised whole. The tests hold the lazy
//! engine to its output.

use serde_json::{Map, Value};

use crate::edits::Edits;
use crate::pointer::Pointer;

pub fn edit(edits: &Edits, body: &[u8]) -> Result<Option<Vec<u8>>, serde_json::Error> {
    let mut doc: Value = serde_json::from_slice(body)?;
    if !apply(edits, &mut doc) {
        return Ok(None);
    }
    Ok(Some(
        serde_json::to_vec(&doc).expect("a Value always serialises"),
    ))
}

fn apply(edits: &Edits, doc: &mut Value) -> bool {
    let mut changed = false;
    for pointer in &edits.remove {
        changed |= take(pointer, doc).is_some();
    }
    for (from, to) in &edits.rename {
        let Some(value) = take(from, doc) else {
            continue;
        };
        changed = true;
        if let Err(value) = put(to, doc, value, edits.create_parents) {
            let _ = put(from, doc, value, false);
        }
    }
    for pointer in &edits.redact {
        if let Some(value) = doc.pointer_mut(pointer.as_str()) {
            *value = edits.redact_with.clone();
            changed = true;
        }
    }
    for (pointer, value) in &edits.add {
        if put(pointer, doc, value.clone(), edits.create_parents).is_ok() {
            changed = true;
        }
    }
    changed
}

fn parent(pointer: &Pointer) -> &str {
    let text = pointer.as_str();
    &text[..text.rfind('/').expect("starts with `/`")]
}

fn take(pointer: &Pointer, doc: &mut Value) -> Option<Value> {
    let last = pointer.last();
    match doc.pointer_mut(parent(pointer))? {
        Value::Object(members) => members.shift_remove(last),
        Value::Array(items) => {
            let index = array_index(last).filter(|&i| i < items.len())?;
            Some(items.remove(index))
        }
        _ => None,
    }
}

fn put(
    pointer: &Pointer,
    doc: &mut Value,
    value: Value,
    create_parents: bool,
) -> Result<(), Value> {
    let last = pointer.last();
    let parent = if create_parents {
        create_path(doc, parent(pointer))
    } else {
        doc.pointer_mut(parent(pointer))
    };
    match parent {
        Some(Value::Object(members)) => {
            members.insert(last.to_owned(), value);
            Ok(())
        }
        Some(Value::Array(items)) if last == "-" => {
            items.push(value);
            Ok(())
        }
        Some(Value::Array(items)) => match array_index(last) {
            Some(index) if index <= items.len() => {
                items.insert(index, value);
                Ok(())
            }
            _ => Err(value),
        },
        _ => Err(value),
    }
}

fn create_path<'a>(doc: &'a mut Value, parent: &str) -> Option<&'a mut Value> {
    let mut current = doc;
    for token in parent.split('/').skip(1).map(unescape) {
        current = match current {
            Value::Object(members) => members
                .entry(token)
                .or_insert_with(|| Value::Object(Map::new())),
            Value::Array(items) => items.get_mut(array_index(&token)?)?,
            _ => return None,
        };
    }
    Some(current)
}

fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}
