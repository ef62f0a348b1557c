//! One side's edits and applying them to a parsed body.

use serde_json::Value;
use weir_filter_sdk::log;

use crate::pointer::Pointer;

/// Applied in this order: remove, rename, redact, add.
pub struct Edits {
    pub remove: Vec<Pointer>,
    pub rename: Vec<(Pointer, Pointer)>,
    pub redact: Vec<Pointer>,
    pub add: Vec<(Pointer, Value)>,
    pub create_parents: bool,
    pub redact_with: Value,
}

impl Edits {
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty()
            && self.rename.is_empty()
            && self.redact.is_empty()
            && self.add.is_empty()
    }

    /// Edits `doc`; returns whether anything changed. A pointer to a field
    /// the body does not have is skipped: bodies vary, configs do not.
    pub fn apply(&self, doc: &mut Value) -> bool {
        let mut changed = false;
        for pointer in &self.remove {
            changed |= pointer.take(doc).is_some();
        }
        for (from, to) in &self.rename {
            let Some(value) = from.take(doc) else {
                continue;
            };
            changed = true;
            if let Err(value) = to.put(doc, value, self.create_parents) {
                // No place for it: put it back rather than lose it.
                log::debug(&format!(
                    "rename {} -> {}: the target's parent is missing",
                    from.as_str(),
                    to.as_str()
                ));
                let _ = from.put(doc, value, false);
            }
        }
        for pointer in &self.redact {
            if let Some(value) = pointer.get_mut(doc) {
                *value = self.redact_with.clone();
                changed = true;
            }
        }
        for (pointer, value) in &self.add {
            match pointer.put(doc, value.clone(), self.create_parents) {
                Ok(()) => changed = true,
                Err(_) => log::debug(&format!("add {}: its parent is missing", pointer.as_str())),
            }
        }
        changed
    }
}
