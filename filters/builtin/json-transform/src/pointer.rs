//! JSON Pointers (RFC 6901), checked once at start-up, and the edits this
//! filter makes at them.

use serde_json::{Map, Value};

/// A pointer to a member or element below the document's root.
#[derive(Debug, Clone)]
pub struct Pointer {
    /// As written, e.g. `/user/e~1mail`.
    text: String,
    /// The parent as written (`/user`; empty for the root).
    parent: String,
    /// The last reference token, unescaped (`e/mail`).
    last: String,
}

impl Pointer {
    pub fn parse(text: &str) -> Result<Pointer, String> {
        if !text.starts_with('/') {
            return Err(format!(
                "{text:?} is not a JSON Pointer below the root: it must start with `/` (e.g. `/user/name`)"
            ));
        }
        for token in text[1..].split('/') {
            let mut chars = token.chars();
            while let Some(c) = chars.next() {
                if c == '~' && !matches!(chars.next(), Some('0' | '1')) {
                    return Err(format!(
                        "{text:?}: `~` must be followed by 0 (for `~`) or 1 (for `/`)"
                    ));
                }
            }
        }
        let split = text.rfind('/').expect("starts with `/`");
        Ok(Pointer {
            text: text.to_owned(),
            parent: text[..split].to_owned(),
            last: unescape(&text[split + 1..]),
        })
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The value it points at, if there is one.
    pub fn get_mut<'a>(&self, doc: &'a mut Value) -> Option<&'a mut Value> {
        doc.pointer_mut(&self.text)
    }

    /// Removes and returns the value it points at, if there is one.
    pub fn take(&self, doc: &mut Value) -> Option<Value> {
        match doc.pointer_mut(&self.parent)? {
            Value::Object(members) => members.shift_remove(&self.last),
            Value::Array(items) => {
                let index = array_index(&self.last).filter(|&i| i < items.len())?;
                Some(items.remove(index))
            }
            _ => None,
        }
    }

    /// Puts `value` there, replacing what was (the JSON Patch `add`): a
    /// member of an object, an array index (shifting the rest), or `-` for
    /// the end of an array. With `create_parents`, missing objects on the way
    /// are created; otherwise a missing parent gives `value` back.
    pub fn put(&self, doc: &mut Value, value: Value, create_parents: bool) -> Result<(), Value> {
        let parent = if create_parents {
            create_path(doc, &self.parent)
        } else {
            doc.pointer_mut(&self.parent)
        };
        match parent {
            Some(Value::Object(members)) => {
                members.insert(self.last.clone(), value);
                Ok(())
            }
            Some(Value::Array(items)) if self.last == "-" => {
                items.push(value);
                Ok(())
            }
            Some(Value::Array(items)) => match array_index(&self.last) {
                Some(index) if index <= items.len() => {
                    items.insert(index, value);
                    Ok(())
                }
                _ => Err(value),
            },
            _ => Err(value),
        }
    }
}

/// Walks `parent` from the root, creating each missing member as an empty
/// object. Gives up (None) on a scalar or an out-of-range array index.
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

/// An array index per RFC 6901: digits, no leading zero.
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
