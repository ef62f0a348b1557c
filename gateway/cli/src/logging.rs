//! Structured logs through `tracing`: level from `--log-level`, else RUST_LOG,
//! else `info`.

use std::fmt;
use std::io::IsTerminal;

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_log::NormalizeEvent;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use crate::LogFormat;

pub fn init(level: Option<&str>, format: LogFormat) -> anyhow::Result<()> {
    let filter = match level {
        Some(level) => EnvFilter::try_new(level)?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    // Colours only for a person at a terminal, never into files or pipes.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.finish().with(ClientGone).try_init()?,
        LogFormat::Json => builder.json().finish().with(ClientGone).try_init()?,
    }
    Ok(())
}

/// Pingora logs a client that leaves before its request header is complete
/// at ERROR, before any hook of weir's runs (later failures go through
/// `suppress_error_log`, see weir-proxy's `client_gone`). That is the
/// client's doing, not the gateway's: such events are dropped.
struct ClientGone;

impl<S: Subscriber> Layer<S> for ClientGone {
    fn event_enabled(&self, event: &Event<'_>, _: Context<'_, S>) -> bool {
        // Pingora logs through the `log` crate: its events carry their
        // real target only in the normalized metadata.
        let normalized = event.normalized_metadata();
        let meta = normalized.as_ref().unwrap_or_else(|| event.metadata());
        if *meta.level() != Level::ERROR || !meta.target().starts_with("pingora_proxy") {
            return true;
        }
        let mut message = Message(String::new());
        event.record(&mut message);
        !is_client_gone(&message.0)
    }
}

fn is_client_gone(message: &str) -> bool {
    message.starts_with("Fail to proxy: Downstream")
        && ["ConnectionClosed", "ReadError", "ReadTimedout"]
            .iter()
            .any(|kind| message.contains(kind))
}

struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if field.name() == "message" {
            self.0 = format!("{value:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::is_client_gone;

    #[test]
    fn only_a_downstream_going_away_is_dropped() {
        assert!(is_client_gone(
            "Fail to proxy: Downstream ConnectionClosed context: while reading request headers, bytes already read: 18, downstream session type: h1"
        ));
        assert!(!is_client_gone(
            "Fail to proxy: Upstream ConnectionClosed context: while reading response headers"
        ));
        assert!(!is_client_gone(
            "failed to send error response to downstream: x"
        ));
    }
}
