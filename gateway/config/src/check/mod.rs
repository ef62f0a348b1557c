//! From the file's items to the validated [`Config`]: defaults, value checks,
//! cross references and route order. Every problem is collected; a config
//! with any error is refused as a whole. One submodule per section, named as
//! in `schema/` and `model/`; this one only runs them in order.

use std::path::Path;

use crate::error::ConfigError;
use crate::model::Config;
use crate::parse::Document;

mod access_log;
mod admin;
mod checker;
mod filters;
mod grants;
mod handlers;
mod key_value;
mod listeners;
mod routes;
mod secrets;
mod server;
mod tls;
mod tracing;
mod upstreams;

use checker::Checker;

pub fn check(
    doc: &Document,
    base_dir: &Path,
    mut errors: Vec<ConfigError>,
) -> Result<Config, Vec<ConfigError>> {
    let mut c = Checker {
        doc,
        base_dir,
        errors: Vec::new(),
        warnings: Vec::new(),
    };
    let server = server::server(&mut c);
    let listeners = listeners::listeners(&mut c, server.certificate_expiry_warning);
    let upstreams = upstreams::upstreams(&mut c);
    let key_value = key_value::key_value(&mut c);
    let secrets = secrets::secrets(&mut c);
    let filters = filters::filters(&mut c);
    let global_chain = filters::global_filters(&mut c);
    let handlers = handlers::handlers(&mut c);
    let routes = routes::routes(&mut c);
    let admin = admin::admin(&mut c);
    let access_log = access_log::access_log(&mut c);
    let tracing = tracing::tracing(&mut c);

    errors.append(&mut c.errors);
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
        return Err(errors);
    }
    let mut warnings = c.warnings;
    warnings.sort_by_key(|e| e.line.unwrap_or(usize::MAX));
    Ok(Config {
        warnings,
        server,
        listeners,
        upstreams,
        filters,
        global_chain,
        handlers,
        routes,
        admin,
        key_value,
        secrets,
        access_log,
        tracing,
    })
}
