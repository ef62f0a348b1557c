//! Checks of a filter's or handler's `grants`: key-value stores and secrets it
//! may use (by name), outbound HTTP and a read-only directory.

use std::collections::BTreeSet;
use std::io::ErrorKind;
use std::time::Duration;

use super::checker::Checker;
use crate::model::{FilesGrant, Grants, HttpGrant, Origin};
use crate::parse::ConfigPath;
use crate::schema::{FilesGrantFile, GrantsFile, HttpGrantFile};

pub(super) fn grants(c: &mut Checker, path: &ConfigPath, file: Option<&GrantsFile>) -> Grants {
    let Some(file) = file else {
        return Grants::default();
    };
    let doc = c.doc;
    names(
        c,
        &path.key("key_value"),
        file.key_value.as_deref().unwrap_or_default(),
        &doc.key_value_names,
        "key_value store",
    );
    names(
        c,
        &path.key("secrets"),
        file.secrets.as_deref().unwrap_or_default(),
        &doc.secret_names,
        "secret",
    );
    Grants {
        key_value: file.key_value.clone(),
        secrets: file.secrets.clone(),
        http: file.http.as_ref().map(|h| http(c, &path.key("http"), h)),
        files: file.files.as_ref().map(|f| files(c, &path.key("files"), f)),
    }
}

/// References to `defined` (every name written, see `Document`), each once.
fn names(
    c: &mut Checker,
    path: &ConfigPath,
    list: &[String],
    defined: &BTreeSet<String>,
    what: &str,
) {
    let mut seen = BTreeSet::new();
    for (i, name) in list.iter().enumerate() {
        if !defined.contains(name) {
            c.error(&path.index(i), format!("no {what} named {name:?}"));
        } else if !seen.insert(name) {
            c.error(&path.index(i), format!("{what} {name:?} is granted twice"));
        }
    }
}

fn http(c: &mut Checker, path: &ConfigPath, file: &HttpGrantFile) -> HttpGrant {
    // An empty list is allowed on purpose: it consents to a filter that
    // imports outbound HTTP (jwt-auth, for its JWKS URLs) while granting it
    // no origin at all.
    let allow = file
        .allow
        .iter()
        .enumerate()
        .filter_map(|(i, text)| {
            text.parse::<Origin>()
                .map_err(|message| c.error(&path.key("allow").index(i), message))
                .ok()
        })
        .collect();
    let grant = HttpGrant {
        allow,
        connect_timeout: file.connect_timeout.map_or(Duration::from_secs(1), |d| d.0),
        timeout: file.timeout.map_or(Duration::from_secs(5), |d| d.0),
        max_response_bytes: file.max_response_bytes.map_or(1 << 20, |s| s.0),
    };
    c.more_than_zero(&path.key("connect_timeout"), grant.connect_timeout);
    c.more_than_zero(&path.key("timeout"), grant.timeout);
    c.at_least_one(&path.key("max_response_bytes"), grant.max_response_bytes);
    grant
}

fn files(c: &mut Checker, path: &ConfigPath, file: &FilesGrantFile) -> FilesGrant {
    let resolved = c.resolve(&file.path);
    if file.path.trim().is_empty() {
        c.error(&path.key("path"), "path is empty");
    } else {
        let problem = match std::fs::metadata(&resolved) {
            Ok(meta) if meta.is_dir() => None,
            Ok(_) => Some(format!("{} is not a directory", resolved.display())),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                Some(format!("{} does not exist", resolved.display()))
            }
            Err(e) => Some(format!("cannot read {}: {e}", resolved.display())),
        };
        if let Some(problem) = problem {
            c.error(&path.key("path"), problem);
        }
    }
    let mount = file.mount.clone().unwrap_or_else(|| "/".to_owned());
    if !mount.starts_with('/') {
        c.error(
            &path.key("mount"),
            format!("mount {mount:?} must start with /"),
        );
    }
    FilesGrant {
        path: resolved,
        mount,
    }
}
