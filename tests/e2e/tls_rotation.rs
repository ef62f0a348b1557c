//! Certificates reload live: a rotation (Kubernetes `..data` symlink swap)
//! reaches the next handshake while an established connection keeps its
//! certificate; a broken replacement is refused and the old one kept; a
//! server name added to the config is selected by SNI.

use std::path::Path;
use std::time::Duration;

use weir_tests::{Gateway, Upstream, admin_config, free_port, wait_admin};

use crate::tls::{Leaf, TestPki};

/// A TLS site in `dir` whose certificate files are symlinks into `..data`,
/// as Kubernetes mounts a Secret: `site.pem -> ..data/site.pem`.
struct RotatingSite {
    dir: std::path::PathBuf,
    version: u32,
}

impl RotatingSite {
    fn new(dir: &Path, leaf: &Leaf) -> Self {
        let mut site = RotatingSite {
            dir: dir.to_path_buf(),
            version: 0,
        };
        for name in ["site.pem", "site.key"] {
            std::os::unix::fs::symlink(format!("..data/{name}"), dir.join(name)).unwrap();
        }
        site.rotate(&leaf.cert_pem, &leaf.key_pem);
        site
    }

    /// Writes a new version directory and swaps the `..data` symlink to it
    /// in one rename, the way the kubelet updates a mounted Secret.
    fn rotate(&mut self, cert_pem: &str, key_pem: &str) {
        self.version += 1;
        let version = format!("..v{}", self.version);
        std::fs::create_dir(self.dir.join(&version)).unwrap();
        std::fs::write(self.dir.join(&version).join("site.pem"), cert_pem).unwrap();
        std::fs::write(self.dir.join(&version).join("site.key"), key_pem).unwrap();
        let tmp = self.dir.join("..data_tmp");
        std::os::unix::fs::symlink(&version, &tmp).unwrap();
        std::fs::rename(&tmp, self.dir.join("..data")).unwrap();
    }
}

/// A config with one TLS listener serving `site.pem` for `site.test`, a
/// proxy route to `upstream` and an admin endpoint.
fn site_config(port: u16, admin: u16, upstream: &Upstream, extra_certs: &str) -> String {
    format!(
        "listeners:\n  - name: tls\n    address: 127.0.0.1:{port}\n    tls:\n      certificates:\n        - {{ cert: site.pem, key: site.key, server_names: [site.test] }}\n{extra_certs}\
         upstreams:\n  svc:\n    targets: [{{ address: {} }}]\n\
         routes:\n  - match: {{ path: {{ prefix: / }} }}\n    upstream: svc\n\
         admin:\n  address: 127.0.0.1:{admin}\n",
        upstream.address()
    )
}

/// A client with its own connections that reports the served certificate.
fn inspecting_client(pki: &TestPki, port: u16, names: &[&str]) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap();
    let mut builder = reqwest::Client::builder()
        .add_root_certificate(ca)
        .tls_info(true)
        .timeout(Duration::from_secs(30));
    for name in names {
        builder = builder.resolve(name, ([127, 0, 0, 1], port).into());
    }
    builder.build().unwrap()
}

/// The leaf certificate (DER) a new connection to `host` is served.
/// weir serving `site.test` with `leaf` (rotatable) in front of `upstream`:
/// the gateway, the rotation handle, the listener and admin ports.
fn start_site(leaf: &Leaf, upstream: &Upstream) -> (Gateway, RotatingSite, u16, u16) {
    let dir = tempfile::tempdir().unwrap();
    let site = RotatingSite::new(dir.path(), leaf);
    let (port, admin) = (free_port(), free_port());
    std::fs::write(
        dir.path().join("weir.yaml"),
        site_config(port, admin, upstream, ""),
    )
    .unwrap();
    (Gateway::spawn(dir, port), site, port, admin)
}

async fn served_certificate(pki: &TestPki, port: u16, host: &str) -> Vec<u8> {
    let resp = inspecting_client(pki, port, &[host])
        .get(format!("https://{host}:{port}/"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{host}: {e:?}"));
    assert_eq!(resp.status(), 200);
    peer_certificate(&resp)
}

fn peer_certificate(resp: &reqwest::Response) -> Vec<u8> {
    resp.extensions()
        .get::<reqwest::tls::TlsInfo>()
        .and_then(|info| info.peer_certificate())
        .expect("TLS info with the peer certificate")
        .to_vec()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rotated_certificate_is_served_to_the_next_handshake_while_a_long_request_completes() {
    let pki = TestPki::new();
    let upstream = Upstream::start("a").await;
    let first = pki.issue(&["site.test"]);
    let (_gw, mut site, port, admin) = start_site(&first, &upstream);
    assert_eq!(served_certificate(&pki, port, "site.test").await, first.der);
    let before = admin_config(admin).await["certificates"]["tls"][0].clone();
    assert_eq!(before["server_names"][0], "site.test", "{before}");

    // An established connection with a request in flight across the swap.
    let long = inspecting_client(&pki, port, &["site.test"]);
    let warm = long
        .get(format!("https://site.test:{port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(peer_certificate(&warm), first.der);
    let slow = tokio::spawn({
        let long = long.clone();
        async move {
            long.get(format!("https://site.test:{port}/slow?ms=8000"))
                .send()
                .await
        }
    });

    let second = pki.issue(&["site.test"]);
    site.rotate(&second.cert_pem, &second.key_pem);
    let status = wait_admin(admin, "the rotated certificate", |s| s["generation"] == 2).await;
    assert!(status["last_failure"].is_null(), "{status}");
    let after = &status["certificates"]["tls"][0];
    assert_ne!(
        after["sha256"], before["sha256"],
        "the admin endpoint shows the rotation"
    );
    assert_eq!(
        served_certificate(&pki, port, "site.test").await,
        second.der,
        "a new handshake gets the new certificate"
    );
    assert!(!slow.is_finished(), "the long request spans the rotation");

    let resp = slow.await.unwrap().expect("the long request completes");
    assert_eq!(resp.status(), 200);
    assert_eq!(
        peer_certificate(&resp),
        first.der,
        "the established connection kept its certificate"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_broken_certificate_is_refused_and_the_old_one_kept() {
    let pki = TestPki::new();
    let upstream = Upstream::start("a").await;
    let first = pki.issue(&["site.test"]);
    let (_gw, mut site, port, admin) = start_site(&first, &upstream);

    // Not PEM at all.
    site.rotate("this is not a certificate\n", &first.key_pem);
    let status = wait_admin(admin, "the bad PEM refused", |s| {
        s["last_failure"]["errors"]
            .to_string()
            .contains("no PEM certificate")
    })
    .await;
    assert_eq!(status["generation"], 1, "{status}");
    assert_eq!(served_certificate(&pki, port, "site.test").await, first.der);

    // A valid certificate with the old key: they do not match.
    let other = pki.issue(&["site.test"]);
    site.rotate(&other.cert_pem, &first.key_pem);
    let status = wait_admin(admin, "the mismatched key refused", |s| {
        s["last_failure"]["errors"]
            .to_string()
            .contains("does not match")
    })
    .await;
    assert_eq!(status["generation"], 1, "{status}");
    let errors = status["last_failure"]["errors"].to_string();
    assert!(
        errors.contains("listeners[0].tls.certificates[0].key"),
        "{errors}"
    );
    assert_eq!(served_certificate(&pki, port, "site.test").await, first.der);

    // The matching pair is taken.
    site.rotate(&other.cert_pem, &other.key_pem);
    wait_admin(admin, "the good pair", |s| s["generation"] == 2).await;
    assert_eq!(served_certificate(&pki, port, "site.test").await, other.der);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_name_added_live_is_selected_by_sni() {
    let pki = TestPki::new();
    let upstream = Upstream::start("a").await;
    let site = pki.issue(&["site.test"]);
    let (gw, _site, port, admin) = start_site(&site, &upstream);
    // Before: beta.test gets the default certificate, which does not name it.
    let err = inspecting_client(&pki, port, &["beta.test"])
        .get(format!("https://beta.test:{port}/"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");

    let beta = pki.leaf(gw.dir(), "beta", &["beta.test"]);
    gw.replace_config(&site_config(
        port,
        admin,
        &upstream,
        "        - { cert: beta.pem, key: beta.key, server_names: [beta.test] }\n",
    ));
    let status = wait_admin(admin, "the new certificate entry", |s| s["generation"] == 2).await;
    assert!(
        status["restart_required"].as_array().unwrap().is_empty(),
        "{status}"
    );
    assert_eq!(served_certificate(&pki, port, "beta.test").await, beta);
    assert_eq!(served_certificate(&pki, port, "site.test").await, site.der);
}
