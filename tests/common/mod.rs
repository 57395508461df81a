//! Running the `gameday` binary from end-to-end tests and looking at what it did.
//!
//! Each test file under `tests/` includes this with `mod common;`; not every file uses every
//! helper, hence the `dead_code` allowance.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// The exit code; `None` when the process was killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Fails the test if the process panicked or died from a signal, showing its output.
    #[track_caller]
    pub fn assert_no_panic(&self) -> &Self {
        assert!(self.code.is_some(), "killed by a signal: {self:#?}");
        assert!(
            !self.stderr.contains("panicked"),
            "the binary panicked: {self:#?}"
        );
        self
    }

    /// Fails the test unless the exit code is `code` (and nothing panicked).
    #[track_caller]
    pub fn assert_code(&self, code: i32) -> &Self {
        self.assert_no_panic();
        assert_eq!(self.code, Some(code), "unexpected exit code: {self:#?}");
        self
    }
}

/// Runs `gameday` with `args` from the repository root, so relative paths are the repo's.
pub fn gameday<I, S>(args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = Command::new(env!("CARGO_BIN_EXE_gameday"))
        .args(args)
        .current_dir(repo())
        .env_remove("RUST_LOG")
        .env("RUST_BACKTRACE", "0")
        .output()
        .expect("cannot start the gameday binary");
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fresh, empty scratch directory for one test, under cargo's per-target temp dir.
pub fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("cannot create scratch dir");
    dir
}

/// Writes `text` to `dir/name` and returns the path.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("cannot write test file");
    path
}
