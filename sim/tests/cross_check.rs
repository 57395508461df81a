//! The fast engine answers for the turmoil world: on every catalog scenario both give the
//! same verdict and metrics within the tolerances below (reasoned in `docs/benchmarks.md`,
//! "Property lane speed"). The property lane may then search on the fast engine and trust
//! what it finds to hold in the reference world.
//!
//! The engines differ only in transport (in-process channels against HTTP over simulated
//! TCP with 0.2–0.8 ms per segment and a 1 ms tick), so arrivals, fault timing and agent
//! logic are identical, and differences come from sub-millisecond shifts in when answers
//! land: they move a breaker decision by a call or two, never a trade's arrival.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use gameday_scenario::load;
use gameday_sim::report::Report;
use gameday_sim::{Engine, FastEngine, RunOptions, TurmoilEngine, run_scenario};

/// Matched ratios may differ by this much (largest seen on the catalog: 0.011, retry-storm).
const MATCHED_RATIO_TOLERANCE: f64 = 0.02;
/// MTTD and MTTR may differ by this much (largest seen: 388 ms MTTD, 300 ms MTTR, partition).
const TIMING_TOLERANCE: Duration = Duration::from_secs(1);
/// Amplification may differ by this much (largest seen: 0.004).
const AMPLIFICATION_TOLERANCE: f64 = 0.02;

fn catalog() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/catalog");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("the catalog directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    files
}

fn run(path: &Path, engine: &dyn Engine) -> Report {
    let scenario = load(path).unwrap_or_else(|e| panic!("{e}"));
    run_scenario(&scenario, engine, &RunOptions::default())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .report
}

fn within_ms(a: Option<u64>, b: Option<u64>, tolerance: Duration) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => a.abs_diff(b) <= tolerance.as_millis() as u64,
        _ => false,
    }
}

/// The differences between the two reports that exceed the tolerances.
fn differences(t: &Report, f: &Report) -> Vec<String> {
    let mut out = Vec::new();
    if t.verdict != f.verdict {
        out.push(format!("verdict {} vs {}", t.verdict, f.verdict));
    }
    if t.trades.submitted != f.trades.submitted {
        out.push(format!(
            "submitted {} vs {}",
            t.trades.submitted, f.trades.submitted
        ));
    }
    if (t.trades.lost, t.trades.duplicated) != (f.trades.lost, f.trades.duplicated) {
        out.push("lost or duplicated trades differ".into());
    }
    if (t.matched_ratio - f.matched_ratio).abs() > MATCHED_RATIO_TOLERANCE {
        out.push(format!(
            "matched ratio {:.4} vs {:.4}",
            t.matched_ratio, f.matched_ratio
        ));
    }
    if (t.amplification - f.amplification).abs() > AMPLIFICATION_TOLERANCE {
        out.push(format!(
            "amplification {:.4} vs {:.4}",
            t.amplification, f.amplification
        ));
    }
    if !within_ms(t.mttd_ms, f.mttd_ms, TIMING_TOLERANCE) {
        out.push(format!("MTTD {:?} vs {:?}", t.mttd_ms, f.mttd_ms));
    }
    if !within_ms(t.mttr_ms, f.mttr_ms, TIMING_TOLERANCE) {
        out.push(format!("MTTR {:?} vs {:?}", t.mttr_ms, f.mttr_ms));
    }
    for (name, a) in &t.agents {
        let b = &f.agents[name];
        if a.breaker_opens != b.breaker_opens {
            out.push(format!(
                "{name} breaker opens {} vs {}",
                a.breaker_opens, b.breaker_opens
            ));
        }
    }
    let failed = |r: &Report| -> Vec<String> {
        r.invariants
            .iter()
            .chain(&r.expectations)
            .filter(|c| !c.pass)
            .map(|c| c.name.clone())
            .collect()
    };
    if failed(t) != failed(f) {
        out.push(format!("failed checks {:?} vs {:?}", failed(t), failed(f)));
    }
    out
}

#[test]
fn both_engines_agree_on_the_catalog() {
    let files = catalog();
    assert!(files.len() >= 12);
    // The turmoil runs dominate: share them between two threads (CI has two cores).
    let next = Mutex::new(0usize);
    let found = Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                loop {
                    let i = {
                        let mut n = next.lock().unwrap();
                        *n += 1;
                        *n - 1
                    };
                    let Some(path) = files.get(i) else { break };
                    let t = run(path, &TurmoilEngine::default());
                    let f = run(path, &FastEngine);
                    let d = differences(&t, &f);
                    found.lock().unwrap().push((i, path.clone(), d));
                }
            });
        }
    });
    let mut found = found.into_inner().unwrap();
    found.sort_by_key(|(i, _, _)| *i);
    let bad: Vec<String> = found
        .iter()
        .filter(|(_, _, d)| !d.is_empty())
        .map(|(_, p, d)| format!("{}: {}", p.display(), d.join("; ")))
        .collect();
    assert_eq!(found.len(), files.len());
    assert!(bad.is_empty(), "the engines disagree:\n{}", bad.join("\n"));
}
