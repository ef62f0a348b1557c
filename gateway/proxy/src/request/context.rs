//! What weir keeps about one request from its first byte to its log line.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use weir_config::Listener;

use super::local_response::LocalResponse;
use crate::chain::ChainRun;
use crate::lifecycle::RequestGuard;
use crate::observe::trace_context::TraceContext;
use crate::snapshot::{Action, RouteEntry, Snapshot};
use crate::upstream::{InFlight, Pool};

/// Per-request state.
pub struct RequestCtx {
    /// The generation the request sees from start to end.
    pub(super) snapshot: Arc<Snapshot>,
    /// The listener's position in the snapshot's config, found once; None
    /// when a reload removed it.
    listener: Option<usize>,
    pub(super) started: Instant,
    pub(super) request_id: String,
    pub(super) route: Option<usize>,
    /// The TCP peer.
    pub(super) peer_ip: Option<IpAddr>,
    /// The client: the peer, or behind trusted proxies the address they name.
    pub(super) client_ip: Option<IpAddr>,
    /// Target indexes already tried, so a retry goes elsewhere.
    pub(super) tried: Vec<usize>,
    pub(super) in_flight: Option<InFlight>,
    pub(super) chain: Option<ChainRun>,
    /// A response to send from `fail_to_proxy`: what a hook that cannot
    /// write a response decided (local.rs).
    pub(super) pending: Option<LocalResponse>,
    /// Set when a filter in the chain reads the request body.
    pub(super) request_body: Option<Vec<u8>>,
    pub(super) request_body_bytes: u64,
    pub(super) response_body: ResponseBody,
    pub(super) response_body_bytes: u64,
    pub(super) status: u16,
    pub(super) error: Option<String>,
    /// W3C trace context, set first thing in `request_filter`.
    pub(super) trace: Option<TraceContext>,
    /// When the last upstream target was chosen, and how long until its
    /// response header arrived (the access log's `upstream_ms`).
    pub(super) upstream_started: Option<Instant>,
    pub(super) upstream_time: Option<Duration>,
    /// Counts the request as in flight until it is dropped.
    _in_flight: RequestGuard,
}

/// What happens to the response body on its way to the client.
#[derive(Debug, Default)]
pub(super) enum ResponseBody {
    /// Streams through as the upstream sends it.
    #[default]
    Stream,
    /// A response-body filter reads it: buffered up to the filters' cap.
    Buffer(Vec<u8>),
    /// It went over the filters' cap: the rest streams through unfiltered.
    Passthrough,
    /// A response-headers filter answered: its body replaces the upstream's.
    Replaced(Bytes),
}

impl RequestCtx {
    pub(super) fn new(snapshot: Arc<Snapshot>, listener: &str) -> Self {
        let listener = snapshot
            .config
            .listeners
            .iter()
            .position(|l| l.name == listener);
        RequestCtx {
            snapshot,
            listener,
            started: Instant::now(),
            request_id: String::new(),
            route: None,
            peer_ip: None,
            client_ip: None,
            tried: Vec::new(),
            in_flight: None,
            chain: None,
            pending: None,
            request_body: None,
            request_body_bytes: 0,
            response_body: ResponseBody::Stream,
            response_body_bytes: 0,
            status: 0,
            error: None,
            trace: None,
            upstream_started: None,
            upstream_time: None,
            _in_flight: RequestGuard::new(),
        }
    }

    /// The listener the request came in on, as the request's generation
    /// defines it.
    pub(super) fn listener(&self) -> Option<&Listener> {
        self.listener_in(&self.snapshot)
    }

    /// The same, from `snapshot` (the request's own, cloned), so the
    /// context can change while the listener is borrowed.
    pub(super) fn listener_in<'s>(&self, snapshot: &'s Snapshot) -> Option<&'s Listener> {
        self.listener.map(|i| &snapshot.config.listeners[i])
    }

    pub(super) fn route(&self) -> Option<&RouteEntry> {
        self.route.map(|i| &self.snapshot.routes[i])
    }

    pub(super) fn pool(&self) -> Option<&Arc<Pool>> {
        match &self.route()?.action {
            Action::Proxy { pool, .. } => Some(pool),
            Action::Respond(_) | Action::Handler { .. } => None,
        }
    }

    /// What answered: the address of the target the last attempt went to,
    /// or the route's handler by name.
    pub(super) fn upstream_target(&self) -> Option<&str> {
        if let Some(Action::Handler { handler, .. }) = self.route().map(|r| &r.action) {
            return Some(handler.name());
        }
        self.tried
            .last()
            .zip(self.pool())
            .map(|(i, pool)| pool.targets[*i].address.as_str())
    }
}
