//! The route index: built once per snapshot, it narrows a request to the
//! few routes that could match it, so a lookup costs the same with 10 routes
//! or 10,000.
//!
//! Routes are bucketed by host (exact hosts by hash; wildcard suffixes by
//! hash, looked up label by label from the right; routes without hosts in a
//! bucket of their own), and within a bucket by path (exact paths by hash,
//! prefixes in a segment trie, regexes and routes without a path in lists).
//! Every list holds route positions in evaluation order, ascending. A lookup
//! gathers the lists that apply to the request's host and path and returns
//! the smallest position whose full match holds: the same route the
//! evaluation order picks, since every route that can match is in some list
//! gathered and a route left out cannot match. Conditions the index does not
//! look at (methods, headers, query, regexes) are checked on candidates only,
//! and a candidate after the best found so far is not checked at all.

use std::collections::HashMap;

use weir_config::{HostMatch, PathMatch, RouteMatch};

use super::RequestFacts;
use super::prefixes::{PrefixTrie, push_once};

#[derive(Default)]
pub struct RouteIndex {
    exact_hosts: HashMap<Box<str>, PathIndex>,
    /// By suffix with its leading dot: `*.example.com` is `.example.com`.
    wildcard_hosts: HashMap<Box<str>, PathIndex>,
    /// The most dots in a wildcard suffix: how many of a host's suffixes
    /// are worth looking up (a host with thousands of labels costs no more).
    wildcard_dots: usize,
    any_host: PathIndex,
}

/// The routes of one host bucket, by path.
#[derive(Default)]
struct PathIndex {
    exact: HashMap<Box<str>, Vec<u32>>,
    prefixes: PrefixTrie,
    /// Regex paths are tried in order, only until the best candidate.
    regex: Vec<u32>,
    any_path: Vec<u32>,
}

impl RouteIndex {
    /// Indexes `routes`, given in evaluation order.
    pub fn build<'a>(routes: impl IntoIterator<Item = &'a RouteMatch>) -> RouteIndex {
        let mut index = RouteIndex::default();
        for (position, route) in routes.into_iter().enumerate() {
            let position = u32::try_from(position).expect("fewer than 2^32 routes");
            if route.hosts.is_empty() {
                index.any_host.insert(route.path.as_ref(), position);
            }
            for host in &route.hosts {
                let bucket = match host {
                    HostMatch::Exact(host) => index.exact_hosts.entry(host.as_str().into()),
                    HostMatch::WildcardSuffix(suffix) => {
                        let dots = suffix.bytes().filter(|&b| b == b'.').count();
                        index.wildcard_dots = index.wildcard_dots.max(dots);
                        index.wildcard_hosts.entry(suffix.as_str().into())
                    }
                };
                bucket.or_default().insert(route.path.as_ref(), position);
            }
        }
        index
    }

    /// The position of the first route, in evaluation order, that matches
    /// `req`; `holds(position)` checks a candidate's every condition.
    pub fn find(&self, req: &RequestFacts<'_>, holds: impl Fn(usize) -> bool) -> Option<usize> {
        let mut best = Best {
            position: u32::MAX,
            holds,
        };
        if let Some(bucket) = self.exact_hosts.get(req.host) {
            bucket.find(req.path, &mut best);
        }
        if !self.wildcard_hosts.is_empty() {
            // `.example.com` matches a host ending with it after at least
            // one more byte: a dot at index 1 or later.
            for (dot, _) in req.host.rmatch_indices('.').take(self.wildcard_dots) {
                if dot == 0 {
                    break;
                }
                if let Some(bucket) = self.wildcard_hosts.get(&req.host[dot..]) {
                    bucket.find(req.path, &mut best);
                }
            }
        }
        self.any_host.find(req.path, &mut best);
        (best.position != u32::MAX).then_some(best.position as usize)
    }
}

impl PathIndex {
    fn insert(&mut self, path: Option<&PathMatch>, position: u32) {
        match path {
            Some(PathMatch::Exact(path)) => push_once(
                self.exact.entry(path.as_str().into()).or_default(),
                position,
            ),
            Some(PathMatch::Prefix(prefix)) => self.prefixes.insert(prefix, position),
            Some(PathMatch::Regex(_)) => push_once(&mut self.regex, position),
            None => push_once(&mut self.any_path, position),
        }
    }

    /// Offers `best` every route of this bucket whose path may match; the
    /// cheap lists first, so regexes after a winner are never run.
    fn find(&self, path: &str, best: &mut Best<impl Fn(usize) -> bool>) {
        if let Some(list) = self.exact.get(path) {
            best.offer(list);
        }
        self.prefixes.matching(path, |list| best.offer(list));
        best.offer(&self.any_path);
        best.offer(&self.regex);
    }
}

/// The smallest matching position seen so far.
struct Best<F> {
    position: u32,
    holds: F,
}

impl<F: Fn(usize) -> bool> Best<F> {
    /// Checks `candidates` (ascending) up to the best so far; the first that
    /// holds is the new best.
    fn offer(&mut self, candidates: &[u32]) {
        for &candidate in candidates {
            if candidate >= self.position {
                return;
            }
            if (self.holds)(candidate as usize) {
                self.position = candidate;
                return;
            }
        }
    }
}
