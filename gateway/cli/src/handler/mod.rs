//! `weir handler ...`: tools for writing handlers (`wasi:http/proxy`
//! components that answer a route): scaffold a project, build it, test it
//! against request fixtures (docs/handler-cli.md). Scaffolding, building and
//! the comparison of responses are the filter tools' (`crate::filter`).

mod fixture;
mod test;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, Subcommand, ValueEnum};

use crate::filter::scaffold::{Kind, Lang};
use crate::filter::{builder, key_value, scaffold};

#[derive(Subcommand)]
pub enum HandlerCommand {
    /// Create a handler project: the handler (a greeting), a build script,
    /// a README, request fixtures and a weir config.
    New {
        /// The project's directory; its last part names the handler.
        name: PathBuf,
        #[arg(long, value_enum)]
        lang: HandlerLang,
        /// weir's handler build scripts in a checkout of weir (default: the
        /// ones of the weir this was built from, <repo>/filters/handler-build).
        #[arg(long)]
        sdk_path: Option<PathBuf>,
    },
    /// Build the handler project in the current directory (or --dir) into
    /// build/<name>.wasm.
    Build {
        #[arg(long, default_value = ".")]
        dir: PathBuf,
    },
    /// Run a handler against request fixtures, in this process: no network.
    Test(TestArgs),
}

/// The languages with a handler template.
#[derive(Clone, Copy, ValueEnum)]
pub enum HandlerLang {
    Rust,
    Js,
    Python,
    Go,
}

impl From<HandlerLang> for Lang {
    fn from(lang: HandlerLang) -> Lang {
        match lang {
            HandlerLang::Rust => Lang::Rust,
            HandlerLang::Js => Lang::Js,
            HandlerLang::Python => Lang::Python,
            HandlerLang::Go => Lang::Go,
        }
    }
}

#[derive(Args)]
pub struct TestArgs {
    /// The fixture file (YAML, or JSON when it ends in .json).
    #[arg(default_value = "fixtures.yaml")]
    pub fixtures: PathBuf,
    /// The handler component to test (default: the fixture file's
    /// `handler.module`).
    #[arg(long)]
    pub module: Option<PathBuf>,
    /// An environment variable for the handler, over the fixture file's
    /// `handler.env` (a case's `env` still wins). Repeat for several.
    #[arg(long = "env", value_name = "NAME=VALUE", value_parser = key_value)]
    pub env: Vec<(String, String)>,
    /// Time the handler has to answer with a response head (as the
    /// config's `limits.deadline`).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "30s")]
    pub deadline: Duration,
    /// Keep compiled components here across runs.
    #[arg(long)]
    pub cache_dir: Option<PathBuf>,
    /// Replace `${NAME}` in the fixture file by VALUE. Repeat for several.
    #[arg(long = "var", value_name = "NAME=VALUE", value_parser = key_value)]
    pub vars: Vec<(String, String)>,
}

/// Runs the command; false when it failed in a way the exit code reports.
pub fn run(command: HandlerCommand) -> anyhow::Result<bool> {
    match command {
        HandlerCommand::New {
            name,
            lang,
            sdk_path,
        } => {
            scaffold::new(&name, Kind::Handler, lang.into(), sdk_path.as_deref())?;
            Ok(true)
        }
        HandlerCommand::Build { dir } => {
            builder::build(&dir, Kind::Handler)?;
            Ok(true)
        }
        HandlerCommand::Test(args) => {
            let vars: BTreeMap<String, String> = args.vars.into_iter().collect();
            let file = fixture::load(&args.fixtures, &vars)?;
            let under_test = file.handler.as_ref();
            let module = match (args.module, under_test.and_then(|h| h.module.clone())) {
                (Some(module), _) | (None, Some(module)) => module,
                (None, None) => bail!(
                    "name the handler: --module X.wasm, or `handler: {{ module: X.wasm }}` in {}",
                    args.fixtures.display()
                ),
            };
            let mut env = under_test.map(|h| h.env.clone()).unwrap_or_default();
            env.extend(args.env);
            let limits = test::limits(args.deadline);
            let name = module
                .file_stem()
                .and_then(|s| s.to_str())
                .context("the module's file has no name")?
                .to_owned();
            let target = test::Target {
                name,
                module,
                env,
                limits,
            };
            test::run(&target, &file, &args.fixtures, args.cache_dir)
        }
    }
}
