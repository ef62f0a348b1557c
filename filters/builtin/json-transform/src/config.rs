//! The filter's config as written in weir's config file, and its checked
//! form with every pointer parsed.

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;
use serde_json::Value;

use crate::edits::Edits;
use crate::pointer::Pointer;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default)]
    request: EditSettings,
    #[serde(default)]
    response: EditSettings,
    /// Whether `add` (and `rename`) create missing parent objects.
    #[serde(default)]
    create_parents: bool,
    /// What `redact` puts in place of a value.
    #[serde(default = "redacted")]
    redact_with: Value,
    /// What a request whose body claims JSON but is not gets.
    #[serde(default)]
    on_invalid_json: OnInvalidJson,
}

fn redacted() -> Value {
    Value::String("[redacted]".into())
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct EditSettings {
    #[serde(default)]
    remove: Vec<String>,
    #[serde(default)]
    rename: BTreeMap<String, String>,
    #[serde(default)]
    redact: Vec<String>,
    /// Pointer to the value to put there. Applied in pointer order, so
    /// `/a` is added before `/a/b`.
    #[serde(default)]
    add: BTreeMap<String, Value>,
}

#[derive(Deserialize, Default, Clone, Copy, PartialEq, Debug)]
#[serde(rename_all = "snake_case")]
pub enum OnInvalidJson {
    /// Send the body on as it came (the default): the upstream decides.
    #[default]
    Pass,
    /// Answer 400 without contacting the upstream.
    Reject,
}

pub struct Checked {
    pub request: Edits,
    pub response: Edits,
    pub on_invalid_json: OnInvalidJson,
}

impl Settings {
    pub fn check(self) -> Result<Checked, String> {
        let checked = Checked {
            request: self
                .request
                .check("request", self.create_parents, &self.redact_with)?,
            response: self
                .response
                .check("response", self.create_parents, &self.redact_with)?,
            on_invalid_json: self.on_invalid_json,
        };
        if checked.request.is_empty() && checked.response.is_empty() {
            return Err("nothing to do: give `request` or `response` at least one edit".into());
        }
        Ok(checked)
    }
}

impl EditSettings {
    fn check(self, side: &str, create_parents: bool, redact_with: &Value) -> Result<Edits, String> {
        let pointers = |field: &str, texts: &[String]| {
            texts
                .iter()
                .map(|text| Pointer::parse(text).map_err(|e| format!("{side}.{field}: {e}")))
                .collect::<Result<Vec<_>, _>>()
        };
        let remove = pointers("remove", &self.remove)?;
        let redact = pointers("redact", &self.redact)?;

        let field = format!("{side}.rename");
        // A chain (a -> b, b -> c) would depend on the order renames run in.
        let sources: BTreeSet<&String> = self.rename.keys().collect();
        let mut rename = Vec::new();
        for (from, to) in &self.rename {
            if sources.contains(to) {
                return Err(format!(
                    "{field}: {to:?} is both renamed and a rename target"
                ));
            }
            let parse = |text: &str| Pointer::parse(text).map_err(|e| format!("{field}: {e}"));
            rename.push((parse(from)?, parse(to)?));
        }

        let add = self
            .add
            .into_iter()
            .map(|(text, value)| {
                Pointer::parse(&text)
                    .map(|pointer| (pointer, value))
                    .map_err(|e| format!("{side}.add: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;

        Ok(Edits {
            remove,
            rename,
            redact,
            add,
            create_parents,
            redact_with: redact_with.clone(),
        })
    }
}
