//! Zero-downtime restart: `weir run --upgrade --pid-file` takes the listening
//! sockets over from the running weir (Pingora's graceful upgrade) while a
//! client keeps requesting; a config that fails the checks never starts the
//! handoff.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;
use weir_tests::{Gateway, Upstream, free_port, weir_bin};

use crate::tls::TestPki;

/// A free port whose successor is free too (the TLS listener's).
fn free_port_pair() -> u16 {
    for _ in 0..100 {
        let port = free_port();
        if port < u16::MAX && std::net::TcpListener::bind(("127.0.0.1", port + 1)).is_ok() {
            return port;
        }
    }
    panic!("no two adjacent free ports");
}

/// A weir started by the test beside the harness's; killed when dropped.
struct Upgraded(Child);

impl Drop for Upgraded {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A plain listener on `port` and a TLS one (h2 by ALPN) on `port + 1`
/// serving `site.pem` for `site.test`.
fn upgrade_config(dir: &Path, port: u16, admin: u16, upstream: &Upstream, v2: bool) -> String {
    // v2 changes what only a restart can: the thread count, and h2c on the
    // plain listener.
    let (threads, http2) = if v2 { (2, "true") } else { (1, "false") };
    format!(
        "server:\n  threads: {threads}\n  grace_period: 1s\n  upgrade_socket: {}\n\
         listeners:\n  - name: main\n    address: 127.0.0.1:{port}\n    http2: {http2}\n\
         \x20 - name: tls\n    address: 127.0.0.1:{tls_port}\n    tls:\n      certificates:\n        - {{ cert: site.pem, key: site.key, server_names: [site.test] }}\n\
         upstreams:\n  svc:\n    targets: [{{ address: {} }}]\n\
         routes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: svc\n\
         admin:\n  address: 127.0.0.1:{admin}\n",
        dir.join("upgrade.sock").display(),
        upstream.address(),
        tls_port = port + 1,
    )
}

fn start_upgrade(dir: &Path, config: &str, log: &str) -> Upgraded {
    let log = std::fs::File::create(dir.join(log)).unwrap();
    let child = Command::new(weir_bin())
        .args(["run", "--upgrade", "--pid-file"])
        .arg(dir.join("weir.pid"))
        .arg("--config")
        .arg(dir.join(config))
        .env("RUST_LOG", "info")
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .expect("starting the new weir");
    Upgraded(child)
}

async fn admin_pid(admin: u16) -> Option<u64> {
    let resp = reqwest::Client::new()
        .get(format!("http://127.0.0.1:{admin}/admin/config"))
        .timeout(Duration::from_secs(5))
        .send()
        .await
        .ok()?;
    resp.json::<Value>().await.ok()?["pid"].as_u64()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_upgrade_under_load_fails_no_request_and_a_bad_config_never_hands_over() {
    let upstream = Upstream::start("a").await;
    let (port, admin) = (free_port_pair(), free_port());
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().to_path_buf();
    let pki = TestPki::new();
    pki.leaf(&path, "site", &["site.test"]);
    let tls_url = format!("https://site.test:{}/", port + 1);
    std::fs::write(
        path.join("weir.yaml"),
        upgrade_config(&path, port, admin, &upstream, false),
    )
    .unwrap();
    let mut old = Gateway::spawn(dir, port);
    std::fs::write(path.join("weir.pid"), old.pid().to_string()).unwrap();
    let url = format!("http://127.0.0.1:{port}/");

    // A config that fails `weir check` exits before signalling the old one.
    std::fs::write(path.join("broken.yaml"), "listeners: []\n").unwrap();
    let mut broken = start_upgrade(&path, "broken.yaml", "broken.log");
    let status = broken.0.wait().unwrap();
    assert!(!status.success(), "a broken config must not start");
    assert!(old.is_running(), "the old weir was not told to hand over");
    assert_eq!(admin_pid(admin).await, Some(old.pid() as u64));

    // h2c is off before the upgrade.
    let h2c = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap();
    assert!(h2c.get(&url).send().await.is_err(), "h2c is off in v1");

    // Clients keep requesting across the handoff: bounded in count and time.
    let stop = Arc::new(AtomicBool::new(false));
    let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let mut loops = Vec::new();
    // One keep-alive HTTP/1.1 client on the plain listener, one HTTP/2
    // client (ALPN) on the TLS listener.
    let clients = [
        (weir_tests::client(), url.clone(), reqwest::Version::HTTP_11),
        (
            reqwest::Client::builder()
                .add_root_certificate(
                    reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap(),
                )
                .resolve("site.test", ([127, 0, 0, 1], port + 1).into())
                .timeout(Duration::from_secs(30))
                .build()
                .unwrap(),
            tls_url.clone(),
            reqwest::Version::HTTP_2,
        ),
    ];
    for (client, url, version) in clients {
        let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
        loops.push(tokio::spawn(async move {
            let deadline = Instant::now() + Duration::from_secs(90);
            let (mut errors, mut served) = (Vec::new(), 0u64);
            for _ in 0..200_000 {
                if stop.load(Ordering::Relaxed) || Instant::now() > deadline {
                    break;
                }
                match client.get(&url).send().await {
                    Ok(resp) if resp.status() == 200 && resp.version() == version => {
                        ok.fetch_add(1, Ordering::Relaxed);
                        served += 1;
                    }
                    Ok(resp) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        errors.push(format!("{url}: {} {:?}", resp.status(), resp.version()));
                    }
                    Err(e) => {
                        failed.fetch_add(1, Ordering::Relaxed);
                        errors.push(format!("{url}: {e:?}"));
                    }
                }
            }
            (url, served, errors)
        }));
    }
    weir_tests::wait_until(
        Duration::from_secs(20),
        "requests before the upgrade",
        || ok.load(Ordering::Relaxed) >= 50,
    );

    std::fs::write(
        path.join("v2.yaml"),
        upgrade_config(&path, port, admin, &upstream, true),
    )
    .unwrap();
    let started = Instant::now();
    let mut new = start_upgrade(&path, "v2.yaml", "new.log");
    let status = old.wait_exit(Duration::from_secs(60));
    let handoff = started.elapsed();
    assert!(status.success(), "the old weir drains and exits: {status}");
    assert!(
        new.0.try_wait().unwrap().is_none(),
        "the new weir runs:\n{}",
        std::fs::read_to_string(path.join("new.log")).unwrap_or_default()
    );
    let new_pid = new.0.id() as u64;
    assert_eq!(admin_pid(admin).await, Some(new_pid));
    let pid_file = std::fs::read_to_string(path.join("weir.pid")).unwrap();
    assert_eq!(pid_file.trim(), new_pid.to_string());

    // Requests after the old process left, then stop the clients.
    let after = ok.load(Ordering::Relaxed) + 50;
    weir_tests::wait_until(
        Duration::from_secs(20),
        "requests after the upgrade",
        || ok.load(Ordering::Relaxed) >= after,
    );
    stop.store(true, Ordering::Relaxed);
    let mut errors = Vec::new();
    for l in loops {
        let (url, served, failures) = l.await.unwrap();
        assert!(served > 0, "{url} was served");
        errors.extend(failures);
    }
    let (ok, failed) = (ok.load(Ordering::Relaxed), failed.load(Ordering::Relaxed));
    eprintln!("upgrade: {ok} requests ok, {failed} failed, old process gone after {handoff:?}");
    assert_eq!(failed, 0, "failed requests: {errors:?}");

    // The changed listener setting is in force: h2c now answers.
    let resp = h2c.get(&url).send().await.expect("h2c after the upgrade");
    assert_eq!(resp.version(), reqwest::Version::HTTP_2);
}
