//! `gameday check <FILE|DIR>...`: validate scenario files without running them, and
//! `gameday check --schema`: print the JSON Schema of the format for editors.
//!
//! Every file is checked even after one fails, so a single run lists every broken file.
//! A directory stands for its `*.toml` files (not recursive), in name order.

use std::io::Write as _;
use std::path::{Path, PathBuf};

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
        let files = match files(path) {
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

/// The files a command-line path stands for: itself, or a directory's `*.toml` in name order.
fn files(path: &Path) -> Result<Vec<PathBuf>, String> {
    if !path.is_dir() {
        return Ok(vec![path.to_path_buf()]);
    }
    let entries = std::fs::read_dir(path).map_err(|e| format!("cannot read the directory: {e}"))?;
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("cannot read the directory: {e}"))?;
        let file = entry.path();
        if file.extension().is_some_and(|x| x == "toml") && file.is_file() {
            files.push(file);
        }
    }
    if files.is_empty() {
        return Err("no scenario files (*.toml) in this directory".into());
    }
    files.sort();
    Ok(files)
}
