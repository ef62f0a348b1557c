//! YAML text to per-item file types, keeping every error with its path and
//! line. Each section and each list or map item is deserialized on its own, so
//! one bad route does not hide the errors in the next.

use std::collections::BTreeSet;
use std::num::IntErrorKind;

use marked_yaml::Node;
use serde::de::DeserializeOwned;

use crate::error::ConfigError;
use crate::schema::{
    AccessLogFile, AdminFile, FilterFile, HandlerFile, KvStoreFile, ListenerFile, RouteFile,
    SecretFile, Section, ServerFile, TracingFile, UpstreamFile,
};

mod path;

use path::node_line;
pub use path::{ConfigPath, line_of, node_at};

/// The parsed document: the node tree (for lines and filter configs) and
/// each section's items (`parse_document` fills one field or two per
/// [`Section`], matching on it exhaustively).
pub struct Document {
    pub root: Node,
    pub server: Option<ServerFile>,
    pub listeners: Vec<(ConfigPath, ListenerFile)>,
    pub upstreams: Vec<(ConfigPath, String, UpstreamFile)>,
    pub filters: Vec<(ConfigPath, String, FilterFile)>,
    /// Every upstream name written, including those whose definition has
    /// errors: a reference to one of them is not a second error.
    pub upstream_names: BTreeSet<String>,
    /// Every filter name written (see `upstream_names`).
    pub filter_names: BTreeSet<String>,
    pub key_value: Vec<(ConfigPath, String, KvStoreFile)>,
    /// Every key-value store name written (see `upstream_names`).
    pub key_value_names: BTreeSet<String>,
    pub secrets: Vec<(ConfigPath, String, SecretFile)>,
    /// Every secret name written (see `upstream_names`).
    pub secret_names: BTreeSet<String>,
    pub global_filters: Vec<String>,
    pub handlers: Vec<(ConfigPath, String, HandlerFile)>,
    /// Every handler name written (see `upstream_names`).
    pub handler_names: BTreeSet<String>,
    pub routes: Vec<(ConfigPath, usize, RouteFile)>,
    pub admin: Option<AdminFile>,
    pub access_log: Option<AccessLogFile>,
    pub tracing: Option<TracingFile>,
}

/// Parses the document; item-level errors go to `errors`, a YAML syntax error
/// ends parsing.
pub fn parse_document(text: &str, errors: &mut Vec<ConfigError>) -> Option<Document> {
    let options = marked_yaml::LoaderOptions::default()
        // Two upstreams (or fields) with one name are a mistake, not an override.
        .error_on_duplicate_keys(true)
        // Quoted scalars stay strings ("42" is not 42) in filter configs.
        .prevent_coercion(true);
    let root = match marked_yaml::parse_yaml_with_options(0, text, options) {
        Ok(root) => root,
        Err(err) => {
            errors.push(load_error(&err));
            return None;
        }
    };
    let mut doc = Document {
        root: Node::from(String::new()),
        server: None,
        listeners: Vec::new(),
        upstreams: Vec::new(),
        filters: Vec::new(),
        upstream_names: BTreeSet::new(),
        filter_names: BTreeSet::new(),
        key_value: Vec::new(),
        key_value_names: BTreeSet::new(),
        secrets: Vec::new(),
        secret_names: BTreeSet::new(),
        global_filters: Vec::new(),
        handlers: Vec::new(),
        handler_names: BTreeSet::new(),
        routes: Vec::new(),
        admin: None,
        access_log: None,
        tracing: None,
    };
    let Some(mapping) = root.as_mapping() else {
        errors.push(error_at(
            &ConfigPath::default(),
            node_line(&root),
            "the config must be a mapping of sections",
        ));
        return None;
    };
    let top = ConfigPath::default();
    for (key, node) in mapping.iter() {
        let path = top.key(key.as_str());
        let Some(section) = Section::from_name(key.as_str()) else {
            let names: Vec<&str> = Section::ALL.iter().map(|s| s.name()).collect();
            errors.push(error_at(
                &path,
                key.span().start().map(|m| m.line()),
                &format!(
                    "unknown section `{}`, expected one of {}",
                    key.as_str(),
                    names.join(", ")
                ),
            ));
            continue;
        };
        match section {
            Section::Server => doc.server = item(node, &path, errors),
            Section::Admin => doc.admin = item(node, &path, errors),
            Section::AccessLog => doc.access_log = item(node, &path, errors),
            Section::Tracing => doc.tracing = item(node, &path, errors),
            Section::GlobalFilters => {
                doc.global_filters = item(node, &path, errors).unwrap_or_default()
            }
            Section::Listeners => {
                for (i, node) in sequence(node, &path, errors) {
                    let path = path.index(i);
                    if let Some(listener) = item(node, &path, errors) {
                        doc.listeners.push((path, listener));
                    }
                }
            }
            Section::Routes => {
                for (i, node) in sequence(node, &path, errors) {
                    let path = path.index(i);
                    if let Some(route) = item(node, &path, errors) {
                        doc.routes.push((path, i, route));
                    }
                }
            }
            Section::Upstreams => named_items(
                node,
                &path,
                errors,
                &mut doc.upstream_names,
                &mut doc.upstreams,
            ),
            Section::Filters => {
                named_items(node, &path, errors, &mut doc.filter_names, &mut doc.filters)
            }
            Section::Handlers => named_items(
                node,
                &path,
                errors,
                &mut doc.handler_names,
                &mut doc.handlers,
            ),
            Section::KeyValue => named_items(
                node,
                &path,
                errors,
                &mut doc.key_value_names,
                &mut doc.key_value,
            ),
            Section::Secrets => {
                for (name, node) in named(node, &path, errors) {
                    doc.secret_names.insert(name.clone());
                    let path = path.key(&name);
                    // serde's message would quote a value written in place of
                    // `env` or `file`: most likely the secret itself.
                    if node.as_scalar().is_some() {
                        errors.push(error_at(
                            &path,
                            node_line(node),
                            "expected `env: NAME` or `file: path`; a secret's value is never written in the config",
                        ));
                    } else if let Some(secret) = item(node, &path, errors) {
                        doc.secrets.push((path, name, secret));
                    }
                }
            }
        }
    }
    // Listeners written but broken have their own errors; this is for none at all.
    let listeners = mapping.get_node(Section::Listeners.name());
    if listeners.is_none_or(|n| is_empty(n) || n.as_sequence().is_some_and(|s| s.is_empty())) {
        errors.push(error_at(
            &ConfigPath::section(Section::Listeners),
            listeners.map_or_else(|| node_line(&root), node_line),
            "at least one listener is required",
        ));
    }
    doc.root = root;
    Some(doc)
}

/// The entries of a name-to-definition section, each read on its own; every
/// name goes to `names`, also those whose definition has errors.
fn named_items<T: DeserializeOwned>(
    node: &Node,
    path: &ConfigPath,
    errors: &mut Vec<ConfigError>,
    names: &mut BTreeSet<String>,
    items: &mut Vec<(ConfigPath, String, T)>,
) {
    for (name, node) in named(node, path, errors) {
        names.insert(name.clone());
        let path = path.key(&name);
        if let Some(item) = item(node, &path, errors) {
            items.push((path, name, item));
        }
    }
}

/// A key written with no value (`upstreams:`): YAML's empty null.
fn is_empty(node: &Node) -> bool {
    node.as_scalar()
        .is_some_and(|s| s.as_str().is_empty() && s.may_coerce())
}

/// Deserializes one item; on failure records the error at the field it is
/// about (unknown fields: at the item, the message names the field).
fn item<T: DeserializeOwned>(
    node: &Node,
    path: &ConfigPath,
    errors: &mut Vec<ConfigError>,
) -> Option<T> {
    let err = match marked_yaml::from_node::<T>(node) {
        Ok(value) => return Some(value),
        Err(err) => err,
    };
    // The field's path inside the item, as serde-path found it.
    let inner_path = ConfigPath::from_rendered(err.path().unwrap_or_default());
    let reported_path = match &*err {
        marked_yaml::Error::UnknownFieldError(..) => path.clone(),
        _ => path.join(&inner_path),
    };
    // serde-path points the error's span at the offending node (for unknown
    // fields: at the key).
    let line = err
        .start_mark()
        .map(|m| m.line())
        .or_else(|| node_line(node));
    let message = deserialize_message(&err, node_at(node, &inner_path));
    errors.push(error_at(&reported_path, line, &message));
    None
}

/// serde's message, lower-cased like weir's own; marked-yaml's scalar parse
/// errors do not name the value, so these name it.
fn deserialize_message(err: &marked_yaml::FromNodeError, value: Option<&Node>) -> String {
    let text = value.and_then(Node::as_scalar).map(|s| s.as_str());
    match (&**err, text) {
        (marked_yaml::Error::IntegerParseFailure(e, _), Some(text)) => match e.kind() {
            IntErrorKind::PosOverflow | IntErrorKind::NegOverflow => {
                format!("{text:?} is out of range")
            }
            _ => format!("expected a whole number, found {text:?}"),
        },
        (marked_yaml::Error::FloatParseFailure(..), Some(text)) => {
            format!("expected a number, found {text:?}")
        }
        (marked_yaml::Error::NotBoolean(_), Some(text)) => {
            format!("expected true or false, found {text:?}")
        }
        (inner, _) => lower_first(&inner.to_string()),
    }
}

/// marked-yaml capitalises serde's messages; weir's errors are lower-case.
fn lower_first(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// The items of a list section; an empty value is an empty list.
fn sequence<'a>(
    node: &'a Node,
    path: &ConfigPath,
    errors: &mut Vec<ConfigError>,
) -> Vec<(usize, &'a Node)> {
    match node.as_sequence() {
        Some(seq) => seq.iter().enumerate().collect(),
        None if is_empty(node) => Vec::new(),
        None => {
            errors.push(error_at(path, node_line(node), "expected a list"));
            Vec::new()
        }
    }
}

/// The entries of a name-to-definition section; an empty value is an empty map.
fn named<'a>(
    node: &'a Node,
    path: &ConfigPath,
    errors: &mut Vec<ConfigError>,
) -> Vec<(String, &'a Node)> {
    match node.as_mapping() {
        Some(map) => map
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v))
            .collect(),
        None if is_empty(node) => Vec::new(),
        None => {
            errors.push(error_at(
                path,
                node_line(node),
                "expected a mapping of names to definitions",
            ));
            Vec::new()
        }
    }
}

pub fn error_at(path: &ConfigPath, line: Option<usize>, message: &str) -> ConfigError {
    ConfigError {
        path: path.to_string(),
        line,
        message: message.to_owned(),
    }
}

fn load_error(err: &marked_yaml::LoadError) -> ConfigError {
    use marked_yaml::LoadError::*;
    let (marker, message) = match err {
        TopLevelMustBeMapping(m) => (
            Some(*m),
            "the config must be a mapping of sections".to_owned(),
        ),
        UnexpectedAnchor(m) => (
            Some(*m),
            "YAML anchors and aliases are not supported".to_owned(),
        ),
        MappingKeyMustBeScalar(m) => (Some(*m), "mapping keys must be plain values".to_owned()),
        UnexpectedTag(m) => (Some(*m), "YAML tags are not supported".to_owned()),
        // The scanner's own message repeats the position; the line is enough.
        ScanError(m, e) => (Some(*m), format!("invalid YAML: {}", e.info())),
        DuplicateKey(inner) => (
            inner.key.span().start().copied(),
            match inner.prev_key.span().start() {
                Some(first) => format!(
                    "duplicate key {:?} (first at line {})",
                    inner.key.as_str(),
                    first.line()
                ),
                None => format!("duplicate key {:?}", inner.key.as_str()),
            },
        ),
        other => (None, other.to_string()),
    };
    ConfigError {
        path: "<document>".into(),
        line: marker.map(|m| m.line()),
        message,
    }
}

/// A YAML value as JSON, with YAML's plain-scalar typing: unquoted `true`,
/// `42`, `1.5`, `null` become booleans, numbers and null; quoted ones stay strings.
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match node {
        Node::Scalar(scalar) => {
            let text = scalar.as_str();
            if !scalar.may_coerce() {
                return Value::String(text.to_owned());
            }
            match text {
                "true" | "True" | "TRUE" => Value::Bool(true),
                "false" | "False" | "FALSE" => Value::Bool(false),
                "null" | "Null" | "NULL" | "~" | "" => Value::Null,
                _ => {
                    if let Ok(i) = text.parse::<i64>() {
                        Value::from(i)
                    } else if let Some(f) = text.parse::<f64>().ok().filter(|f| f.is_finite()) {
                        Value::from(f)
                    } else {
                        Value::String(text.to_owned())
                    }
                }
            }
        }
        Node::Sequence(seq) => Value::Array(seq.iter().map(to_json).collect()),
        Node::Mapping(map) => Value::Object(
            map.iter()
                .map(|(k, v)| (k.as_str().to_owned(), to_json(v)))
                .collect(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_to_json_keeps_quoted_scalars_as_strings() {
        let text = "n: 1\nq: \"1\"\nb: true\nf: 2.5\nz: ~\nl: [x, \"no\"]\n";
        let options = marked_yaml::LoaderOptions::default().prevent_coercion(true);
        let root = marked_yaml::parse_yaml_with_options(0, text, options).unwrap();
        assert_eq!(
            to_json(&root),
            serde_json::json!({ "n": 1, "q": "1", "b": true, "f": 2.5, "z": null, "l": ["x", "no"] })
        );
    }
}
