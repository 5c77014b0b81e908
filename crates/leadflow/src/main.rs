//! The leadflow command-line program: parses arguments, sets up logging, runs a command.
//!
//! `main` owns the exit policy: 0 on success, 1 when a command ran but found problems,
//! 2 on usage or fatal errors. Errors are printed once, with their cause chain.

mod advise_cmd;
mod automation_cmd;
mod bench;
mod cli;
mod config_cmd;
mod demo;
mod health;
mod import_cmd;
mod portal;
mod properties_cmd;
mod report_cmd;
mod sandbox_cmd;
mod score_cmd;
mod serve_cmd;
mod status_cmd;
mod sync_cmd;
mod workflows_cmd;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_tracing(cli.verbose);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    match runtime.block_on(cli::run(cli)) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn,leadflow=info",
        1 => "info",
        _ => "debug",
    };
    let filter =
        EnvFilter::try_from_env("LEADFLOW_LOG").unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}
