//! The vocabulary of a filter call, shared by the instance, the chain, the
//! metrics and the traces: which phase, the set of phases a filter runs in,
//! what a call is handed, and the filter's answer.

use crate::types::{FilterResponse, LogInfo};

/// A point in a request's life where filters run, in the order they come.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    RequestHeaders,
    RequestBody,
    ResponseHeaders,
    ResponseBody,
    Log,
}

impl Phase {
    pub const ALL: [Phase; 5] = [
        Phase::RequestHeaders,
        Phase::RequestBody,
        Phase::ResponseHeaders,
        Phase::ResponseBody,
        Phase::Log,
    ];

    /// The name in metrics labels, span names and logs.
    #[inline]
    pub const fn name(self) -> &'static str {
        match self {
            Phase::RequestHeaders => "request_headers",
            Phase::RequestBody => "request_body",
            Phase::ResponseHeaders => "response_headers",
            Phase::ResponseBody => "response_body",
            Phase::Log => "log",
        }
    }

    /// Position in `ALL`: an index into per-phase arrays.
    #[inline]
    pub const fn index(self) -> usize {
        self as usize
    }

    /// Request phases run in chain order; the others in reverse (onion
    /// order, as in tower and Envoy).
    #[inline]
    pub const fn in_chain_order(self) -> bool {
        matches!(self, Phase::RequestHeaders | Phase::RequestBody)
    }
}

/// A set of phases: those a filter asked for in `init`, or the union over a
/// chain.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct PhaseSet(u8);

impl PhaseSet {
    pub const EMPTY: PhaseSet = PhaseSet(0);
    pub const ALL: PhaseSet = PhaseSet(0b1_1111);

    #[inline]
    pub const fn contains(self, phase: Phase) -> bool {
        self.0 & (1 << phase as u8) != 0
    }

    #[must_use]
    #[inline]
    pub const fn with(self, phase: Phase) -> PhaseSet {
        PhaseSet(self.0 | (1 << phase as u8))
    }

    #[must_use]
    #[inline]
    pub const fn union(self, other: PhaseSet) -> PhaseSet {
        PhaseSet(self.0 | other.0)
    }

    #[inline]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Phase> {
        Phase::ALL.into_iter().filter(move |p| self.contains(*p))
    }

    /// Whether the phases a filter declared all come before the response:
    /// after its last request phase it is not called again.
    pub fn ends_after(self, phase: Phase) -> bool {
        self.iter().all(|p| p.index() <= phase.index())
    }
}

impl FromIterator<Phase> for PhaseSet {
    fn from_iter<I: IntoIterator<Item = Phase>>(iter: I) -> Self {
        iter.into_iter().fold(PhaseSet::EMPTY, PhaseSet::with)
    }
}

impl std::fmt::Debug for PhaseSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter().map(Phase::name)).finish()
    }
}

/// One phase call with what it hands the filter beyond the request and
/// response, which travel in the `Exchange`.
#[derive(Debug, Clone, Copy)]
pub enum PhaseCall<'a> {
    RequestHeaders,
    RequestBody(&'a [u8]),
    ResponseHeaders,
    ResponseBody(&'a [u8]),
    Log(&'a LogInfo),
}

impl PhaseCall<'_> {
    #[inline]
    pub fn phase(&self) -> Phase {
        match self {
            PhaseCall::RequestHeaders => Phase::RequestHeaders,
            PhaseCall::RequestBody(_) => Phase::RequestBody,
            PhaseCall::ResponseHeaders => Phase::ResponseHeaders,
            PhaseCall::ResponseBody(_) => Phase::ResponseBody,
            PhaseCall::Log(_) => Phase::Log,
        }
    }
}

/// A filter's answer to a phase call. Which answers a phase allows is the
/// contract's (`wit/filter.wit`): only body phases replace a body, and the
/// response-body and log phases cannot answer with a response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Continue,
    ReplaceBody(Vec<u8>),
    Respond(FilterResponse),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_set_holds_what_was_put_in() {
        let set: PhaseSet = [Phase::RequestHeaders, Phase::Log].into_iter().collect();
        assert!(set.contains(Phase::RequestHeaders));
        assert!(set.contains(Phase::Log));
        assert!(!set.contains(Phase::RequestBody));
        assert_eq!(
            set.iter().collect::<Vec<_>>(),
            [Phase::RequestHeaders, Phase::Log]
        );
        assert_eq!(PhaseSet::ALL.iter().count(), Phase::ALL.len());
        assert!(PhaseSet::EMPTY.is_empty());
    }

    #[test]
    fn ends_after_its_last_declared_phase() {
        let request_only = PhaseSet::EMPTY.with(Phase::RequestHeaders);
        assert!(request_only.ends_after(Phase::RequestHeaders));
        let with_body = request_only.with(Phase::RequestBody);
        assert!(!with_body.ends_after(Phase::RequestHeaders));
        assert!(with_body.ends_after(Phase::RequestBody));
        assert!(!PhaseSet::ALL.ends_after(Phase::RequestBody));
    }

    #[test]
    fn names_follow_the_order() {
        for (i, phase) in Phase::ALL.into_iter().enumerate() {
            assert_eq!(phase.index(), i);
        }
        assert_eq!(Phase::ResponseBody.name(), "response_body");
    }
}
