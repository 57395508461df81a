//! The `gameday` command line: parses arguments, calls the libraries, maps errors to exit codes.

use std::process::ExitCode;

use clap::Parser;

/// Rehearse the failure of an HTTP agent orchestrator before it happens.
#[derive(Debug, Parser)]
#[command(name = "gameday", version, about, long_about = None)]
struct Cli {}

fn main() -> ExitCode {
    let _cli = Cli::parse();
    ExitCode::SUCCESS
}
