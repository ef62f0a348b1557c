//! Parsing one level of JSON: an object's members or an array's elements,
//! each value kept as its raw text. serde_json still reads every byte of
//! those values to find where they end, so a syntax error anywhere in the
//! body is found when the root is parsed.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Error;
use serde_json::value::RawValue;

use crate::node::{Members, Node};

/// The whole body: the root parsed one level if it is an object or an
/// array (every edit starts there), else kept raw. Errs on invalid JSON.
pub fn document(body: &[u8]) -> Result<Node<'_>, Error> {
    let first = body.iter().find(|b| !is_whitespace(**b));
    match first {
        Some(b'{' | b'[') => serde_json::from_slice::<Level>(body).map(Level::into_node),
        _ => serde_json::from_slice::<&RawValue>(body).map(Node::Raw),
    }
}

/// One level of a checked raw value; None for a scalar.
pub fn level(raw: &RawValue) -> Result<Option<Node<'_>>, Error> {
    match raw.get().as_bytes().first() {
        Some(b'{' | b'[') => serde_json::from_str::<Level>(raw.get()).map(|l| Some(l.into_node())),
        _ => Ok(None),
    }
}

/// JSON's whitespace, as serde_json skips it.
pub fn is_whitespace(byte: u8) -> bool {
    matches!(byte, b' ' | b'\n' | b'\r' | b'\t')
}

enum Level<'a> {
    Object(Members<'a>),
    Array(Vec<Node<'a>>),
}

impl<'a> Level<'a> {
    fn into_node(self) -> Node<'a> {
        match self {
            Level::Object(members) => Node::Object(last_wins(members)),
            Level::Array(items) => Node::Array(items),
        }
    }
}

impl<'de> Deserialize<'de> for Level<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LevelVisitor)
    }
}

struct LevelVisitor;

impl<'de> Visitor<'de> for LevelVisitor {
    type Value = Level<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object or array")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Level<'de>, A::Error> {
        let mut members = Vec::new();
        while let Some(Name(name)) = map.next_key()? {
            let value: &'de RawValue = map.next_value()?;
            members.push((name, Node::Raw(value)));
        }
        Ok(Level::Object(members))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Level<'de>, A::Error> {
        let mut items = Vec::new();
        while let Some(value) = seq.next_element::<&'de RawValue>()? {
            items.push(Node::Raw(value));
        }
        Ok(Level::Array(items))
    }
}

/// A member name: borrowed from the body unless it had escapes.
struct Name<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Name<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(NameVisitor)
    }
}

struct NameVisitor;

impl<'de> Visitor<'de> for NameVisitor {
    type Value = Name<'de>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name")
    }

    fn visit_borrowed_str<E: de::Error>(self, name: &'de str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Borrowed(name)))
    }

    fn visit_str<E: de::Error>(self, name: &str) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Owned(name.to_owned())))
    }

    fn visit_string<E: de::Error>(self, name: String) -> Result<Name<'de>, E> {
        Ok(Name(Cow::Owned(name)))
    }
}

/// Duplicate member names as serde_json's map (an IndexMap) has them: the
/// first one's place, the last one's value.
fn last_wins(members: Members<'_>) -> Members<'_> {
    // Small objects: comparing beats hashing; most have no duplicates.
    const LINEAR: usize = 16;
    let duplicate = if members.len() <= LINEAR {
        (1..members.len()).any(|i| members[..i].iter().any(|(name, _)| *name == members[i].0))
    } else {
        let mut seen = HashSet::with_capacity(members.len());
        members.iter().any(|(name, _)| !seen.insert(name.as_ref()))
    };
    if !duplicate {
        return members;
    }
    let mut kept: Members<'_> = Vec::with_capacity(members.len());
    let mut places: HashMap<Cow<'_, str>, usize> = HashMap::new();
    for (name, value) in members {
        match places.get(&name) {
            Some(&place) => kept[place].1 = value,
            None => {
                places.insert(name.clone(), kept.len());
                kept.push((name, value));
            }
        }
    }
    kept
}
