//! `gameday check <FILE|DIR>...`: validate scenario files without running them, and
//! `gameday check --schema`: print the JSON Schema of the format for editors.
//!
//! Every file is checked even after one fails, so a single run lists every broken file.
//! A directory stands for its `*.toml` files (not recursive), in name order.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;

use super::{EXIT_BAD_INPUT, EXIT_OK};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Scenario files, or directories whose `*.toml` files are checked.
    #[arg(value_name = "FILE|DIR", required_unless_present = "schema")]
    pub paths: Vec<PathBuf>,
    /// Print the JSON Schema (draft 2020-12) of the scenario format instead.
    #[arg(long, conflicts_with = "paths")]
    pub schema: bool,
}

pub fn exec(args: Args) -> anyhow::Result<u8> {
    if args.schema {
        let text = serde_json::to_string_pretty(&gameday_scenario::json_schema())?;
        writeln!(std::io::stdout(), "{text}").context("writing the schema")?;
        return Ok(EXIT_OK);
    }
    let mut checked = 0usize;
    let mut invalid = 0usize;
    for path in &args.paths {
        let files = match super::scenario_files(path) {
            Ok(files) => files,
            Err(message) => {
                eprintln!("{}: error: {message}", path.display());
                invalid += 1;
                continue;
            }
        };
        for file in files {
            checked += 1;
            match gameday_scenario::load(&file) {
                Ok(s) => {
                    let n = s.faults.len();
                    let faults = if n == 1 { "fault" } else { "faults" };
                    let duration = gameday_scenario::format_duration(s.duration);
                    println!("ok {}: {} ({n} {faults}, {duration})", file.display(), s.name);
                }
                Err(e) => {
                    eprintln!("{e}\n");
                    invalid += 1;
                }
            }
        }
    }
    if invalid > 0 {
        eprintln!(
            "error: {invalid} of {} scenario inputs are invalid",
            checked.max(invalid)
        );
        return Ok(EXIT_BAD_INPUT);
    }
    Ok(EXIT_OK)
}
