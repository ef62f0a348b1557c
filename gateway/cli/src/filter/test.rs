//! `weir filter test`: every case of a fixture file through a filter or a
//! route's chain, without network or upstream; a readable diff per failed
//! case.

use std::path::{Path, PathBuf};

use weir_wasm::{HostOptions, WasmHost};

use super::compare::{Tally, compare};
use super::fixture::FixtureFile;
use super::runner;
use super::target::Target;

/// Runs every case; true when all passed.
pub fn run(
    target: &Target,
    file: &FixtureFile,
    fixtures: &Path,
    cache_dir: Option<PathBuf>,
) -> anyhow::Result<bool> {
    for module in target.outbound_users() {
        println!(
            "note: {} may make outbound HTTP requests; weir filter test has no network, so each is refused (the filter sees `denied`)",
            module.display()
        );
    }
    let host = WasmHost::new(HostOptions {
        cache_dir,
        ..HostOptions::default()
    })?;
    // A filter that does not load fails every case the same way: say it once.
    host.block_on(target.load(&host))?;
    let mut tally = Tally::default();
    for (index, case) in file.cases.iter().enumerate() {
        let request_id = format!("test-{}", index + 1);
        let outcome = host.block_on(async {
            let loaded = target.load(&host).await?;
            runner::run(&loaded, case, &request_id).await
        });
        tally.case(&case.name, outcome.map(|seen| compare(&case.expect, &seen)));
    }
    Ok(tally.finish(fixtures))
}
