//! The filter's `config` from weir's config file, as JSON.

use serde::de::DeserializeOwned;
use serde_json::Value;

/// The filter's config. weir passes whatever the `config:` key of the filter
/// held (`null` when absent).
#[derive(Debug, Clone, PartialEq)]
pub struct Config(Value);

impl Config {
    /// Parses the JSON weir hands to `init`.
    pub fn parse(json: &str) -> Result<Config, String> {
        serde_json::from_str(json)
            .map(Config)
            .map_err(|e| format!("config is not valid JSON: {e}"))
    }

    /// The whole value.
    pub fn value(&self) -> &Value {
        &self.0
    }

    /// Deserializes the whole config into `T`, e.g. a struct with
    /// `#[derive(Deserialize)]`. Errors name the field they are about
    /// (`config field "limit": invalid type: …`). A filter given no `config`
    /// is read as an empty mapping, so a `T` whose fields all have defaults
    /// works without one; otherwise the error says the config is missing.
    pub fn deserialize<T: DeserializeOwned>(&self) -> Result<T, String> {
        if self.0.is_null() {
            let empty = Value::Object(Default::default());
            return from_value(&empty).map_err(|e| format!("no `config` given: {e}"));
        }
        from_value(&self.0).map_err(|e| format!("invalid config: {e}"))
    }

    /// A field of a mapping config, if present and not null.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.0.get(key).filter(|v| !v.is_null())
    }

    /// A required string field.
    pub fn string(&self, key: &str) -> Result<String, String> {
        match self.get(key) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!(
                "config field {key:?} must be a string, got {other}"
            )),
            None => Err(format!("config field {key:?} is required")),
        }
    }

    /// An optional string field.
    pub fn opt_string(&self, key: &str) -> Result<Option<String>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(_) => self.string(key).map(Some),
        }
    }

    /// An optional unsigned integer field.
    pub fn opt_u64(&self, key: &str) -> Result<Option<u64>, String> {
        match self.get(key) {
            None => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                format!("config field {key:?} must be a non-negative integer, got {v}")
            }),
        }
    }
}

/// Deserializes with the path of the failing field in the message.
fn from_value<T: DeserializeOwned>(value: &Value) -> Result<T, String> {
    serde_path_to_error::deserialize(value).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.inner().to_string()
        } else {
            format!("config field {path:?}: {}", e.inner())
        }
    })
}
