//! TLS termination with two certificates chosen by SNI, HTTP/2 via ALPN
//! (on by default), and `weir check` on TLS material. Live certificate
//! reloads: `tls_rotation.rs`.

use std::net::SocketAddr;
use std::time::Duration;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use serde_json::Value;
use weir_tests::{Gateway, free_port, weir_check};

/// A test CA and leaf certificates for the given names, written beside the config.
pub struct TestPki {
    pub ca_pem: String,
    issuer: CertifiedIssuer<'static, KeyPair>,
}

impl TestPki {
    pub fn new() -> Self {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        // Distinct subject names: a leaf whose issuer equals its subject looks self-signed.
        params
            .distinguished_name
            .push(DnType::CommonName, "weir test CA");
        let issuer = CertifiedIssuer::self_signed(params, KeyPair::generate().unwrap()).unwrap();
        TestPki {
            ca_pem: issuer.pem(),
            issuer,
        }
    }

    /// Writes `<stem>.pem` and `<stem>.key` for `names` into `dir`; returns
    /// the certificate's DER, to compare with what a handshake served.
    pub fn leaf(&self, dir: &std::path::Path, stem: &str, names: &[&str]) -> Vec<u8> {
        let leaf = self.issue(names);
        std::fs::write(dir.join(format!("{stem}.pem")), &leaf.cert_pem).unwrap();
        std::fs::write(dir.join(format!("{stem}.key")), &leaf.key_pem).unwrap();
        leaf.der
    }

    /// A new leaf certificate (with a new key) for `names`.
    pub fn issue(&self, names: &[&str]) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        Leaf {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            der: cert.der().to_vec(),
        }
    }
}

pub struct Leaf {
    pub cert_pem: String,
    pub key_pem: String,
    pub der: Vec<u8>,
}

fn tls_client(pki: &TestPki, port: u16, names: &[&str]) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap();
    let addr: SocketAddr = ([127, 0, 0, 1], port).into();
    let mut builder = reqwest::Client::builder().add_root_certificate(ca);
    for name in names {
        builder = builder.resolve(name, addr);
    }
    builder.build().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn two_certificates_chosen_by_sni_and_h2_over_alpn() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    pki.leaf(dir.path(), "alpha", &["alpha.test"]);
    pki.leaf(dir.path(), "beta", &["beta.test", "*.beta.test"]);
    let port = free_port();
    std::fs::write(
        dir.path().join("weir.yaml"),
        format!(
            "listeners:\n  - name: tls\n    address: 127.0.0.1:{port}\n    http2: true\n    tls:\n      certificates:\n        - {{ cert: alpha.pem, key: alpha.key, server_names: [alpha.test] }}\n        - {{ cert: beta.pem, key: beta.key, server_names: [beta.test, \"*.beta.test\"] }}\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    respond: {{ status: 200, body: hello }}\n"
        ),
    )
    .unwrap();
    let _gw = Gateway::spawn(dir, port);
    let c = tls_client(
        &pki,
        port,
        &["alpha.test", "beta.test", "x.beta.test", "other.test"],
    );

    // Each request verifies the served certificate against the name asked
    // for, so success proves the SNI pick.
    for host in ["alpha.test", "beta.test", "x.beta.test"] {
        let resp = c
            .get(format!("https://{host}:{port}/"))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{host}: {e:?}"));
        assert_eq!(resp.status(), 200);
        assert_eq!(
            resp.version(),
            reqwest::Version::HTTP_2,
            "{host}: ALPN should pick h2"
        );
        assert_eq!(resp.text().await.unwrap(), "hello");
    }
    // An unknown name gets the default (first) certificate, which does not
    // cover it: the client refuses it.
    let err = c
        .get(format!("https://other.test:{port}/"))
        .send()
        .await
        .unwrap_err();
    assert!(err.is_connect(), "{err:?}");
    // HTTP/1.1 still works when the client asks only for it.
    let h1 = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(pki.ca_pem.as_bytes()).unwrap())
        .resolve("alpha.test", ([127, 0, 0, 1], port).into())
        .http1_only()
        .build()
        .unwrap();
    let resp = h1
        .get(format!("https://alpha.test:{port}/"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.version(), reqwest::Version::HTTP_11);
}

/// Two TLS listeners, one with `http2: false`: the default one negotiates
/// h2 by ALPN, the other only HTTP/1.1 even for a client that offers h2.
#[tokio::test(flavor = "multi_thread")]
async fn h2_is_negotiated_by_default_on_tls_and_http2_false_turns_it_off() {
    let pki = TestPki::new();
    let dir = tempfile::tempdir().unwrap();
    pki.leaf(dir.path(), "alpha", &["alpha.test"]);
    let (port, h1_port) = (free_port(), free_port());
    std::fs::write(
        dir.path().join("weir.yaml"),
        format!(
            "listeners:\n  - name: default\n    address: 127.0.0.1:{port}\n    tls:\n      certificates:\n        - {{ cert: alpha.pem, key: alpha.key, server_names: [alpha.test] }}\n  - name: h1\n    address: 127.0.0.1:{h1_port}\n    http2: false\n    tls:\n      certificates:\n        - {{ cert: alpha.pem, key: alpha.key, server_names: [alpha.test] }}\nroutes:\n  - match: {{ path: {{ prefix: / }} }}\n    respond: {{ status: 200, body: hello }}\n"
        ),
    )
    .unwrap();
    let _gw = Gateway::spawn(dir, port);
    weir_tests::wait_until(Duration::from_secs(10), "the second listener", || {
        std::net::TcpStream::connect(("127.0.0.1", h1_port)).is_ok()
    });
    for (p, expected) in [
        (port, reqwest::Version::HTTP_2),
        (h1_port, reqwest::Version::HTTP_11),
    ] {
        // A fresh client offers h2 and http/1.1 by ALPN.
        let resp = tls_client(&pki, p, &["alpha.test"])
            .get(format!("https://alpha.test:{p}/"))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        assert_eq!(resp.version(), expected, "listener on {p}");
    }
}

/// `weir check` reports TLS errors with their path and line, and a
/// certificate that expires soon as a warning (text and JSON).
#[test]
fn check_reports_tls_errors_and_expiry_warnings() {
    let fixtures = weir_tests::workspace_root().join("gateway/config/tests/golden/fixtures/tls");
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("weir.yaml");
    std::fs::write(
        &path,
        format!(
            "listeners:\n  - name: tls\n    address: 127.0.0.1:8443\n    tls:\n      certificates:\n        - cert: {0}/good.pem\n          key: {0}/missing.key\nroutes:\n  - respond: {{ status: 204 }}\n",
            fixtures.display()
        ),
    )
    .unwrap();
    let (ok, text) = weir_check(&path, false);
    assert!(!ok, "{text}");
    assert!(
        text.contains("listeners[0].tls.certificates[0].key (line 7): cannot read"),
        "{text}"
    );

    std::fs::write(
        &path,
        format!(
            "server:\n  certificate_expiry_warning: 30000d\nlisteners:\n  - name: tls\n    address: 127.0.0.1:8443\n    tls:\n      certificates:\n        - {{ cert: {0}/soon.pem, key: {0}/good.key }}\nroutes:\n  - respond: {{ status: 204 }}\n",
            fixtures.display()
        ),
    )
    .unwrap();
    let (ok, text) = weir_check(&path, false);
    assert!(ok, "{text}");
    assert!(
        text.contains("warning: listeners[0].tls.certificates[0].cert (line 8): certificate in"),
        "{text}"
    );
    assert!(text.ends_with(": ok, 1 warning(s)\n"), "{text}");
    let (ok, json) = weir_check(&path, true);
    assert!(ok, "{json}");
    let parsed: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(parsed["valid"], true);
    assert_eq!(parsed["warnings"][0]["line"], 8, "{json}");
}
