//! Paths into the document (`routes[0].match.path`): how errors name a value,
//! and how its node and line are found in the YAML tree.

use std::fmt;

use marked_yaml::Node;

use crate::schema::Section;

/// A dotted path into the document: `routes[0].match.path`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConfigPath(Vec<Segment>);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Key(String),
    Index(usize),
}

impl ConfigPath {
    /// The path of a top-level section: `routes`.
    pub fn section(section: Section) -> ConfigPath {
        ConfigPath::default().key(section.name())
    }

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

    pub(super) fn join(&self, rest: &ConfigPath) -> ConfigPath {
        let mut next = self.clone();
        next.0.extend(rest.0.iter().cloned());
        next
    }

    /// A path as serde-path renders it (`limits.memory`, `targets[1].weight`);
    /// stops at a segment serde could not name (`?`).
    pub(super) fn from_rendered(rendered: &str) -> ConfigPath {
        let mut next = ConfigPath::default();
        for part in rendered.split('.') {
            let (key, mut indexes) = part.split_at(part.find('[').unwrap_or(part.len()));
            if key == "?" {
                break;
            }
            if !key.is_empty() {
                next.0.push(Segment::Key(key.to_owned()));
            }
            while let Some((index, rest)) = indexes
                .strip_prefix('[')
                .and_then(|s| s.split_once(']'))
                .and_then(|(i, rest)| Some((i.parse().ok()?, rest)))
            {
                next.0.push(Segment::Index(index));
                indexes = rest;
            }
        }
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

pub(super) fn node_line(node: &Node) -> Option<usize> {
    node.span().start().map(|m| m.line())
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_display_dotted() {
        let path = ConfigPath::default()
            .key("upstreams")
            .key("users")
            .key("targets")
            .index(1)
            .key("address");
        assert_eq!(path.to_string(), "upstreams.users.targets[1].address");
        assert_eq!(ConfigPath::default().to_string(), "<document>");
    }

    #[test]
    fn serde_paths_are_read_back() {
        let path = ConfigPath::default().key("routes").index(0);
        let rendered = ConfigPath::from_rendered("match.headers[2].name");
        assert_eq!(
            path.join(&rendered).to_string(),
            "routes[0].match.headers[2].name"
        );
        assert_eq!(ConfigPath::from_rendered("[3]").to_string(), "[3]");
        assert_eq!(
            ConfigPath::from_rendered("limits.?.x").to_string(),
            "limits"
        );
        assert_eq!(ConfigPath::from_rendered(""), ConfigPath::default());
    }

    #[test]
    fn lines_fall_back_to_the_nearest_ancestor() {
        let root = marked_yaml::parse_yaml(0, "a:\n  b:\n    - x\n    - y\n").unwrap();
        let a = ConfigPath::default().key("a");
        assert_eq!(line_of(&root, &a.key("b").index(1)), Some(4));
        assert_eq!(line_of(&root, &a.key("b").index(9)), Some(3));
        assert_eq!(line_of(&root, &a.key("missing")), Some(2));
    }
}
