//! A JSON document parsed only where edits reach: an object or array on an
//! edit's path is parsed one level (its children stay raw JSON text), the
//! rest is never parsed, only checked, and goes out as it came. The edits
//! below behave exactly as serde_json's `pointer_mut`, an IndexMap
//! `insert`/`shift_remove` and `Vec::insert`/`remove` do on a whole parsed
//! `Value`, which is what this filter did before.

use std::borrow::Cow;

use serde_json::value::RawValue;
use serde_json::{Error, Value};

use crate::parse;
use crate::pointer::{Pointer, array_index};

/// Members in order, names unescaped, each name once.
pub type Members<'a> = Vec<(Cow<'a, str>, Node<'a>)>;

#[derive(Debug)]
pub enum Node<'a> {
    /// Checked but not parsed: goes out as its text (whitespace aside).
    Raw(&'a RawValue),
    /// Parsed one level.
    Object(Members<'a>),
    Array(Vec<Node<'a>>),
    /// A value from the config (`add`, `redact_with`), borrowed, not cloned.
    Given(&'a Value),
}

impl<'a> Node<'a> {
    /// Makes a raw or given object or array editable: one level parsed.
    /// Scalars stay as they are. Fails only on what serde_json accepts in a
    /// skipped value but not in a member name (a lone surrogate escape).
    fn open(&mut self) -> Result<(), Error> {
        match *self {
            Node::Raw(raw) => {
                if let Some(level) = parse::level(raw)? {
                    *self = level;
                }
            }
            Node::Given(value) => match value {
                Value::Object(members) => {
                    *self = Node::Object(
                        members
                            .iter()
                            .map(|(name, v)| (Cow::Borrowed(name.as_str()), Node::Given(v)))
                            .collect(),
                    )
                }
                Value::Array(items) => *self = Node::Array(items.iter().map(Node::Given).collect()),
                _ => {}
            },
            Node::Object(_) | Node::Array(_) => {}
        }
        Ok(())
    }

    /// The child `token` names, in an opened node.
    fn child(&mut self, token: &str) -> Option<&mut Node<'a>> {
        match self {
            Node::Object(members) => members
                .iter_mut()
                .find(|(name, _)| name == token)
                .map(|(_, node)| node),
            Node::Array(items) => items.get_mut(array_index(token)?),
            _ => None,
        }
    }

    /// The node at `tokens` below this one, opened (`Value::pointer_mut`).
    fn find(&mut self, tokens: &[String]) -> Result<Option<&mut Node<'a>>, Error> {
        self.open()?;
        let mut current = self;
        for token in tokens {
            let Some(next) = current.child(token) else {
                return Ok(None);
            };
            next.open()?;
            current = next;
        }
        Ok(Some(current))
    }

    /// As `find`, creating each missing member on the way as an empty
    /// object. Gives up (None) on a scalar or an out-of-range array index.
    fn find_or_create(&mut self, tokens: &'a [String]) -> Result<Option<&mut Node<'a>>, Error> {
        self.open()?;
        let mut current = self;
        for token in tokens {
            let next = match current {
                Node::Object(members) => {
                    let index = match position(members, token) {
                        Some(index) => index,
                        None => {
                            members.push((Cow::Borrowed(token), Node::Object(Vec::new())));
                            members.len() - 1
                        }
                    };
                    &mut members[index].1
                }
                Node::Array(items) => match array_index(token).and_then(|i| items.get_mut(i)) {
                    Some(item) => item,
                    None => return Ok(None),
                },
                _ => return Ok(None),
            };
            next.open()?;
            current = next;
        }
        Ok(Some(current))
    }

    /// The value `pointer` points at, if there is one (left unparsed).
    pub fn get_mut(&mut self, pointer: &Pointer) -> Result<Option<&mut Node<'a>>, Error> {
        Ok(self
            .find(pointer.parent())?
            .and_then(|parent| parent.child(pointer.last())))
    }

    /// Removes and returns the value `pointer` points at, if there is one;
    /// later members and elements move up.
    pub fn take(&mut self, pointer: &Pointer) -> Result<Option<Node<'a>>, Error> {
        let last = pointer.last();
        Ok(match self.find(pointer.parent())? {
            Some(Node::Object(members)) => position(members, last).map(|i| members.remove(i).1),
            Some(Node::Array(items)) => array_index(last)
                .filter(|&i| i < items.len())
                .map(|i| items.remove(i)),
            _ => None,
        })
    }

    /// Puts `value` at `pointer`, replacing what was (the JSON Patch
    /// `add`): a member of an object (in place if it exists, else last), an
    /// array index up to the length (shifting the rest), or `-` for the
    /// end of an array. With `create_parents`, missing objects on the way
    /// are created. Gives `value` back (inner `Err`) when there is no place.
    pub fn put(
        &mut self,
        pointer: &'a Pointer,
        value: Node<'a>,
        create_parents: bool,
    ) -> Result<Result<(), Node<'a>>, Error> {
        let parent = if create_parents {
            self.find_or_create(pointer.parent())?
        } else {
            self.find(pointer.parent())?
        };
        let last = pointer.last();
        Ok(match parent {
            Some(Node::Object(members)) => {
                match position(members, last) {
                    Some(index) => members[index].1 = value,
                    None => members.push((Cow::Borrowed(last), value)),
                }
                Ok(())
            }
            Some(Node::Array(items)) if last == "-" => {
                items.push(value);
                Ok(())
            }
            Some(Node::Array(items)) => match array_index(last) {
                Some(index) if index <= items.len() => {
                    items.insert(index, value);
                    Ok(())
                }
                _ => Err(value),
            },
            _ => Err(value),
        })
    }
}

fn position(members: &Members<'_>, name: &str) -> Option<usize> {
    members.iter().position(|(member, _)| member == name)
}
