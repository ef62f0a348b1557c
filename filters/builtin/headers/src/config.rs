//! The filter's config, as written in weir's config file, and its checked
//! form with every template parsed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use crate::names;
use crate::template::Template;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    /// Edits of the request, before it goes upstream.
    #[serde(default)]
    request: SectionSettings,
    /// Edits of the response, before it goes to the client.
    #[serde(default)]
    response: SectionSettings,
    /// What a `set` or `add` does when a variable has no value.
    #[serde(default)]
    on_missing: OnMissing,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct SectionSettings {
    #[serde(default)]
    remove: Vec<String>,
    #[serde(default)]
    rename: BTreeMap<String, String>,
    #[serde(default)]
    set: BTreeMap<String, String>,
    #[serde(default)]
    add: BTreeMap<String, OneOrMany>,
}

/// `add` takes one value or a list of values for a header.
#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum OnMissing {
    /// Leave that header alone (the default): no half-filled value goes out.
    #[default]
    Skip,
    /// Render the missing variable as empty text.
    Empty,
}

/// The checked edits of one side, in the order they are applied.
#[derive(Default)]
pub struct Edits {
    pub remove: Vec<String>,
    pub rename: Vec<(String, String)>,
    pub set: Vec<(String, Template)>,
    pub add: Vec<(String, Template)>,
}

impl Edits {
    pub fn is_empty(&self) -> bool {
        self.remove.is_empty()
            && self.rename.is_empty()
            && self.set.is_empty()
            && self.add.is_empty()
    }
}

pub struct Checked {
    pub request: Edits,
    pub response: Edits,
    pub on_missing: OnMissing,
}

impl Settings {
    /// Checks every name and parses every template; the error names the field.
    pub fn check(self) -> Result<Checked, String> {
        let checked = Checked {
            request: self.request.check("request")?,
            response: self.response.check("response")?,
            on_missing: self.on_missing,
        };
        if checked.request.is_empty() && checked.response.is_empty() {
            return Err("nothing to do: give `request` or `response` at least one edit".into());
        }
        Ok(checked)
    }
}

impl SectionSettings {
    fn check(self, side: &str) -> Result<Edits, String> {
        let remove = self
            .remove
            .iter()
            .map(|name| names::checked(name, &format!("{side}.remove")))
            .collect::<Result<Vec<_>, _>>()?;

        let field = format!("{side}.rename");
        let mut rename = Vec::new();
        for (from, to) in &self.rename {
            let (from, to) = (names::checked(from, &field)?, names::checked(to, &field)?);
            if from == to {
                return Err(format!("{field}: {from:?} is renamed to itself"));
            }
            rename.push((from, to));
        }
        // A chain (a -> b, b -> c) would depend on the order renames run in.
        let sources: BTreeSet<&str> = rename.iter().map(|(from, _)| from.as_str()).collect();
        let mut targets = BTreeSet::new();
        for (_, to) in &rename {
            if sources.contains(to.as_str()) {
                return Err(format!(
                    "{field}: {to:?} is both renamed and a rename target"
                ));
            }
            if !targets.insert(to.as_str()) {
                return Err(format!("{field}: two headers are renamed to {to:?}"));
            }
        }

        let field = format!("{side}.set");
        let set = self
            .set
            .iter()
            .map(|(name, value)| header_template(name, value, &field))
            .collect::<Result<Vec<_>, _>>()?;

        let field = format!("{side}.add");
        let mut add = Vec::new();
        for (name, values) in &self.add {
            let values = match values {
                OneOrMany::One(value) => std::slice::from_ref(value),
                OneOrMany::Many(values) => values.as_slice(),
            };
            for value in values {
                add.push(header_template(name, value, &field)?);
            }
        }
        Ok(Edits {
            remove,
            rename,
            set,
            add,
        })
    }
}

/// A checked name and its parsed value. The literal parts may not hold bytes
/// weir refuses in a header value; variables are checked when rendered.
fn header_template(name: &str, value: &str, field: &str) -> Result<(String, Template), String> {
    let name = names::checked(name, field)?;
    let template = Template::parse(value).map_err(|e| format!("{field}.{name}: {e}"))?;
    if template
        .literal_text()
        .any(|text| text.contains(['\r', '\n', '\0']))
    {
        return Err(format!(
            "{field}.{name}: a header value may not contain CR, LF or NUL"
        ));
    }
    Ok((name, template))
}
