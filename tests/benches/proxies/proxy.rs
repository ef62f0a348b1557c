//! The proxies under test as processes on CPU 0: bare Pingora, nginx,
//! HAProxy and `wasmtime serve` started here from generated configs, weir
//! through the test harness. Each is ready once its port accepts connections; each is
//! stopped when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;
use weir_tests::wrk::{cpu_time, pin};
use weir_tests::{Gateway, Upstream, free_port, weir_bin};

use crate::{haproxy, nginx};

/// Which proxy a row measures; the table's ratios compare to Pingora and nginx.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Pingora,
    Nginx,
    Haproxy,
    Weir,
    /// `wasmtime serve` answering with a `wasi:http` component (W7).
    Wasmtime,
}

enum Process {
    /// A process started here (with its files), pinned from its start.
    Child {
        child: Child,
        dir: TempDir,
    },
    Weir(Gateway),
}

pub struct Proxy {
    pub kind: Kind,
    pub port: u16,
    process: Process,
}

/// Starts `program args` on CPU 0, logging into `dir/stderr.log`.
fn spawn_pinned(program: &Path, args: &[&str], dir: &TempDir) -> Child {
    let log = std::fs::File::create(dir.path().join("stderr.log")).expect("log file");
    Command::new("taskset")
        .args(["-c", "0"])
        .arg(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(log.try_clone().expect("log file"))
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| panic!("starting {}: {e}", program.display()))
}

impl Proxy {
    /// `pingora-bare` of the same build as weir (`target/debug/`, built by
    /// `bench/run.sh`) in front of `up`.
    pub async fn pingora(up: &Upstream) -> Proxy {
        let bin = weir_bin().with_file_name("pingora-bare");
        assert!(
            bin.exists(),
            "{} not found: `cargo build -p pingora-bare` (bench/run.sh does)",
            bin.display()
        );
        let (dir, port) = (tempfile::tempdir().unwrap(), free_port());
        let (listen, upstream) = (format!("127.0.0.1:{port}"), up.address());
        let mut args = vec![listen.as_str(), upstream.as_str()];
        if !crate::work_stealing() {
            args.push("--no-work-stealing");
        }
        let child = spawn_pinned(&bin, &args, &dir);
        Self::child(Kind::Pingora, port, child, dir).await
    }

    /// nginx, one worker, with `nginx.conf` from [`nginx::config`] (and any
    /// `files` beside it, e.g. an njs module).
    pub async fn nginx(conf: impl Fn(&Path, u16) -> String, files: &[(&str, String)]) -> Proxy {
        let (dir, port) = (tempfile::tempdir().unwrap(), free_port());
        for (name, text) in files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let conf_path = dir.path().join("nginx.conf");
        std::fs::write(&conf_path, conf(dir.path(), port)).unwrap();
        let (prefix, error_log) = (dir.path().display(), dir.path().join("error.log"));
        let child = spawn_pinned(
            &nginx::binary(),
            &[
                "-p",
                &prefix.to_string(),
                "-e",
                &error_log.display().to_string(),
                "-c",
                &conf_path.display().to_string(),
                "-g",
                "daemon off;",
            ],
            &dir,
        );
        Self::child(Kind::Nginx, port, child, dir).await
    }

    /// HAProxy, one thread, with `haproxy.cfg` from `conf`.
    pub async fn haproxy(conf: impl Fn(u16) -> String) -> Proxy {
        let (dir, port) = (tempfile::tempdir().unwrap(), free_port());
        let conf_path = dir.path().join("haproxy.cfg");
        std::fs::write(&conf_path, conf(port)).unwrap();
        let child = spawn_pinned(
            &haproxy::binary(),
            &["-db", "-f", &conf_path.display().to_string()],
            &dir,
        );
        Self::child(Kind::Haproxy, port, child, dir).await
    }

    /// `wasmtime serve` (the binary `bin`, see bench/wasmtime.sh) answering
    /// every request with `component`. Pinned from its start, so its tokio
    /// runtime sizes itself to the one CPU it may use (one worker thread).
    /// `-S cli`: without it serve links wasi:http alone, and a component
    /// built with a language's standard library imports
    /// `wasi:cli/environment` (as weir provides it to handlers).
    pub async fn wasmtime_serve(bin: &Path, component: &str) -> Proxy {
        let (dir, port) = (tempfile::tempdir().unwrap(), free_port());
        let addr = format!("127.0.0.1:{port}");
        let child = spawn_pinned(
            bin,
            &["serve", "-S", "cli", "--addr", &addr, component],
            &dir,
        );
        Self::child(Kind::Wasmtime, port, child, dir).await
    }

    /// weir (`target/debug/weir`) on `config`, which listens on `port`; `env`
    /// for its secrets. Pinned once it is up (its threads all exist by then,
    /// and any it starts later inherit the pinning).
    pub fn weir(config: String, port: u16, env: &[(&str, &str)]) -> Proxy {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("weir.yaml"), config).unwrap();
        check_weir(&dir.path().join("weir.yaml"), env);
        let gw = Gateway::spawn_with_env(dir, port, env);
        pin(gw.pid(), 0);
        Proxy {
            kind: Kind::Weir,
            port,
            process: Process::Weir(gw),
        }
    }

    async fn child(kind: Kind, port: u16, child: Child, dir: TempDir) -> Proxy {
        let mut proxy = Proxy {
            kind,
            port,
            process: Process::Child { child, dir },
        };
        proxy.wait_listening().await;
        proxy
    }

    /// Polls until the port accepts connections (bounded); a process that
    /// exits first fails with its log. `wasmtime serve` compiles its
    /// component before it listens: a JavaScript or Python one takes long
    /// on a busy machine, as for `weir check` below.
    async fn wait_listening(&mut self) {
        let within = if self.kind == Kind::Wasmtime { 600 } else { 30 };
        let deadline = Instant::now() + Duration::from_secs(within);
        loop {
            if let Process::Child { child, .. } = &mut self.process
                && let Some(status) = child.try_wait().expect("polling the proxy")
            {
                panic!("{:?} exited with {status}:\n{}", self.kind, self.logs());
            }
            if tokio::net::TcpStream::connect(("127.0.0.1", self.port))
                .await
                .is_ok()
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "{:?} did not listen on {}:\n{}",
                self.kind,
                self.port,
                self.logs()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        match &self.process {
            Process::Child { child, .. } => child.id(),
            Process::Weir(gw) => gw.pid(),
        }
    }

    /// The weir under test, for its admin endpoint and config file.
    pub fn gateway(&self) -> &Gateway {
        match &self.process {
            Process::Weir(gw) => gw,
            Process::Child { .. } => panic!("{:?} is not weir", self.kind),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// CPU time (user + system) of the proxy and its child processes (nginx's
    /// worker) so far.
    pub fn cpu_time(&self) -> Duration {
        process_tree(self.pid()).into_iter().map(cpu_time).sum()
    }

    /// User and system CPU time, apart, of the proxy and its child
    /// processes so far (`/proc/PID/stat`, clock ticks of 10 ms).
    pub fn cpu_user_system(&self) -> (Duration, Duration) {
        let (mut user, mut system) = (Duration::ZERO, Duration::ZERO);
        for pid in process_tree(self.pid()) {
            let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
                continue;
            };
            // Fields after the command name, which is in parentheses.
            let rest = &stat[stat.rfind(')').expect("a command name") + 2..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let ticks = |i: usize| Duration::from_millis(fields[i].parse::<u64>().unwrap() * 10);
            user += ticks(11);
            system += ticks(12);
        }
        (user, system)
    }

    fn dir(&self) -> PathBuf {
        match &self.process {
            Process::Child { dir, .. } => dir.path().to_path_buf(),
            Process::Weir(gw) => gw.dir().to_path_buf(),
        }
    }

    /// The last lines of its logs, when some of its requests failed.
    pub fn print_log_tail(&self, setup: &str) {
        let logs = self.logs();
        let lines: Vec<&str> = logs.lines().collect();
        println!(
            "{setup}: requests failed; the end of its log:\n{}",
            lines[lines.len().saturating_sub(20)..].join("\n")
        );
    }

    /// Its log files, for failures.
    pub fn logs(&self) -> String {
        ["stderr.log", "error.log", "weir.log"]
            .iter()
            .filter_map(|name| std::fs::read_to_string(self.dir().join(name)).ok())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// `weir check` on the config: it compiles the filters into the config's
/// `cache_dir`, where weir then finds them. A JavaScript or Python component
/// takes longer to compile on a busy machine than weir's start is given.
fn check_weir(config: &Path, env: &[(&str, &str)]) {
    let mut child = Command::new(weir_bin())
        .args(["check", "--config"])
        .arg(config)
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .spawn()
        .expect("running weir check");
    let deadline = Instant::now() + Duration::from_secs(600);
    while child.try_wait().expect("polling weir check").is_none() {
        assert!(Instant::now() < deadline, "weir check took over 10 minutes");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().expect("weir check's report");
    assert!(
        out.status.success(),
        "weir check refused the config:\n{}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// The command name of `pid`, or empty once it is gone.
fn command_name(pid: u32) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/comm")).unwrap_or_default()
}

/// `pid` and its descendants (`/proc/PID/task/TID/children`).
fn process_tree(pid: u32) -> Vec<u32> {
    let mut tree = vec![pid];
    let mut next = 0;
    while next < tree.len() && tree.len() < 64 {
        let pid = tree[next];
        next += 1;
        let tasks = std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten();
        for task in tasks.flatten() {
            let children =
                std::fs::read_to_string(task.path().join("children")).unwrap_or_default();
            tree.extend(
                children
                    .split_whitespace()
                    .filter_map(|c| c.parse::<u32>().ok()),
            );
        }
    }
    tree
}

impl Drop for Proxy {
    fn drop(&mut self) {
        let Process::Child { child, .. } = &mut self.process else {
            return; // the Gateway stops weir
        };
        // SIGTERM lets nginx's master stop its worker; then make sure, but
        // only of processes that are still the ones started here.
        let tree: Vec<(u32, String)> = process_tree(child.id())
            .into_iter()
            .map(|pid| (pid, command_name(pid)))
            .collect();
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .stderr(Stdio::null())
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while child.try_wait().ok().flatten().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = child.kill();
        let _ = child.wait();
        for (pid, name) in tree.iter().skip(1) {
            if command_name(*pid) == *name {
                let _ = Command::new("kill")
                    .args(["-KILL", &pid.to_string()])
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}
