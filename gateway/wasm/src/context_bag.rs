//! The per-request bag of strings that the filters of one chain share
//! (`weir:filter/context`).

use std::collections::HashMap;
use std::sync::Arc;

/// Writes the entries a [`ContextBag::defer`] stands for.
type Fill = Arc<dyn Fn(&mut HashMap<String, String>) + Send + Sync>;

/// Keys and values set by filters, and by weir before the first filter runs.
///
/// weir's own entries (the trace's `trace_id` and `traceparent`) can be
/// deferred: they are written when a filter first reads, sets or removes one
/// of their keys, so a request whose filters never look at them does not pay
/// for formatting and storing them. What a filter sees is the same either way.
#[derive(Clone, Default)]
pub struct ContextBag {
    entries: HashMap<String, String>,
    deferred: Option<(&'static [&'static str], Fill)>,
}

impl ContextBag {
    /// Stands for the entries `fill` writes, under `keys`, until one of those
    /// keys is used. Replaces an earlier deferral that was not used.
    pub fn defer(
        &mut self,
        keys: &'static [&'static str],
        fill: impl Fn(&mut HashMap<String, String>) + Send + Sync + 'static,
    ) {
        self.deferred = Some((keys, Arc::new(fill)));
    }

    pub fn get(&mut self, key: &str) -> Option<&String> {
        self.fill_for(key);
        self.entries.get(key)
    }

    pub fn insert(&mut self, key: String, value: String) {
        self.fill_for(&key);
        self.entries.insert(key, value);
    }

    pub fn remove(&mut self, key: &str) {
        self.fill_for(key);
        self.entries.remove(key);
    }

    /// Every entry, the deferred ones written.
    pub fn into_entries(mut self) -> HashMap<String, String> {
        if let Some((_, fill)) = self.deferred.take() {
            fill(&mut self.entries);
        }
        self.entries
    }

    fn fill_for(&mut self, key: &str) {
        if self
            .deferred
            .as_ref()
            .is_some_and(|(keys, _)| keys.contains(&key))
            && let Some((_, fill)) = self.deferred.take()
        {
            fill(&mut self.entries);
        }
    }
}

impl std::fmt::Debug for ContextBag {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContextBag")
            .field("entries", &self.entries)
            .field("deferred", &self.deferred.as_ref().map(|(keys, _)| keys))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seeded() -> ContextBag {
        let mut bag = ContextBag::default();
        bag.insert("sub".into(), "alice".into());
        bag.defer(&["trace_id", "traceparent"], |entries| {
            entries.insert("trace_id".into(), "t1".into());
            entries.insert("traceparent".into(), "p1".into());
        });
        bag
    }

    #[test]
    fn deferred_entries_appear_when_a_key_of_theirs_is_read() {
        let mut bag = seeded();
        assert_eq!(bag.get("sub").map(String::as_str), Some("alice"));
        assert_eq!(bag.get("other"), None);
        assert_eq!(bag.get("traceparent").map(String::as_str), Some("p1"));
        assert_eq!(bag.get("trace_id").map(String::as_str), Some("t1"));
    }

    #[test]
    fn a_filter_that_sets_or_removes_a_deferred_key_keeps_the_others() {
        let mut bag = seeded();
        bag.insert("trace_id".into(), "mine".into());
        assert_eq!(bag.get("trace_id").map(String::as_str), Some("mine"));
        assert_eq!(bag.get("traceparent").map(String::as_str), Some("p1"));

        let mut bag = seeded();
        bag.remove("traceparent");
        assert_eq!(bag.get("traceparent"), None);
        assert_eq!(bag.get("trace_id").map(String::as_str), Some("t1"));
    }

    #[test]
    fn a_clone_keeps_what_is_deferred_and_entries_include_it() {
        let bag = seeded();
        let entries = bag.clone().into_entries();
        assert_eq!(entries.len(), 3);
        assert_eq!(entries["traceparent"], "p1");
        assert_eq!(bag.into_entries()["trace_id"], "t1");
    }
}
