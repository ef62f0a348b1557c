//! The config file as written: what serde reads and what the JSON Schema
//! (`docs/config.schema.json`) describes, one submodule per section (named as
//! in `model/` and `check/`). Optional fields stay `Option` here; `check/`
//! applies the defaults and validates.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

mod access_log;
mod admin;
mod filters;
mod grants;
mod handlers;
mod key_value;
mod listeners;
mod routes;
mod secrets;
mod server;
mod tracing;
mod upstreams;

pub use access_log::*;
pub use admin::*;
pub use filters::*;
pub use grants::*;
pub use handlers::*;
pub use key_value::*;
pub use listeners::*;
pub use routes::*;
pub use secrets::*;
pub use server::*;
pub use tracing::*;
pub use upstreams::*;

/// Declares [`Section`] from one list, so a name is written once.
macro_rules! sections {
    ($($section:ident => $name:literal,)*) => {
        /// A top-level section of the config file.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Section {
            $($section,)*
        }

        impl Section {
            /// Every section, in the order the unknown-section error lists them.
            pub const ALL: &[Section] = &[$(Section::$section,)*];

            /// The key in the file.
            pub fn name(self) -> &'static str {
                match self {
                    $(Section::$section => $name,)*
                }
            }
        }
    };
}

// The one list of sections. Parsing matches on `Section` exhaustively (a new
// section cannot be left unread) and the unknown-section error lists these
// names. `ConfigFile` below is written out by hand, as its fields carry the
// docs and schema attributes: `tests::sections_are_the_schemas_properties`
// fails when it and this list disagree.
sections! {
    Server => "server",
    Listeners => "listeners",
    Upstreams => "upstreams",
    KeyValue => "key_value",
    Secrets => "secrets",
    Filters => "filters",
    GlobalFilters => "global_filters",
    Handlers => "handlers",
    Routes => "routes",
    Admin => "admin",
    AccessLog => "access_log",
    Tracing => "tracing",
}

impl Section {
    /// The section written as `name`, if there is one.
    pub fn from_name(name: &str) -> Option<Section> {
        Section::ALL.iter().copied().find(|s| s.name() == name)
    }
}

/// The JSON Schema of the file format.
pub fn file_schema() -> Value {
    let mut schema =
        serde_json::to_value(schemars::schema_for!(ConfigFile)).expect("a schema is valid JSON");
    remove_null(&mut schema);
    schema
}

/// Optional fields are left out to take their default; the loader does not
/// read an explicit `null` as "unset", so the schema must not offer it.
fn remove_null(schema: &mut Value) {
    let null = serde_json::json!({ "type": "null" });
    match schema {
        Value::Object(map) => {
            if let Some(Value::Array(types)) = map.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    map.insert("type".into(), only);
                }
            }
            if let Some(Value::Array(alternatives)) = map.get_mut("anyOf") {
                alternatives.retain(|a| *a != null);
                if alternatives.len() == 1 {
                    let Some(Value::Object(only)) = alternatives.pop() else {
                        unreachable!("schemars writes schema objects")
                    };
                    map.remove("anyOf");
                    for (key, value) in only {
                        map.entry(key).or_insert(value);
                    }
                }
            }
            map.values_mut().for_each(remove_null);
        }
        Value::Array(items) => items.iter_mut().for_each(remove_null),
        _ => {}
    }
}

/// A weir config file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[allow(dead_code)] // Read section by section (see parse.rs); this type is for the schema.
pub struct ConfigFile {
    pub server: Option<ServerFile>,
    /// Where weir accepts connections. At least one.
    #[schemars(length(min = 1))]
    pub listeners: Vec<ListenerFile>,
    /// Upstream pools by name.
    #[serde(default)]
    pub upstreams: BTreeMap<String, UpstreamFile>,
    /// Key-value stores by name, granted to filters and handlers in `grants.key_value`.
    #[serde(default)]
    pub key_value: BTreeMap<String, KvStoreFile>,
    /// Secrets by name, granted to filters and handlers in `grants.secrets`.
    #[serde(default)]
    pub secrets: BTreeMap<String, SecretFile>,
    /// Wasm filters by name.
    #[serde(default)]
    pub filters: BTreeMap<String, FilterFile>,
    /// Filters run on every route, before the route's own filters.
    #[serde(default)]
    pub global_filters: Vec<String>,
    /// Wasm components (`wasi:http`) that answer routes' requests, by name.
    #[serde(default)]
    pub handlers: BTreeMap<String, HandlerFile>,
    /// Routes; the first match in evaluation order wins (priority, then specificity, then file order).
    #[serde(default)]
    pub routes: Vec<RouteFile>,
    pub admin: Option<AdminFile>,
    pub access_log: Option<AccessLogFile>,
    pub tracing: Option<TracingFile>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Section` and `ConfigFile` list the same sections (see `sections!`).
    #[test]
    fn sections_are_the_schemas_properties() {
        let schema = file_schema();
        let mut properties: Vec<&str> = schema["properties"]
            .as_object()
            .expect("the file schema has properties")
            .keys()
            .map(String::as_str)
            .collect();
        properties.sort_unstable();
        let mut sections: Vec<&str> = Section::ALL.iter().map(|s| s.name()).collect();
        sections.sort_unstable();
        assert_eq!(sections, properties);
        for section in Section::ALL {
            assert_eq!(Section::from_name(section.name()), Some(*section));
        }
        assert_eq!(Section::from_name("nope"), None);
    }
}
