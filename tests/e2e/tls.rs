//! TLS termination with two certificates chosen by SNI, and HTTP/2 via ALPN.

use std::net::SocketAddr;

use rcgen::{BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair};
use weir_tests::{Gateway, free_port};

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

    /// Writes `<stem>.pem` and `<stem>.key` for `names` into `dir`.
    pub fn leaf(&self, dir: &std::path::Path, stem: &str, names: &[&str]) {
        let key = KeyPair::generate().unwrap();
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.distinguished_name.push(DnType::CommonName, names[0]);
        let cert = params.signed_by(&key, &self.issuer).unwrap();
        std::fs::write(dir.join(format!("{stem}.pem")), cert.pem()).unwrap();
        std::fs::write(dir.join(format!("{stem}.key")), key.serialize_pem()).unwrap();
    }
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
