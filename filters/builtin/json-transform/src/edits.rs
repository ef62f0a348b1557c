//! One side's edits and applying them to a body.

use serde_json::{Error, Value};

use crate::node::Node;
use crate::pointer::Pointer;
use crate::{parse, write};

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

    /// The edited body as compact JSON, or None if no edit changed
    /// anything; Err if the body is not JSON. Only what the edits' pointers
    /// pass through is parsed; `skipped` hears of each edit that found no
    /// place.
    pub fn edit(
        &self,
        body: &[u8],
        skipped: &mut dyn FnMut(String),
    ) -> Result<Option<Vec<u8>>, Error> {
        let mut doc = parse::document(body)?;
        if !self.apply(&mut doc, skipped)? {
            return Ok(None);
        }
        Ok(Some(write::to_vec(&doc, body.len())))
    }

    /// Edits `doc`; returns whether anything changed. A pointer to a field
    /// the body does not have is skipped: bodies vary, configs do not.
    fn apply<'a>(
        &'a self,
        doc: &mut Node<'a>,
        skipped: &mut dyn FnMut(String),
    ) -> Result<bool, Error> {
        let mut changed = false;
        for pointer in &self.remove {
            changed |= doc.take(pointer)?.is_some();
        }
        for (from, to) in &self.rename {
            let Some(value) = doc.take(from)? else {
                continue;
            };
            changed = true;
            if let Err(value) = doc.put(to, value, self.create_parents)? {
                // No place for it: put it back (last in its object) rather
                // than lose it.
                skipped(format!(
                    "rename {} -> {}: the target's parent is missing",
                    from.as_str(),
                    to.as_str()
                ));
                let _ = doc.put(from, value, false)?;
            }
        }
        for pointer in &self.redact {
            if let Some(value) = doc.get_mut(pointer)? {
                *value = Node::Given(&self.redact_with);
                changed = true;
            }
        }
        for (pointer, value) in &self.add {
            match doc.put(pointer, Node::Given(value), self.create_parents)? {
                Ok(()) => changed = true,
                Err(_) => skipped(format!("add {}: its parent is missing", pointer.as_str())),
            }
        }
        Ok(changed)
    }
}
