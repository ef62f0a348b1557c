//! Checks of the `server` section.

use std::path::PathBuf;
use std::time::Duration;

use super::checker::Checker;
use crate::model::ServerSettings;
use crate::parse::ConfigPath;
use crate::schema::Section;

pub(super) fn server(c: &mut Checker) -> ServerSettings {
    let path = ConfigPath::section(Section::Server);
    let file = c.doc.server.as_ref();
    let threads = file
        .and_then(|s| s.threads)
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    c.at_least_one(&path.key("threads"), threads as u64);
    let max_filter_instances = file.and_then(|s| s.max_filter_instances).unwrap_or(1000);
    c.at_least_one(
        &path.key("max_filter_instances"),
        max_filter_instances.into(),
    );
    ServerSettings {
        threads: threads.max(1),
        grace_period: file
            .and_then(|s| s.grace_period)
            .map_or(Duration::from_secs(5), |d| d.0),
        work_stealing: file.and_then(|s| s.work_stealing).unwrap_or(true),
        upstream_keepalive_pool_size: file
            .and_then(|s| s.upstream_keepalive_pool_size)
            .unwrap_or(128),
        cache_dir: file
            .and_then(|s| s.cache_dir.as_deref())
            .map(|d| c.resolve(d)),
        max_filter_instances: max_filter_instances.max(1),
        certificate_expiry_warning: file
            .and_then(|s| s.certificate_expiry_warning)
            .map_or(Duration::from_secs(30 * 86_400), |d| d.0),
        upgrade_socket: file
            .and_then(|s| s.upgrade_socket.as_deref())
            .map_or_else(|| PathBuf::from("/tmp/weir-upgrade.sock"), |p| c.resolve(p)),
    }
}
