//! `weir`: run the gateway, check a config file, write and test filters
//! and handlers.

mod check;
mod filter;
mod handler;
mod logging;
mod run;

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

/// Request handling allocates and frees many small buffers (headers, views,
/// futures); mimalloc's per-thread free lists do that with less CPU than glibc.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "weir",
    version,
    about = "A programmable API gateway: Pingora proxy, WebAssembly filter chains"
)]
struct Cli {
    /// Log filter (e.g. `info`, `weir=debug`); overrides RUST_LOG.
    #[arg(long, global = true)]
    log_level: Option<String>,
    /// Log line format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the gateway with a config file.
    Run {
        #[arg(short, long)]
        config: PathBuf,
        /// Zero-downtime restart: check the config, then take the listening
        /// sockets over from the running weir (see docs/operations.md).
        #[arg(long)]
        upgrade: bool,
        /// Write this process's pid here once it serves. With --upgrade, the
        /// weir whose pid is there is told to hand over (SIGQUIT) first.
        #[arg(long)]
        pid_file: Option<PathBuf>,
    },
    /// Check a config file (including each filter's `init`) and list every error.
    Check {
        #[arg(short, long)]
        config: PathBuf,
        /// Output format of the result.
        #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
        format: OutputFormat,
    },
    /// Print the JSON Schema of the config file format.
    Schema,
    /// Write, build and test filters.
    #[command(subcommand)]
    Filter(filter::FilterCommand),
    /// Write, build and test handlers (`wasi:http` components answering routes).
    #[command(subcommand)]
    Handler(handler::HandlerCommand),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
pub enum OutputFormat {
    Text,
    Json,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    logging::init(cli.log_level.as_deref(), cli.log_format)?;
    match cli.command {
        Command::Run {
            config,
            upgrade,
            pid_file,
        } => run::run(&config, run::Lifecycle { upgrade, pid_file }),
        Command::Check { config, format } => {
            let ok = check::check(&config, format)?;
            std::process::exit(if ok { 0 } else { 1 });
        }
        Command::Filter(command) => {
            let ok = filter::run(command)?;
            std::process::exit(if ok { 0 } else { 1 });
        }
        Command::Handler(command) => {
            let ok = handler::run(command)?;
            std::process::exit(if ok { 0 } else { 1 });
        }
        Command::Schema => {
            println!(
                "{}",
                serde_json::to_string_pretty(&weir_config::json_schema())?
            );
            Ok(())
        }
    }
}
