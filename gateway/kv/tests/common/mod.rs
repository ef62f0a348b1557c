//! A real `redis-server` per test, on an ephemeral loopback port, and the
//! runtime that owns the stores' connections.
#![allow(dead_code)] // Each test binary uses a different part.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::LazyLock;
use std::time::{Duration, Instant};

use tokio::runtime::{Handle, Runtime};
use weir_kv::{RedisConfig, Store};

/// Plays weir's dedicated store runtime; never dropped, so tests may end
/// inside any runtime.
static STORE_RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("kv-test-store")
        .enable_all()
        .build()
        .expect("store runtime")
});

pub fn store_runtime() -> Handle {
    STORE_RUNTIME.handle().clone()
}

pub const COMMAND_TIMEOUT: Duration = Duration::from_millis(300);
/// Slack on top of the command timeout for a loaded 2-core CI machine.
pub const MARGIN: Duration = Duration::from_millis(700);

pub fn redis_store(url: &str, prefix: &str) -> Store {
    Store::redis(
        RedisConfig {
            url: url.to_owned(),
            pool_size: 2,
            connect_timeout: Duration::from_millis(250),
            command_timeout: COMMAND_TIMEOUT,
            key_prefix: prefix.to_owned(),
        },
        store_runtime(),
    )
    .expect("a valid url")
}

/// A loopback port nothing listens on (at the time of asking).
pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind an ephemeral port");
    listener.local_addr().expect("local addr").port()
}

/// Calls `attempt` every 10 ms until it returns true or `limit` passes.
pub fn poll_until(limit: Duration, mut attempt: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    loop {
        if attempt() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Awaits `attempt` every 10 ms until it returns true or `limit` passes.
pub async fn eventually<F, Fut>(limit: Duration, mut attempt: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + limit;
    loop {
        if attempt().await {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// TLS files for a server: a throwaway self-signed certificate.
pub struct TlsFiles {
    dir: PathBuf,
}

impl TlsFiles {
    pub fn generate() -> TlsFiles {
        let dir = std::env::temp_dir().join(format!(
            "weir-kv-tls-{}-{}",
            std::process::id(),
            free_port()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let status = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=localhost", "-keyout"])
            .arg(dir.join("key.pem"))
            .arg("-out")
            .arg(dir.join("cert.pem"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl (the CLI) must be installed");
        assert!(status.success(), "openssl req failed");
        TlsFiles { dir }
    }
}

impl Drop for TlsFiles {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A `redis-server` child process, killed on drop.
pub struct RedisServer {
    pub port: u16,
    tls: Option<TlsFiles>,
    child: Option<Child>,
}

impl RedisServer {
    pub fn start() -> RedisServer {
        RedisServer::start_with(None)
    }

    /// The port speaks TLS only.
    pub fn start_tls() -> RedisServer {
        RedisServer::start_with(Some(TlsFiles::generate()))
    }

    fn start_with(tls: Option<TlsFiles>) -> RedisServer {
        let mut server = RedisServer {
            port: free_port(),
            tls,
            child: None,
        };
        server.restart();
        server
    }

    pub fn url(&self) -> String {
        match self.tls {
            // Self-signed: skip verification, which is not what is tested.
            Some(_) => format!("rediss://127.0.0.1:{}/#insecure", self.port),
            None => format!("redis://127.0.0.1:{}", self.port),
        }
    }

    /// A raw connection, to look behind the store (TTLs, prefixes).
    pub fn raw(&self) -> redis::Connection {
        redis::Client::open(self.url())
            .and_then(|c| c.get_connection_with_timeout(Duration::from_secs(5)))
            .expect("raw connection")
    }

    /// (Re)starts on the same port and waits until it answers.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let port = self.port.to_string();
        let mut cmd = Command::new("redis-server");
        cmd.args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
        match &self.tls {
            None => cmd.args(["--port", &port]),
            Some(tls) => cmd
                .args([
                    "--port",
                    "0",
                    "--tls-port",
                    &port,
                    "--tls-auth-clients",
                    "no",
                ])
                .arg("--tls-cert-file")
                .arg(tls.dir.join("cert.pem"))
                .arg("--tls-key-file")
                .arg(tls.dir.join("key.pem")),
        };
        let child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server must be installed (scripts/setup.sh does it)");
        self.child = Some(child);
        let up = poll_until(Duration::from_secs(10), || {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("redis-server on port {port} exited: {status}");
            }
            self.tls.is_some() && self.listening() || self.answers_ping()
        });
        assert!(up, "redis-server on port {port} did not come up within 10s");
    }

    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    fn listening(&self) -> bool {
        TcpStream::connect_timeout(&self.addr(), Duration::from_millis(200)).is_ok()
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect_timeout(&self.addr(), Duration::from_millis(200))
        else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_millis(500)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}
