//! One module per subcommand.

use std::path::{Path, PathBuf};

pub mod check;
pub mod fis;
pub mod run;
pub mod sweep;

/// Every expectation and invariant held.
pub const EXIT_OK: u8 = 0;
/// An expectation or invariant failed.
pub const EXIT_FAILED: u8 = 1;
/// Bad input or usage.
pub const EXIT_BAD_INPUT: u8 = 2;

/// The files a command-line path stands for: itself, or a directory's `*.toml` in name order.
pub fn scenario_files(path: &Path) -> Result<Vec<PathBuf>, String> {
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
