//! X.509 checks of a listener certificate: the files exist and parse, the key
//! matches, the chain is in order, the names cover `server_names`, and the
//! validity period. Run by `weir check`, at start and on every reload, so a
//! broken or rotated-wrong certificate is refused before it is served.
//!
//! This lives in weir-config (with an `openssl` dependency) rather than in
//! weir-proxy: every config error, with its path and line, is found here, and
//! the reload pipeline refuses a config on exactly these errors. OpenSSL is
//! the library Pingora terminates TLS with, so the judgement is the server's.

use std::path::Path;
use std::time::{Duration, SystemTime};

use openssl::asn1::{Asn1Time, Asn1TimeRef};
use openssl::pkey::{PKey, Private};
use openssl::x509::{X509, X509VerifyResult};

/// Which part of a certificate entry a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Cert,
    Key,
    /// `server_names[i]`.
    ServerName(usize),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    pub field: Field,
    /// A warning (expiring soon) does not refuse the config.
    pub warning: bool,
    pub message: String,
}

/// Every problem with one certificate entry. `server_names` are the valid
/// ones with their index; `warn_within` is how close an expiry warns.
pub fn check_certificate(
    cert_path: &Path,
    key_path: &Path,
    server_names: &[(usize, String)],
    warn_within: Duration,
    now: SystemTime,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let mut error = |field, message: String| {
        out.push(Finding {
            field,
            warning: false,
            message,
        })
    };
    let chain = match read_chain(cert_path) {
        Ok(chain) => Some(chain),
        Err(message) => {
            error(Field::Cert, message);
            None
        }
    };
    let key = match read_key(key_path) {
        Ok(key) => Some(key),
        Err(message) => {
            error(Field::Key, message);
            None
        }
    };
    let Some(chain) = chain else { return out };
    let leaf = &chain[0];
    if let Some(key) = key {
        let matches = leaf
            .public_key()
            .map(|public| public.public_eq(&key))
            .unwrap_or(false);
        if !matches {
            error(
                Field::Key,
                format!(
                    "the key in {} does not match the certificate in {}",
                    key_path.display(),
                    cert_path.display()
                ),
            );
        }
    }
    for (i, pair) in chain.windows(2).enumerate() {
        let (cert, issuer) = (&pair[0], &pair[1]);
        let signed = issuer
            .public_key()
            .and_then(|k| cert.verify(&k))
            .unwrap_or(false);
        if issuer.issued(cert) != X509VerifyResult::OK || !signed {
            error(
                Field::Cert,
                format!(
                    "chain out of order in {}: certificate {} ({}) is not issued by the next one ({}); list the leaf first, then each issuer",
                    cert_path.display(),
                    i + 1,
                    subject(cert),
                    subject(issuer)
                ),
            );
        }
    }
    let dns_names = leaf_names(leaf);
    for (i, name) in server_names {
        if !dns_names.iter().any(|pattern| covers(pattern, name)) {
            error(
                Field::ServerName(*i),
                format!(
                    "{name:?} is not among the names of the certificate in {} ({})",
                    cert_path.display(),
                    dns_names.join(", ")
                ),
            );
        }
    }
    out.extend(validity(cert_path, leaf, warn_within, now));
    out
}

fn read_chain(path: &Path) -> Result<Vec<X509>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    match X509::stack_from_pem(&pem) {
        Ok(chain) if !chain.is_empty() => Ok(chain),
        _ => Err(format!("no PEM certificate in {}", path.display())),
    }
}

fn read_key(path: &Path) -> Result<PKey<Private>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    PKey::private_key_from_pem(&pem)
        .map_err(|_| format!("no PEM private key in {}", path.display()))
}

fn subject(cert: &X509) -> String {
    cert.subject_name()
        .entries()
        .filter_map(|e| e.data().to_string().ok())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The DNS names of the leaf (subjectAltName; the common name only when
/// there is none, as clients did before SANs).
fn leaf_names(leaf: &X509) -> Vec<String> {
    let sans: Vec<String> = leaf
        .subject_alt_names()
        .map(|names| {
            names
                .iter()
                .filter_map(|n| n.dnsname().map(str::to_ascii_lowercase))
                .collect()
        })
        .unwrap_or_default();
    if !sans.is_empty() {
        return sans;
    }
    leaf.subject_name()
        .entries_by_nid(openssl::nid::Nid::COMMONNAME)
        .filter_map(|e| e.data().to_string().ok().map(|s| s.to_ascii_lowercase()))
        .collect()
}

/// Whether a certificate name (`a.example.com` or `*.example.com`) covers a
/// configured server name: equal, or the wildcard matches one label (a
/// configured wildcard needs the same wildcard in the certificate).
pub fn covers(pattern: &str, name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    if pattern == name {
        return true;
    }
    match (pattern.strip_prefix("*."), name.split_once('.')) {
        (Some(suffix), Some((label, rest))) => label != "*" && !label.is_empty() && rest == suffix,
        _ => false,
    }
}

fn validity(path: &Path, leaf: &X509, warn_within: Duration, now: SystemTime) -> Vec<Finding> {
    let at = |t: SystemTime| {
        let secs = t
            .duration_since(SystemTime::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Asn1Time::from_unix(secs as _).ok()
    };
    let (Some(now_asn1), Some(horizon)) = (at(now), at(now + warn_within)) else {
        return Vec::new();
    };
    let finding = |warning, message| Finding {
        field: Field::Cert,
        warning,
        message,
    };
    let not_after: &Asn1TimeRef = leaf.not_after();
    if leaf.not_before() > now_asn1 {
        return vec![finding(
            false,
            format!(
                "certificate in {} is not valid before {}",
                path.display(),
                leaf.not_before()
            ),
        )];
    }
    if not_after < now_asn1 {
        return vec![finding(
            false,
            format!("certificate in {} expired on {not_after}", path.display()),
        )];
    }
    if not_after < horizon {
        return vec![finding(
            true,
            format!(
                "certificate in {} expires on {not_after}, within {} days (server.certificate_expiry_warning)",
                path.display(),
                warn_within.as_secs() / 86_400
            ),
        )];
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::covers;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(covers("a.example.com", "A.example.com"));
        assert!(covers("*.example.com", "x.example.com"));
        assert!(!covers("*.example.com", "x.y.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(covers("*.example.com", "*.example.com"));
        assert!(!covers("x.example.com", "*.example.com"));
    }
}
