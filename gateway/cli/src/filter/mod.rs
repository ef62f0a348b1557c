//! `weir filter ...`: tools for writing filters: scaffold a project, build
//! it, test it against request fixtures (docs/filter-cli.md).

// Shared with `weir handler` (crate::handler).
pub(crate) mod builder;
pub(crate) mod compare;
pub(crate) mod fixture;
mod runner;
pub(crate) mod scaffold;
pub(crate) mod target;
mod test;

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use clap::{Args, Subcommand};

#[derive(Subcommand)]
pub enum FilterCommand {
    /// Create a filter project: the filter (a header setter), a build
    /// script, a README, request fixtures, a weir config and the WIT.
    New {
        /// The project's directory; its last part names the filter.
        name: PathBuf,
        #[arg(long, value_enum)]
        lang: scaffold::Lang,
        /// The language's SDK in a checkout of weir (default: the one this
        /// weir was built from, e.g. <repo>/filters/sdk for Rust).
        #[arg(long)]
        sdk_path: Option<PathBuf>,
    },
    /// Build the filter project in the current directory (or --dir) into
    /// build/<name>.wasm.
    Build {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Run a filter, or a route's chain, against request fixtures: no
    /// network, no upstream (the fixture gives the upstream's response).
    Test(TestArgs),
}

#[derive(Args)]
pub struct TestArgs {
    /// The fixture file (YAML, or JSON when it ends in .json).
    #[arg(default_value = "fixtures.yaml")]
    pub fixtures: PathBuf,
    /// The filter component to test (default: the fixture file's `filter`).
    #[arg(long, conflicts_with = "route")]
    pub module: Option<PathBuf>,
    /// With --module: the filter's config, as JSON or @FILE. With --route:
    /// the weir config file.
    #[arg(short, long)]
    pub config: Option<String>,
    /// Test this route's whole chain (global chain first) from the weir
    /// config given with --config.
    #[arg(long, requires = "config")]
    pub route: Option<String>,
    /// With --module: grant a key-value store of this name (in memory,
    /// empty at each case). Repeat for several.
    #[arg(long = "kv", value_name = "STORE")]
    pub kv: Vec<String>,
    /// With --module: grant a secret. Repeat for several.
    #[arg(long = "secret", value_name = "NAME=VALUE", value_parser = key_value)]
    pub secrets: Vec<(String, String)>,
    /// Keep compiled components here across runs (default with --route: the
    /// config's `server.cache_dir`).
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Replace `${NAME}` in the fixture file by VALUE. Repeat for several.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = key_value)]
    pub vars: Vec<(String, String)>,
}

pub(crate) fn key_value(arg: &str) -> Result<(String, String), String> {
    arg.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected NAME=VALUE, got {arg:?}"))
}

/// Runs the command; false when it failed in a way the exit code reports.
pub fn run(command: FilterCommand) -> anyhow::Result<bool> {
    match command {
        FilterCommand::New {
            name,
            lang,
            sdk_path,
        } => {
            scaffold::new(&name, scaffold::Kind::Filter, lang, sdk_path.as_deref())?;
            Ok(true)
        }
        FilterCommand::Build { dir } => {
            builder::build(&dir, scaffold::Kind::Filter)?;
            Ok(true)
        }
        FilterCommand::Test(args) => {
            let vars: BTreeMap<String, String> = args.vars.iter().cloned().collect();
            let file = fixture::load(&args.fixtures, &vars)?;
            let target = match (&args.module, &args.route, &file.filter) {
                (Some(module), None, _) => target::Target::module(
                    module,
                    target::filter_config(args.config.as_deref())?,
                    args.kv.clone(),
                    args.secrets.clone(),
                )?,
                (None, Some(route), _) => {
                    if !args.kv.is_empty() || !args.secrets.is_empty() {
                        bail!(
                            "--kv and --secret go with --module; a route's filters have their grants in the config"
                        );
                    }
                    let config = args.config.as_deref().context("--route needs --config")?;
                    target::Target::route(config.as_ref(), route)?
                }
                (None, None, Some(filter)) => target::Target::module(
                    &filter.module,
                    filter
                        .config
                        .as_ref()
                        .map_or_else(String::new, |config| config.to_string()),
                    filter.kv.clone(),
                    filter.secrets.clone().into_iter().collect(),
                )?,
                _ => bail!(
                    "name the filter: --module X.wasm, --config weir.yaml --route NAME, or a `filter` section in {}",
                    args.fixtures.display()
                ),
            };
            let cache_dir = args.cache_dir.or_else(|| target.cache_dir.clone());
            test::run(&target, &file, &args.fixtures, cache_dir)
        }
    }
}
