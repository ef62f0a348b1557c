//! The Redis backend's plumbing: a pool of lazily connecting, self-healing
//! `ConnectionManager`s whose futures all run on the runtime weir gave us.
//! The commands themselves are in `remote_ops`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::io::tcp::{TcpSettings, socket2::TcpKeepalive};
use redis::{Client, IntoConnectionInfo, RedisError};
use tokio::runtime::Handle;
use tokio::task::JoinHandle;

use crate::KvError;

/// Where and how to reach Redis.
#[derive(Clone)]
pub struct RedisConfig {
    /// `redis://` or `rediss://` (TLS; append `#insecure` to skip verification).
    pub url: String,
    /// `>= 1`: that many multiplexed connections, used round robin (0 counts as 1).
    pub pool_size: u32,
    pub connect_timeout: Duration,
    /// Every call returns within about this, with an error if Redis did not answer.
    pub command_timeout: Duration,
    /// Prepended to every key.
    pub key_prefix: String,
}

impl fmt::Debug for RedisConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisConfig")
            .field("url", &redact(&self.url))
            .field("pool_size", &self.pool_size)
            .field("connect_timeout", &self.connect_timeout)
            .field("command_timeout", &self.command_timeout)
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

/// The URL without its credentials, which must not reach logs.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            format!("{}://***{}", &url[..scheme], &url[at..])
        }
        _ => url.to_owned(),
    }
}

// Reconnect backoff inside a ConnectionManager: while Redis is down each
// connection retries a few times, at most a second apart, then fails; the
// next call starts a new round. Calls wait on a round only up to their timeout.
const RECONNECT_RETRIES: usize = 4;
const RECONNECT_MIN_DELAY: Duration = Duration::from_millis(50);
const RECONNECT_MAX_DELAY: Duration = Duration::from_secs(1);
// A peer that vanished without a FIN/RST gives no error by itself: keepalive
// and TCP_USER_TIMEOUT turn it into one, which makes the manager reconnect.
const KEEPALIVE_IDLE: Duration = Duration::from_secs(15);
const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(5);
const TCP_USER_TIMEOUT: Duration = Duration::from_secs(15);

pub struct RedisStore {
    connections: Vec<ConnectionManager>,
    next: AtomicUsize,
    runtime: Handle,
    command_timeout: Duration,
    pub(crate) key_prefix: String,
}

impl RedisStore {
    /// Connects nothing: each manager connects on its first command.
    pub fn new(config: RedisConfig, runtime: Handle) -> Result<RedisStore, KvError> {
        let invalid = |e: RedisError| KvError::Invalid(format!("invalid redis url: {e}"));
        let tcp = TcpSettings::default()
            .set_nodelay(true)
            .set_keepalive(
                TcpKeepalive::new()
                    .with_time(KEEPALIVE_IDLE)
                    .with_interval(KEEPALIVE_INTERVAL),
            )
            .set_user_timeout(TCP_USER_TIMEOUT);
        let info = config
            .url
            .as_str()
            .into_connection_info()
            .map_err(invalid)?
            .set_tcp_settings(tcp);
        let client = Client::open(info).map_err(invalid)?;
        let manager_config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.connect_timeout))
            .set_response_timeout(Some(config.command_timeout))
            .set_number_of_retries(RECONNECT_RETRIES)
            .set_min_delay(RECONNECT_MIN_DELAY)
            .set_max_delay(RECONNECT_MAX_DELAY);
        // The manager spawns a helper task as it is made: on our runtime.
        let _entered = runtime.enter();
        let connections = (0..config.pool_size.max(1))
            .map(|_| {
                ConnectionManager::new_lazy_with_config(client.clone(), manager_config.clone())
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(invalid)?;
        Ok(RedisStore {
            connections,
            next: AtomicUsize::new(0),
            runtime: runtime.clone(),
            command_timeout: config.command_timeout,
            key_prefix: config.key_prefix,
        })
    }

    pub fn key(&self, key: &str) -> String {
        format!("{}{key}", self.key_prefix)
    }

    /// Runs `command` on the next pooled connection, as a task on our runtime:
    /// redis-rs spawns each connection's driver and its reconnects with
    /// `tokio::spawn`, so whoever polls it decides where they live, and they
    /// must outlive the caller's runtime. Bounded by the command timeout,
    /// which covers waiting for a (re)connection too.
    pub async fn run<T, F, Fut>(&self, command: F) -> Result<T, KvError>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = Result<T, RedisError>> + Send + 'static,
        T: Send + 'static,
    {
        let index = self.next.fetch_add(1, Ordering::Relaxed) % self.connections.len();
        let future = command(self.connections[index].clone());
        let limit = self.command_timeout;
        let task = self
            .runtime
            .spawn(async move { tokio::time::timeout(limit, future).await });
        match AbortOnDrop(task).await {
            Ok(Ok(Ok(value))) => Ok(value),
            Ok(Ok(Err(e))) => Err(classify(&e)),
            Ok(Err(_elapsed)) => Err(KvError::Unavailable(format!(
                "redis did not answer within {limit:?}"
            ))),
            // Cancelled: weir's runtime for stores is shutting down.
            Err(e) => Err(KvError::Unavailable(format!("redis task failed: {e}"))),
        }
    }
}

/// Which of our two errors a Redis error is: wrong for the data (the caller's
/// fault, retrying will not help) or anything else (Redis's fault).
fn classify(e: &RedisError) -> KvError {
    let text = e.to_string();
    let wrong_for_data = e.code() == Some("WRONGTYPE")
        || ["not an integer", "would overflow", "WRONGTYPE"]
            .iter()
            .any(|needle| text.contains(needle));
    if wrong_for_data {
        KvError::Invalid(text)
    } else {
        KvError::Unavailable(text)
    }
}

/// A spawned command stops when its caller stops waiting for it.
struct AbortOnDrop<T>(JoinHandle<T>);

impl<T> Future for AbortOnDrop<T> {
    type Output = Result<T, tokio::task::JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_stay_out_of_debug() {
        assert_eq!(
            redact("redis://user:pw@host:6379/0"),
            "redis://***@host:6379/0"
        );
        assert_eq!(redact("rediss://:pw@h"), "rediss://***@h");
        assert_eq!(redact("redis://host:6379"), "redis://host:6379");
    }

    #[test]
    fn data_errors_are_invalid_and_the_rest_unavailable() {
        let not_int = RedisError::from((
            redis::ErrorKind::Server(redis::ServerErrorKind::ResponseError),
            "An error was signalled by the server",
            "value is not an integer or out of range".to_owned(),
        ));
        assert!(matches!(classify(&not_int), KvError::Invalid(_)));
        let io = RedisError::from(std::io::Error::from(std::io::ErrorKind::ConnectionRefused));
        assert!(matches!(classify(&io), KvError::Unavailable(_)));
    }
}
