//! How a sweep scales with cores: the catalog over 8 seeds on the fast engine, with 1 and
//! with 2 jobs, interleaved over a few rounds (best wall time of each kept, so a burst of
//! load from other processes hurts neither side more). Checks both give the identical
//! result and prints the ratio of wall times.
//!
//! `cargo run --release -p gameday-sim --example sweep_scaling [-- SEEDS [ROUNDS]]`

use std::path::Path;
use std::time::{Duration, Instant};

use gameday_sim::FastEngine;
use gameday_sim::sweep::{Shard, SweepPlan, SweepResult, SweepScenario, run_sweep};

fn main() {
    let mut args = std::env::args().skip(1);
    let seeds: u64 = args
        .next()
        .map(|a| a.parse().expect("SEEDS is a number"))
        .unwrap_or(8);
    let rounds: u32 = args
        .next()
        .map(|a| a.parse().expect("ROUNDS is a number"))
        .unwrap_or(3);
    let catalog = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/catalog");
    let mut files: Vec<_> = std::fs::read_dir(&catalog)
        .expect("the catalog directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let scenarios: Vec<SweepScenario> = files
        .iter()
        .map(|f| SweepScenario {
            scenario: gameday_scenario::load(f).unwrap_or_else(|e| panic!("{e}")),
            file: Some(format!(
                "scenarios/catalog/{}",
                f.file_name().unwrap().to_string_lossy()
            )),
        })
        .collect();
    let plan = SweepPlan {
        seeds,
        first_seed: None,
        shard: Shard::ALL,
    };
    let time = |jobs: usize| -> (Duration, SweepResult) {
        let start = Instant::now();
        let r = run_sweep(&scenarios, &FastEngine, &plan, jobs, &|_| {}).expect("the catalog sweeps");
        (start.elapsed(), r)
    };
    println!(
        "sweep: {} scenarios x {seeds} seeds, fast engine, {rounds} rounds",
        scenarios.len()
    );
    let (mut best1, mut best2) = (Duration::MAX, Duration::MAX);
    let mut reference: Option<String> = None;
    for round in 1..=rounds {
        for jobs in [1, 2] {
            let (t, r) = time(jobs);
            let json = r.to_json();
            match &reference {
                None => reference = Some(json),
                Some(first) => assert_eq!(first, &json, "the result changed with --jobs {jobs}"),
            }
            if jobs == 1 {
                best1 = best1.min(t)
            } else {
                best2 = best2.min(t)
            }
            println!(
                "round {round}, jobs {jobs}: {:.2} s ({} runs, {} failed)",
                t.as_secs_f64(),
                r.runs(),
                r.failed()
            );
        }
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "best: jobs 1 {:.2} s, jobs 2 {:.2} s, ratio {:.2}",
        best1.as_secs_f64(),
        best2.as_secs_f64(),
        best2.as_secs_f64() / best1.as_secs_f64()
    );
    println!(
        "results identical for 1 and 2 jobs; load average now: {}",
        load.split_whitespace().take(3).collect::<Vec<_>>().join(" ")
    );
}
