//! Checks of the `listeners` section; the X.509 checks of their certificates
//! are in `tls.rs`.

use std::collections::BTreeSet;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ipnet::IpNet;

use super::checker::Checker;
use super::tls;
use crate::model::{Certificate, Listener, ListenerTls, RequestLimits, host_match};
use crate::parse::ConfigPath;
use crate::schema::ListenerTlsFile;

pub(super) fn listeners(c: &mut Checker, expiry_warning: Duration) -> Vec<Listener> {
    let mut names = BTreeSet::new();
    let mut addresses = BTreeSet::new();
    let mut out = Vec::new();
    for (path, file) in &c.doc.listeners {
        if !names.insert(file.name.clone()) {
            c.error(
                &path.key("name"),
                format!("duplicate listener name {:?}", file.name),
            );
        }
        let address = match file.address.parse::<SocketAddr>() {
            Ok(a) => {
                if !addresses.insert(a) {
                    c.error(
                        &path.key("address"),
                        format!("another listener already uses {a}"),
                    );
                }
                Some(a)
            }
            Err(_) => {
                c.error(
                    &path.key("address"),
                    format!("invalid address {:?}; expected ip:port", file.address),
                );
                None
            }
        };
        let tls = file
            .tls
            .as_ref()
            .map(|tls| listener_tls(c, &path.key("tls"), tls, expiry_warning));
        let limits = file.limits.as_ref();
        let max_header_bytes = limits
            .and_then(|l| l.max_header_bytes)
            .map_or(64 * 1024, |s| s.0 as usize);
        c.at_least_one(
            &path.key("limits").key("max_header_bytes"),
            max_header_bytes as u64,
        );
        let max_request_line = limits
            .and_then(|l| l.max_request_line)
            .map_or(8 * 1024, |s| s.0 as usize);
        c.at_least_one(
            &path.key("limits").key("max_request_line"),
            max_request_line as u64,
        );
        let mut trusted_proxies = Vec::new();
        for (i, text) in file.trusted_proxies.iter().enumerate() {
            match parse_net(text) {
                Some(net) => trusted_proxies.push(net),
                None => c.error(
                    &path.key("trusted_proxies").index(i),
                    format!("invalid network {text:?}; expected a CIDR like 10.0.0.0/8 or an IP"),
                ),
            }
        }
        if let Some(address) = address {
            out.push(Listener {
                name: file.name.clone(),
                address,
                tls,
                // h2 by ALPN on TLS unless turned off; h2c (prior
                // knowledge, no negotiation) only when asked for.
                http2: file.http2.unwrap_or(file.tls.is_some()),
                limits: RequestLimits {
                    max_header_bytes,
                    max_request_line,
                    max_body_bytes: limits.and_then(|l| l.max_body_bytes).map(|s| s.0),
                },
                trusted_proxies,
            });
        }
    }
    out
}

fn listener_tls(
    c: &mut Checker,
    path: &ConfigPath,
    tls: &ListenerTlsFile,
    expiry_warning: Duration,
) -> ListenerTls {
    if tls.certificates.is_empty() {
        c.error(
            &path.key("certificates"),
            "at least one certificate is required",
        );
    }
    let mut certificates = Vec::new();
    for (i, cert) in tls.certificates.iter().enumerate() {
        let path = path.key("certificates").index(i);
        let mut valid_names = Vec::new();
        for (j, name) in cert.server_names.iter().enumerate() {
            if host_match(name).is_none() {
                c.error(
                    &path.key("server_names").index(j),
                    format!("invalid server name {name:?}; expected a name like api.example.com or *.example.com"),
                );
            } else {
                valid_names.push((j, name.to_ascii_lowercase()));
            }
        }
        let (cert_path, key_path) = (c.resolve(&cert.cert), c.resolve(&cert.key));
        let findings = tls::check_certificate(
            &cert_path,
            &key_path,
            &valid_names,
            expiry_warning,
            std::time::SystemTime::now(),
        );
        for finding in findings {
            let at = match finding.field {
                tls::Field::Cert => path.key("cert"),
                tls::Field::Key => path.key("key"),
                tls::Field::ServerName(j) => path.key("server_names").index(j),
            };
            if finding.warning {
                c.warning(&at, finding.message);
            } else {
                c.error(&at, finding.message);
            }
        }
        certificates.push(Certificate {
            server_names: cert
                .server_names
                .iter()
                .map(|n| n.to_ascii_lowercase())
                .collect(),
            cert_path,
            key_path,
        });
    }
    ListenerTls { certificates }
}

fn parse_net(text: &str) -> Option<IpNet> {
    text.parse::<IpNet>()
        .ok()
        .or_else(|| text.parse::<IpAddr>().ok().map(IpNet::from))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn networks() {
        assert_eq!(parse_net("10.0.0.0/8"), "10.0.0.0/8".parse().ok());
        assert_eq!(parse_net("127.0.0.1"), "127.0.0.1/32".parse().ok());
        assert_eq!(parse_net("::1"), "::1/128".parse().ok());
        assert_eq!(parse_net("10.0.0.0/33"), None);
        assert_eq!(parse_net("localhost"), None);
    }
}
