//! Applying one side's edits to a request or a response.

use weir_filter_sdk::{Request, Response, log};

use crate::config::{Edits, OnMissing};
use crate::template::Source;

/// Writing headers: to a request, a response, or, from a request phase, to
/// the response that will answer it.
pub trait HeaderWrite {
    fn set(&self, name: &str, value: &[u8]) -> Result<(), String>;
    fn append(&self, name: &str, value: &[u8]) -> Result<(), String>;
    fn remove(&self, name: &str);
}

/// Headers that can also be read, as a rename needs.
pub trait HeaderTarget: HeaderWrite {
    fn all(&self, name: &str) -> Vec<Vec<u8>>;
}

macro_rules! header_target {
    ($type:ty) => {
        impl HeaderWrite for $type {
            fn set(&self, name: &str, value: &[u8]) -> Result<(), String> {
                self.set_header(name, value)
            }
            fn append(&self, name: &str, value: &[u8]) -> Result<(), String> {
                self.append_header(name, value)
            }
            fn remove(&self, name: &str) {
                self.remove_header(name)
            }
        }
        impl HeaderTarget for $type {
            fn all(&self, name: &str) -> Vec<Vec<u8>> {
                self.header_all(name)
            }
        }
    };
}

header_target!(Request);
header_target!(Response);

/// The response to a request, edited while the request passes: weir applies
/// the edits when the response arrives, so the filter needs no
/// response-headers call.
pub struct ResponseOf<'a>(pub &'a Request);

impl HeaderWrite for ResponseOf<'_> {
    fn set(&self, name: &str, value: &[u8]) -> Result<(), String> {
        self.0.set_response_header(name, value)
    }
    fn append(&self, name: &str, value: &[u8]) -> Result<(), String> {
        self.0.append_response_header(name, value)
    }
    fn remove(&self, name: &str) {
        if let Err(refused) = self.0.remove_response_header(name) {
            log::warn(&format!("{name} not removed: {refused}"));
        }
    }
}

enum Write {
    Set,
    Add,
}

type Rendered<'a> = Vec<(Write, &'a str, Option<Vec<u8>>)>;

/// Applies `edits` in their documented order: remove, rename, set, add.
///
/// Values are rendered first, from the request as this filter received it,
/// so an edit never sees another edit of the same filter.
pub fn apply(edits: &Edits, target: &impl HeaderTarget, source: &Source, on_missing: OnMissing) {
    let writes = render(edits, source, on_missing);
    for name in &edits.remove {
        target.remove(name);
    }
    for (from, to) in &edits.rename {
        rename(target, from, to);
    }
    write(writes, target);
}

/// [`apply`] for edits without renames, which need no reading.
pub fn apply_writes(
    edits: &Edits,
    target: &impl HeaderWrite,
    source: &Source,
    on_missing: OnMissing,
) {
    debug_assert!(edits.rename.is_empty());
    let writes = render(edits, source, on_missing);
    for name in &edits.remove {
        target.remove(name);
    }
    write(writes, target);
}

fn render<'a>(edits: &'a Edits, source: &Source, on_missing: OnMissing) -> Rendered<'a> {
    edits
        .set
        .iter()
        .map(|(name, template)| (Write::Set, name, template))
        .chain(
            edits
                .add
                .iter()
                .map(|(name, template)| (Write::Add, name, template)),
        )
        .map(|(write, name, template)| {
            let value = match on_missing {
                OnMissing::Empty => Some(template.render_or_empty(source)),
                OnMissing::Skip => template
                    .render(source)
                    .inspect_err(|missing| {
                        log::debug(&format!("{name} left alone: {missing} has no value"))
                    })
                    .ok(),
            };
            (write, name.as_str(), value)
        })
        .collect()
}

fn write(writes: Rendered, target: &impl HeaderWrite) {
    for (write, name, value) in writes {
        let Some(value) = value else { continue };
        let result = match write {
            Write::Set => target.set(name, &value),
            Write::Add => target.append(name, &value),
        };
        // weir refuses CR, LF and NUL (a context value may carry them): the
        // header is left out, never split.
        if let Err(refused) = result {
            log::warn(&format!(
                "{name} left alone: weir refused its value: {refused}"
            ));
        }
    }
}

/// Moves every value of `from` to `to`, replacing what `to` had. Nothing
/// happens when `from` is absent.
fn rename(target: &impl HeaderTarget, from: &str, to: &str) {
    let values = target.all(from);
    if values.is_empty() {
        return;
    }
    target.remove(from);
    target.remove(to);
    for value in values {
        if let Err(refused) = target.append(to, &value) {
            log::warn(&format!(
                "renaming {from} to {to}: weir refused a value: {refused}"
            ));
        }
    }
}
