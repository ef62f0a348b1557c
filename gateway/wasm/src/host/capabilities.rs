//! What a filter may reach beyond its request: the capabilities its config
//! grants. Each is denied unless granted; a component that imports a
//! capability its config does not list is refused when it loads. Listing a
//! grant empty (`secrets: []`, `http: { allow: [] }`) consents to the import
//! and grants nothing: for filters that use a capability only in some
//! configs (jwt-auth's JWKS URLs, key-auth's keys in a secret).

use std::collections::BTreeMap;
use std::sync::Arc;

use wasmtime::Engine;
use wasmtime::component::Component;
use weir_config::{FilesGrant, HttpGrant};

use crate::error::LoadError;

/// The capabilities granted to one filter, shared by all its instances.
#[derive(Clone, Default)]
pub struct Capabilities {
    /// Key-value stores by the name the filter opens them with; None when
    /// the config does not list `grants.key_value`.
    pub key_value: Option<BTreeMap<String, weir_kv::Store>>,
    /// Secret values by name; None when `grants.secrets` is not listed.
    pub secrets: Option<BTreeMap<String, Arc<[u8]>>>,
    pub http: Option<HttpGrant>,
    pub files: Option<FilesGrant>,
}

impl std::fmt::Debug for Capabilities {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the secrets' values.
        f.debug_struct("Capabilities")
            .field(
                "key_value",
                &self
                    .key_value
                    .as_ref()
                    .map(|m| m.keys().collect::<Vec<_>>()),
            )
            .field(
                "secrets",
                &self.secrets.as_ref().map(|m| m.keys().collect::<Vec<_>>()),
            )
            .field("http", &self.http)
            .field("files", &self.files)
            .finish()
    }
}

/// A capability that shows in a component's imports, and the grant it needs.
struct Gated {
    /// Import name without its `@version`.
    interface: &'static str,
    grant: &'static str,
    granted: fn(&Capabilities) -> bool,
}

/// Files are not here: every WASI toolchain imports `wasi:filesystem`, so a
/// directory is granted by preopening it, and without a grant there is none.
const GATED: &[Gated] = &[
    Gated {
        interface: "weir:filter/key-value",
        grant: "grants.key_value",
        granted: |c| c.key_value.is_some(),
    },
    Gated {
        interface: "weir:filter/secrets",
        grant: "grants.secrets",
        granted: |c| c.secrets.is_some(),
    },
    Gated {
        interface: "wasi:http/outgoing-handler",
        grant: "grants.http",
        granted: |c| c.http.is_some(),
    },
];

/// What a kind of guest must be granted to import.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Importer {
    Filter,
    /// Every `wasi:http/proxy` toolchain imports the outgoing handler
    /// whether the component sends requests or not, so a handler may import
    /// it ungranted: each request it sends is refused unless the grant
    /// allows its origin (`outbound.rs`).
    Handler,
}

/// Refuses a component that imports a capability its config does not grant.
pub(crate) fn check_imports(
    engine: &Engine,
    component: &Component,
    name: &str,
    importer: Importer,
    capabilities: &Capabilities,
) -> Result<(), LoadError> {
    let component_type = component.component_type();
    for (import, _) in component_type.imports(engine) {
        let interface = import.split('@').next().unwrap_or(import);
        let exempt = importer == Importer::Handler && interface == "wasi:http/outgoing-handler";
        if let Some(gated) = GATED.iter().find(|g| g.interface == interface)
            && !exempt
            && !(gated.granted)(capabilities)
        {
            return Err(LoadError::NotGranted {
                filter: name.to_owned(),
                capability: gated.interface.to_owned(),
                grant: gated.grant.to_owned(),
            });
        }
    }
    Ok(())
}
