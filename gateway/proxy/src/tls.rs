//! TLS termination: certificates chosen by SNI during the handshake, from
//! the running snapshot, so a reload (a rotated certificate, a new server
//! name) reaches the next handshake while established connections keep the
//! certificate they were made with.

use std::sync::Arc;

use async_trait::async_trait;
use pingora::listeners::TlsAccept;
use pingora::protocols::tls::TlsRef;
use pingora::tls::ext;
use pingora::tls::pkey::{PKey, Private};
use pingora::tls::ssl::NameType;
use pingora::tls::x509::X509;
use weir_config::ListenerTls;

use crate::snapshot::SnapshotStore;

#[derive(Debug, thiserror::Error)]
#[error("listener {listener}: cannot load certificate {path}: {reason}")]
pub struct CertError {
    pub listener: String,
    pub path: String,
    pub reason: String,
}

struct LoadedCert {
    names: Vec<String>,
    /// Leaf first, then intermediates.
    chain: Vec<X509>,
    key: PKey<Private>,
}

/// Picks the certificate for the client's SNI: an exact name, else a
/// wildcard, else the first certificate.
pub struct SniCertificates {
    certs: Vec<LoadedCert>,
}

impl SniCertificates {
    pub fn load(listener: &str, tls: &ListenerTls) -> Result<Self, CertError> {
        let mut certs = Vec::new();
        for c in &tls.certificates {
            let err = |path: &std::path::Path, reason: String| CertError {
                listener: listener.to_owned(),
                path: path.display().to_string(),
                reason,
            };
            let pem = std::fs::read(&c.cert_path).map_err(|e| err(&c.cert_path, e.to_string()))?;
            let chain = X509::stack_from_pem(&pem).map_err(|e| err(&c.cert_path, e.to_string()))?;
            if chain.is_empty() {
                return Err(err(&c.cert_path, "no certificate in file".into()));
            }
            let key_pem =
                std::fs::read(&c.key_path).map_err(|e| err(&c.key_path, e.to_string()))?;
            let key = PKey::private_key_from_pem(&key_pem)
                .map_err(|e| err(&c.key_path, e.to_string()))?;
            certs.push(LoadedCert {
                names: c
                    .server_names
                    .iter()
                    .map(|n| n.to_ascii_lowercase())
                    .collect(),
                chain,
                key,
            });
        }
        Ok(SniCertificates { certs })
    }

    /// sha256 of each leaf certificate, in config order: what a reload
    /// compares to tell a rotated certificate from an unchanged one.
    pub fn fingerprints(&self) -> Vec<String> {
        self.certs
            .iter()
            .map(|c| {
                c.chain[0]
                    .digest(pingora::tls::hash::MessageDigest::sha256())
                    .map(|d| d.iter().map(|b| format!("{b:02x}")).collect())
                    .unwrap_or_default()
            })
            .collect()
    }

    /// For `GET /admin/config`: what each entry serves now, so an operator
    /// can see that a rotation was taken.
    pub fn describe(&self) -> Vec<serde_json::Value> {
        self.certs
            .iter()
            .zip(self.fingerprints())
            .map(|(c, sha256)| {
                serde_json::json!({
                    "server_names": c.names,
                    "subject": c.chain[0].subject_name().entries().filter_map(|e| e.data().to_string().ok()).collect::<Vec<_>>().join(", "),
                    "not_after": c.chain[0].not_after().to_string(),
                    "sha256": sha256,
                })
            })
            .collect()
    }

    fn pick(&self, sni: Option<&str>) -> Option<&LoadedCert> {
        let sni = sni.map(str::to_ascii_lowercase);
        let by_name = sni.as_deref().and_then(|name| {
            self.certs
                .iter()
                .find(|c| c.names.iter().any(|n| n == name))
                .or_else(|| {
                    self.certs.iter().find(|c| {
                        c.names.iter().any(|n| {
                            n.strip_prefix('*').is_some_and(|suffix| {
                                name.ends_with(suffix) && name.len() > suffix.len()
                            })
                        })
                    })
                })
        });
        by_name.or_else(|| self.certs.first())
    }
}

/// A TLS listener's certificate callback: each handshake picks from the
/// certificates of the snapshot running at that moment.
pub struct ListenerCertificates {
    listener: String,
    snapshots: Arc<SnapshotStore>,
    /// The certificates the listener was bound with, for a snapshot that no
    /// longer has this listener (it was renamed or removed, which takes
    /// effect after a restart).
    bound: Arc<SniCertificates>,
}

impl ListenerCertificates {
    pub fn new(listener: &str, snapshots: Arc<SnapshotStore>) -> Option<Self> {
        let bound = snapshots.load().certificates.get(listener)?.clone();
        Some(ListenerCertificates {
            listener: listener.to_owned(),
            snapshots,
            bound,
        })
    }
}

#[async_trait]
impl TlsAccept for ListenerCertificates {
    async fn certificate_callback(&self, ssl: &mut TlsRef) {
        let snapshot = self.snapshots.load();
        let certificates = snapshot
            .certificates
            .get(&self.listener)
            .unwrap_or(&self.bound);
        let sni = ssl.servername(NameType::HOST_NAME).map(str::to_owned);
        let Some(cert) = certificates.pick(sni.as_deref()) else {
            return;
        };
        let result = ext::ssl_use_certificate(ssl, &cert.chain[0])
            .and_then(|_| ext::ssl_use_private_key(ssl, &cert.key))
            .and_then(|_| {
                cert.chain[1..]
                    .iter()
                    .try_for_each(|c| ext::ssl_add_chain_cert(ssl, c))
            });
        if let Err(err) = result {
            tracing::warn!(?sni, "cannot install certificate: {err}");
        }
    }
}
