//! Scenarios that must always pass on the fast engine, twice with the same trace: the
//! shipped catalog, and every shrunk failure kept in `scenarios/regressions/` once its
//! cause was fixed.

use std::path::{Path, PathBuf};

use gameday_scenario::load;
use gameday_sim::{FastEngine, RunOptions, run_scenario};

fn scenario_files(dir: &str) -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(dir);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

/// Runs every file; returns one line per failure.
fn failures(files: &[PathBuf]) -> Vec<String> {
    let mut out = Vec::new();
    for path in files {
        let scenario = match load(path) {
            Ok(s) => s,
            Err(e) => {
                out.push(format!("{}: {e}", path.display()));
                continue;
            }
        };
        let options = RunOptions {
            file: Some(path.display().to_string()),
            ..RunOptions::default()
        };
        match run_scenario(&scenario, &FastEngine, &options) {
            Ok(run) if run.verdict.pass() => {
                // And the same trace again: some of these were determinism failures.
                match run_scenario(&scenario, &FastEngine, &options) {
                    Ok(again) if again.report.trace_hash == run.report.trace_hash => {}
                    Ok(again) => out.push(format!(
                        "{}: trace {} then {}",
                        path.display(),
                        run.report.trace_hash,
                        again.report.trace_hash
                    )),
                    Err(e) => out.push(format!("{}: {e}", path.display())),
                }
            }
            Ok(run) => {
                let failed: Vec<String> = run
                    .verdict
                    .invariants
                    .iter()
                    .chain(&run.verdict.expectations)
                    .filter(|c| !c.pass)
                    .map(|c| format!("{} (observed {})", c.name, c.observed))
                    .collect();
                out.push(format!(
                    "{}: {}; replay: {}",
                    path.display(),
                    failed.join(", "),
                    run.report.replay
                ));
            }
            Err(e) => out.push(format!("{}: {e}", path.display())),
        }
    }
    out
}

#[test]
fn every_kept_regression_passes() {
    let files = scenario_files("scenarios/regressions");
    assert!(!files.is_empty(), "scenarios/regressions holds no scenario");
    let failed = failures(&files);
    assert!(failed.is_empty(), "regressions failed:\n{}", failed.join("\n"));
}

#[test]
fn the_catalog_passes_on_the_fast_engine() {
    let files = scenario_files("scenarios/catalog");
    assert!(files.len() >= 12, "the catalog shrank to {} files", files.len());
    let failed = failures(&files);
    assert!(
        failed.is_empty(),
        "catalog scenarios failed on the fast engine:\n{}",
        failed.join("\n")
    );
}
