//! Turns the listeners of a config into Pingora services.

use std::sync::Arc;

use pingora::apps::HttpServerOptions;
use pingora::listeners::tls::TlsSettings;
use pingora::proxy::http_proxy_service_with_name;
use pingora::server::configuration::ServerConf;
use pingora::services::ServiceWithDependents;
use weir_config::Listener;

use super::tls::ListenerCertificates;
use crate::request::WeirProxy;
use crate::snapshot::SnapshotStore;

#[derive(Debug, thiserror::Error)]
pub enum ListenerError {
    #[error("listener {listener}: TLS setup failed: {reason}")]
    Tls { listener: String, reason: String },
}

/// One proxy service per listener, so each knows whether it terminates TLS
/// and which limits apply.
pub fn proxy_services(
    conf: &Arc<ServerConf>,
    listeners: &[Listener],
    snapshots: &Arc<SnapshotStore>,
) -> Result<Vec<Box<dyn ServiceWithDependents>>, ListenerError> {
    let mut services: Vec<Box<dyn ServiceWithDependents>> = Vec::new();
    for listener in listeners {
        let proxy = WeirProxy::new(
            snapshots.clone(),
            listener.name.clone(),
            listener.tls.is_some(),
        );
        let mut service =
            http_proxy_service_with_name(conf, proxy, &format!("weir listener {}", listener.name));
        let address = listener.address.to_string();
        match &listener.tls {
            None => {
                if listener.http2 {
                    let mut options = HttpServerOptions::default();
                    options.h2c = true;
                    service.app_logic_mut().expect("proxy app").server_options = Some(options);
                }
                service.add_tcp(&address);
            }
            Some(_) => {
                // The snapshot loaded the certificates; each handshake takes
                // them from the snapshot running then.
                let certificates = ListenerCertificates::new(&listener.name, snapshots.clone())
                    .ok_or_else(|| ListenerError::Tls {
                        listener: listener.name.clone(),
                        reason: "no certificates loaded".into(),
                    })?;
                let mut settings =
                    TlsSettings::with_callbacks(Box::new(certificates)).map_err(|e| {
                        ListenerError::Tls {
                            listener: listener.name.clone(),
                            reason: e.to_string(),
                        }
                    })?;
                // Offered by ALPN (h2, then http/1.1); on by default with TLS.
                if listener.http2 {
                    settings.enable_h2();
                }
                service.add_tls_with_settings(&address, None, settings);
            }
        }
        services.push(Box::new(service));
    }
    Ok(services)
}
