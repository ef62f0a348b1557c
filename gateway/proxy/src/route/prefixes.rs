//! `prefix` path matches as a segment trie. A prefix matches whole segments
//! (`/api` matches `/api`, `/api/` and `/api/x`, not `/apix`; `/api/`
//! matches `/api/` and `/api/x`), so the prefixes that match a path are
//! exactly the path itself and its pieces that stop just before or just
//! after a `/`. Walking the path's segments down the trie visits those
//! pieces and nothing else: a lookup costs the path's length, whatever the
//! number of routes.

use std::collections::HashMap;

#[derive(Default)]
pub(super) struct PrefixTrie {
    root: Node,
}

/// The node reached by some segments joined with `/`: its text `t`.
#[derive(Default)]
struct Node {
    /// Routes (positions, ascending) whose prefix is `t`.
    bare: Vec<u32>,
    /// Routes (positions, ascending) whose prefix is `t` followed by `/`.
    slash: Vec<u32>,
    children: HashMap<Box<str>, Node>,
}

impl PrefixTrie {
    /// Adds the route at `position`; positions arrive in ascending order.
    pub(super) fn insert(&mut self, prefix: &str, position: u32) {
        // `/api/` is stored as `/api` with a trailing slash, so it is found
        // on the way to `/api/x` right where `/api` is.
        let (text, slash) = match prefix.strip_suffix('/') {
            Some(text) => (text, true),
            None => (prefix, false),
        };
        let mut node = &mut self.root;
        for segment in text.split('/') {
            node = node.children.entry(segment.into()).or_default();
        }
        push_once(
            if slash {
                &mut node.slash
            } else {
                &mut node.bare
            },
            position,
        );
    }

    /// Calls `visit` with the positions of every route whose prefix matches
    /// `path`, one ascending list at a time, shortest prefix first.
    pub(super) fn matching<'a>(&'a self, path: &str, mut visit: impl FnMut(&'a [u32])) {
        let mut node = &self.root;
        let mut segments = path.split('/').peekable();
        while let Some(segment) = segments.next() {
            let Some(child) = node.children.get(segment) else {
                return;
            };
            node = child;
            // The text so far is the whole path, or stops before a `/`.
            visit(&node.bare);
            if segments.peek().is_some() {
                visit(&node.slash);
            }
        }
    }
}

/// Appends `position` unless it is already last (a route listing the same
/// host twice lands in one bucket twice).
pub(super) fn push_once(list: &mut Vec<u32>, position: u32) {
    if list.last() != Some(&position) {
        list.push(position);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matching(trie: &PrefixTrie, path: &str) -> Vec<u32> {
        let mut found = Vec::new();
        trie.matching(path, |list| found.extend_from_slice(list));
        found.sort_unstable();
        found
    }

    fn trie(prefixes: &[&str]) -> PrefixTrie {
        let mut trie = PrefixTrie::default();
        for (position, prefix) in prefixes.iter().enumerate() {
            trie.insert(prefix, position as u32);
        }
        trie
    }

    #[test]
    fn a_prefix_matches_whole_segments_only() {
        let t = trie(&["/api", "/apix"]);
        assert_eq!(matching(&t, "/api"), [0]);
        assert_eq!(matching(&t, "/api/"), [0]);
        assert_eq!(matching(&t, "/api/users"), [0]);
        assert_eq!(matching(&t, "/apix"), [1]);
        assert_eq!(matching(&t, "/apix/y"), [1]);
        assert_eq!(matching(&t, "/apixy"), [] as [u32; 0]);
        assert_eq!(matching(&t, "/ap"), [] as [u32; 0]);
    }

    #[test]
    fn a_trailing_slash_prefix_needs_the_slash() {
        let t = trie(&["/api/", "/"]);
        assert_eq!(matching(&t, "/api"), [1]);
        assert_eq!(matching(&t, "/api/"), [0, 1]);
        assert_eq!(matching(&t, "/api/x"), [0, 1]);
        assert_eq!(matching(&t, "/apix"), [1]);
        assert_eq!(matching(&t, "/"), [1]);
    }

    #[test]
    fn empty_segments_are_segments() {
        let t = trie(&["/a//b", "/a//", "/a/"]);
        assert_eq!(matching(&t, "/a//b/c"), [0, 1, 2]);
        assert_eq!(matching(&t, "/a//bc"), [1, 2]);
        assert_eq!(matching(&t, "/a/b"), [2]);
        assert_eq!(matching(&t, "/a"), [] as [u32; 0]);
    }

    #[test]
    fn nested_prefixes_are_all_found() {
        let t = trie(&["/a/b/c", "/a/b", "/a", "/"]);
        assert_eq!(matching(&t, "/a/b/c/d"), [0, 1, 2, 3]);
        assert_eq!(matching(&t, "/a/b"), [1, 2, 3]);
        assert_eq!(matching(&t, "/a/bc"), [2, 3]);
    }
}
