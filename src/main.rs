//! The `gameday` command line: parses arguments, calls the libraries, maps errors to exit codes.
//!
//! One file per subcommand under `commands/`, each with its `Args` and an `exec` that returns
//! the exit status. Exit codes: 0 every expectation held, 1 an expectation or invariant failed,
//! 2 bad input or usage.

mod commands;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Rehearse the failure of an HTTP agent orchestrator before it happens.
#[derive(Debug, Parser)]
#[command(name = "gameday", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate scenarios and report on each (exit 1 if an expectation or invariant failed).
    Run(commands::run::Args),
    /// Validate scenario files without running them (exit 2 if any is invalid),
    /// or print the format's JSON Schema with --schema.
    Check(commands::check::Args),
    /// Run scenarios over many seeds on every core and summarise them (exit 1 if any run
    /// failed); shard a sweep over machines with --shard and combine results with --merge.
    Sweep(commands::sweep::Args),
    /// Render, check, run and watch the scenario as an AWS FIS experiment.
    Fis(commands::fis::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                commands::EXIT_BAD_INPUT
            } else {
                0
            };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let result: anyhow::Result<u8> = match cli.command {
        Command::Run(args) => commands::run::exec(args),
        Command::Check(args) => commands::check::exec(args),
        Command::Sweep(args) => commands::sweep::exec(args),
        Command::Fis(args) => commands::fis::exec(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(commands::EXIT_BAD_INPUT)
        }
    }
}
