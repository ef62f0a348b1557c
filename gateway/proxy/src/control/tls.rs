//! TLS termination: certificates chosen by SNI during the handshake, from
//! the running snapshot, so a reload (a rotated certificate, a new server
//! name) reaches the next handshake while established connections keep the
//! certificate they were made with.

use std::sync::Arc;

use async_trait::async_trait;
use pingora::listeners::TlsAccept;
use pingora::protocols::tls::TlsRef;
use pingora::tls::ext;
use pingora::tls::ssl::NameType;

use crate::snapshot::SnapshotStore;
use crate::snapshot::certificates::SniCertificates;

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
