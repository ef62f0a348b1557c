//! Harness for weir's end-to-end tests: the real `weir` binary as a child
//! process, real upstream servers on ephemeral loopback ports, real clients.
//!
//! Waiting is always for an observable event (a port accepting, a response
//! arriving), each with a deadline; never a fixed sleep.

pub mod many_routes;
pub mod recording_upstream;
pub mod redis;
pub mod upstream;
pub mod wrk;

use std::io::Read;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use recording_upstream::RecordingUpstream;
pub use redis::RedisServer;
pub use upstream::Upstream;

/// The workspace root (parent of `tests/`).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

/// The `weir` binary of the same build as this test (`target/<profile>/weir`),
/// or `WEIR_BIN`.
pub fn weir_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("WEIR_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().expect("test executable path");
    // target/<profile>/deps/e2e-<hash> -> target/<profile>/weir
    let bin = exe
        .parent()
        .and_then(Path::parent)
        .expect("test executable lives in target/<profile>/deps")
        .join("weir");
    assert!(
        bin.exists(),
        "{} not found: build it first (`cargo build -p weir`, done by the README's test command)",
        bin.display()
    );
    bin
}

/// A listener plus whatever sections follow; `{port}` is filled by the harness.
pub fn config(rest: &str) -> String {
    format!(
        "server:\n  threads: 2\n  grace_period: 5s\nlisteners:\n  - name: main\n    address: 127.0.0.1:{{port}}\n{rest}"
    )
}

/// `GET /admin/config` of the admin listener on `admin_port`.
pub async fn admin_config(admin_port: u16) -> serde_json::Value {
    client()
        .get(format!("http://127.0.0.1:{admin_port}/admin/config"))
        .send()
        .await
        .expect("admin endpoint answers")
        .json()
        .await
        .expect("admin JSON")
}

/// `GET /metrics` of the admin listener on `admin_port`: the Prometheus text.
pub async fn metrics_text(admin_port: u16) -> String {
    client()
        .get(format!("http://127.0.0.1:{admin_port}/metrics"))
        .send()
        .await
        .expect("admin endpoint answers /metrics")
        .text()
        .await
        .expect("metrics text")
}

/// `POST /admin/reload` on the admin listener at `admin_port`: the status
/// (200 applied, 422 refused) and the JSON outcome.
pub async fn admin_reload(admin_port: u16) -> (u16, serde_json::Value) {
    let resp = client()
        .post(format!("http://127.0.0.1:{admin_port}/admin/reload"))
        .send()
        .await
        .expect("admin endpoint answers");
    let status = resp.status().as_u16();
    (status, resp.json().await.expect("admin JSON"))
}

/// Polls the admin endpoint until `ready` holds (bounded).
pub async fn wait_admin(
    admin_port: u16,
    what: &str,
    ready: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let status = admin_config(admin_port).await;
        if ready(&status) {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}; last status {status}"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// A filter component built from `filters/` (`cargo build --release` there).
pub fn filter_wasm(crate_name: &str) -> PathBuf {
    let file = format!("{}.wasm", crate_name.replace('-', "_"));
    let path = workspace_root()
        .join("filters/target/wasm32-wasip2/release")
        .join(file);
    assert!(
        path.exists(),
        "{} not found: build the filters first (`cargo build --release --manifest-path filters/Cargo.toml`, done by the README's test command)",
        path.display()
    );
    path
}

/// A loopback port that was free a moment ago. weir needs its listen address
/// in the config, so the port is chosen here and released for weir to bind.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("binding an ephemeral port")
        .port()
}

/// Polls `ready` until it holds or `timeout` passes.
pub fn wait_until(timeout: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !ready() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::yield_now();
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A running `weir run` with its config in a temporary directory.
pub struct Gateway {
    child: Child,
    dir: tempfile::TempDir,
    pub port: u16,
}

impl Gateway {
    /// Writes `config` (with `{port}` replaced by a free port) and starts weir
    /// on it; returns once the listener accepts connections.
    pub fn start(config: &str) -> Gateway {
        let port = free_port();
        Self::start_on(config.replace("{port}", &port.to_string()), port)
    }

    /// Starts weir with a complete config that listens on `port`.
    pub fn start_on(config: String, port: u16) -> Gateway {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::write(dir.path().join("weir.yaml"), config).expect("writing config");
        Self::spawn(dir, port)
    }

    /// Starts weir on `weir.yaml` in `dir`, which the caller prepared
    /// (e.g. with certificates beside it).
    pub fn spawn(dir: tempfile::TempDir, port: u16) -> Gateway {
        Self::spawn_with_env(dir, port, &[])
    }

    /// Like [`Gateway::spawn`], with extra environment variables for weir.
    pub fn spawn_with_env(dir: tempfile::TempDir, port: u16, env: &[(&str, &str)]) -> Gateway {
        let log = std::fs::File::create(dir.path().join("weir.log")).expect("log file");
        let child = Command::new(weir_bin())
            .envs(env.iter().copied())
            .args(["run", "--config"])
            .arg(dir.path().join("weir.yaml"))
            .env(
                "RUST_LOG",
                std::env::var("WEIR_TEST_LOG").unwrap_or_else(|_| "info".into()),
            )
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("starting weir");
        let mut gateway = Gateway { child, dir, port };
        gateway.wait_ready();
        gateway
    }

    fn wait_ready(&mut self) {
        let addr: SocketAddr = ([127, 0, 0, 1], self.port).into();
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = self.child.try_wait().expect("polling weir") {
                panic!(
                    "weir exited with {status} before listening:\n{}",
                    self.logs()
                );
            }
            // Listening, and the reloader watches files and SIGHUP: tests may
            // change the config from here on.
            if TcpStream::connect_timeout(&addr, Duration::from_millis(100)).is_ok()
                && self.logs().contains("config reloader ready")
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "weir did not listen on {addr}:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// Replaces `weir.yaml` the way editors and deploy tools do: write a
    /// temporary file beside it, then rename it over the old one, so weir
    /// never reads a half-written file.
    pub fn replace_config(&self, config: &str) {
        replace_file(&self.dir.path().join("weir.yaml"), config.as_bytes());
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Everything weir logged so far.
    pub fn logs(&self) -> String {
        let mut text = String::new();
        if let Ok(mut f) = std::fs::File::open(self.dir.path().join("weir.log")) {
            let _ = f.read_to_string(&mut text);
        }
        text
    }

    /// Resident set size of the weir process, in KiB.
    pub fn rss_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid()))
            .expect("reading /proc status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS in /proc status")
    }

    /// Sends SIGTERM (graceful shutdown).
    pub fn terminate(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("running kill");
        assert!(status.success());
    }

    /// Waits for the process to exit and returns whether it exited cleanly.
    pub fn wait_exit(&mut self, timeout: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("polling weir") {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "weir did not exit:\n{}",
                self.logs()
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().expect("polling weir").is_none()
    }
}

impl Drop for Gateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if std::thread::panicking() {
            eprintln!("--- weir log ---\n{}", self.logs());
        }
    }
}

/// Writes `bytes` to a temporary file in the same directory, then renames it
/// over `path` (an atomic replace).
pub fn replace_file(path: &Path, bytes: &[u8]) {
    let tmp = path.with_extension("tmp-write");
    std::fs::write(&tmp, bytes).expect("writing the temporary file");
    std::fs::rename(&tmp, path).expect("renaming over the old file");
}

/// A reqwest client that does not reuse connections between tests' phases
/// unless asked, with a bounded timeout.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .expect("http client")
}

/// Runs `weir check` on a config text; returns (exit success, stdout).
pub fn weir_check(config_path: &Path, json: bool) -> (bool, String) {
    let mut cmd = Command::new(weir_bin());
    cmd.args(["check", "--config"]).arg(config_path);
    if json {
        cmd.args(["--format", "json"]);
    }
    let out = cmd.output().expect("running weir check");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}
