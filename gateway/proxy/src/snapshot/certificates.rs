//! A TLS listener's certificates, read from disk with each generation (a
//! reload re-reads them, so rotation is live), and the pick by SNI that the
//! handshake callback (control/tls.rs) makes.

use pingora::tls::pkey::{PKey, Private};
use pingora::tls::x509::X509;
use weir_config::ListenerTls;
#[derive(Debug, thiserror::Error)]
#[error("listener {listener}: cannot load certificate {path}: {reason}")]
pub struct CertError {
    pub listener: String,
    pub path: String,
    pub reason: String,
}

pub(crate) struct LoadedCert {
    names: Vec<String>,
    /// Leaf first, then intermediates.
    pub(crate) chain: Vec<X509>,
    pub(crate) key: PKey<Private>,
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

    pub(crate) fn pick(&self, sni: Option<&str>) -> Option<&LoadedCert> {
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
