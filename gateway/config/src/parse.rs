//! YAML text to per-item file types, keeping every error with its path and
//! line. Each section and each list or map item is deserialized on its own, so
//! one bad route does not hide the errors in the next.

use std::fmt;

use marked_yaml::Node;
use serde::de::DeserializeOwned;

use crate::error::ConfigError;
use crate::schema::{AdminFile, FilterFile, ListenerFile, RouteFile, ServerFile, UpstreamFile};

/// A dotted path into the document: `routes[0].match.path`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigPath(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl ConfigPath {
    pub fn key(&self, key: &str) -> ConfigPath {
        let mut next = self.clone();
        next.0.push(Segment::Key(key.to_owned()));
        next
    }

    pub fn index(&self, index: usize) -> ConfigPath {
        let mut next = self.clone();
        next.0.push(Segment::Index(index));
        next
    }
}

impl fmt::Display for ConfigPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("<document>");
        }
        for (i, segment) in self.0.iter().enumerate() {
            match segment {
                Segment::Key(key) if i == 0 => write!(f, "{key}")?,
                Segment::Key(key) => write!(f, ".{key}")?,
                Segment::Index(index) => write!(f, "[{index}]")?,
            }
        }
        Ok(())
    }
}

/// The parsed document: the node tree (for lines and filter configs) and
/// each section's items.
pub struct Document {
    pub root: Node,
    pub server: Option<ServerFile>,
    pub listeners: Vec<(ConfigPath, ListenerFile)>,
    pub upstreams: Vec<(ConfigPath, String, UpstreamFile)>,
    pub filters: Vec<(ConfigPath, String, FilterFile)>,
    pub global_filters: Vec<String>,
    pub routes: Vec<(ConfigPath, usize, RouteFile)>,
    pub admin: Option<AdminFile>,
    /// Whether the document has a `listeners` section at all.
    pub listeners_present: bool,
}

const SECTIONS: &[&str] = &[
    "server",
    "listeners",
    "upstreams",
    "filters",
    "global_filters",
    "routes",
    "admin",
];

/// Parses the document; item-level errors go to `errors`, a YAML syntax error
/// ends parsing.
pub fn parse_document(text: &str, errors: &mut Vec<ConfigError>) -> Option<Document> {
    let root = match marked_yaml::parse_yaml_with_options(
        0,
        text,
        // Quoted scalars stay strings ("42" is not 42) in filter configs.
        marked_yaml::LoaderOptions::default().prevent_coercion(true),
    ) {
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
        global_filters: Vec::new(),
        routes: Vec::new(),
        admin: None,
        listeners_present: false,
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
        match key.as_str() {
            "server" => doc.server = item(node, &path, errors),
            "admin" => doc.admin = item(node, &path, errors),
            "global_filters" => doc.global_filters = item(node, &path, errors).unwrap_or_default(),
            "listeners" => {
                doc.listeners_present = true;
                for (i, node) in sequence(node, &path, errors) {
                    let path = path.index(i);
                    if let Some(listener) = item(node, &path, errors) {
                        doc.listeners.push((path, listener));
                    }
                }
            }
            "routes" => {
                for (i, node) in sequence(node, &path, errors) {
                    let path = path.index(i);
                    if let Some(route) = item(node, &path, errors) {
                        doc.routes.push((path, i, route));
                    }
                }
            }
            "upstreams" => {
                for (name, node) in named(node, &path, errors) {
                    let path = path.key(&name);
                    if let Some(upstream) = item(node, &path, errors) {
                        doc.upstreams.push((path, name, upstream));
                    }
                }
            }
            "filters" => {
                for (name, node) in named(node, &path, errors) {
                    let path = path.key(&name);
                    if let Some(filter) = item(node, &path, errors) {
                        doc.filters.push((path, name, filter));
                    }
                }
            }
            other => errors.push(error_at(
                &path,
                key_node_line(key),
                &format!(
                    "unknown section `{other}`, expected one of {}",
                    SECTIONS.join(", ")
                ),
            )),
        }
    }
    doc.root = root;
    Some(doc)
}

fn key_node_line(key: &marked_yaml::types::MarkedScalarNode) -> Option<usize> {
    key.span().start().map(|m| m.line())
}

fn node_line(node: &Node) -> Option<usize> {
    node.span().start().map(|m| m.line())
}

fn item<T: DeserializeOwned>(
    node: &Node,
    path: &ConfigPath,
    errors: &mut Vec<ConfigError>,
) -> Option<T> {
    match marked_yaml::from_node::<T>(node) {
        Ok(value) => Some(value),
        Err(err) => {
            let unknown_key = match &*err {
                marked_yaml::Error::UnknownFieldError(field, _, _) => key_line(node, field),
                _ => None,
            };
            let at = unknown_key
                .or_else(|| err.start_mark().map(|m| m.line()))
                .or_else(|| node_line(node));
            errors.push(error_at(path, at, &serde_message(&err.to_string())));
            None
        }
    }
}

/// The line of the first mapping key named `key` in `node`'s subtree: where
/// an unknown field was written.
fn key_line(node: &Node, key: &str) -> Option<usize> {
    match node {
        Node::Mapping(map) => map.iter().find_map(|(k, v)| {
            if k.as_str() == key {
                k.span().start().map(|m| m.line())
            } else {
                key_line(v, key)
            }
        }),
        Node::Sequence(seq) => seq.iter().find_map(|v| key_line(v, key)),
        Node::Scalar(_) => None,
    }
}

/// marked-yaml capitalises serde's messages; weir's errors are lower-case.
fn serde_message(message: &str) -> String {
    let mut chars = message.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn sequence<'a>(
    node: &'a Node,
    path: &ConfigPath,
    errors: &mut Vec<ConfigError>,
) -> Vec<(usize, &'a Node)> {
    match node.as_sequence() {
        Some(seq) => seq.iter().enumerate().collect(),
        None => {
            errors.push(error_at(path, node_line(node), "expected a list"));
            Vec::new()
        }
    }
}

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
        ScanError(m, e) => (Some(*m), format!("invalid YAML: {e}")),
        DuplicateKey(inner) => (
            inner.key.span().start().copied(),
            format!("duplicate key {:?}", inner.key.as_str()),
        ),
        other => (None, other.to_string()),
    };
    ConfigError {
        path: "<document>".into(),
        line: marker.map(|m| m.line()),
        message,
    }
}

/// The line of the node at `path`, or of its nearest ancestor that exists.
pub fn line_of(root: &Node, path: &ConfigPath) -> Option<usize> {
    let mut node = root;
    let mut best = node_line(node);
    for segment in &path.0 {
        let next = match (segment, node) {
            (Segment::Key(key), Node::Mapping(map)) => map.get_node(key),
            (Segment::Index(i), Node::Sequence(seq)) => seq.get_node(*i),
            _ => None,
        };
        match next {
            Some(next) => {
                node = next;
                best = node_line(node).or(best);
            }
            None => break,
        }
    }
    best
}

/// The node at `path`, if it exists.
pub fn node_at<'a>(root: &'a Node, path: &ConfigPath) -> Option<&'a Node> {
    let mut node = root;
    for segment in &path.0 {
        node = match (segment, node) {
            (Segment::Key(key), Node::Mapping(map)) => map.get_node(key)?,
            (Segment::Index(i), Node::Sequence(seq)) => seq.get_node(*i)?,
            _ => return None,
        };
    }
    Some(node)
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
