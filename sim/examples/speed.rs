//! Simulation speed: the baseline scenario in gameday's turmoil world and in its fast engine,
//! next to a bare turmoil world of the same shape (five hosts, HTTP, no orchestrator logic),
//! all at 1 ms resolution, in one run.
//!
//! `cargo run --release -p gameday-sim --example speed [-- SCENARIO]`

use std::path::PathBuf;
use std::time::{Duration, Instant};

use gameday_sim::bare::run_bare;
use gameday_sim::{FastEngine, RunOptions, TurmoilEngine, run_scenario};

fn main() {
    let path = std::env::args().nth(1).map(PathBuf::from).unwrap_or_else(|| {
        PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../scenarios/catalog/01-baseline.toml"
        ))
    });
    let scenario = match gameday_scenario::load(&path) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("{e}");
            std::process::exit(2);
        }
    };
    let options = RunOptions::default();
    let rounds = 3;
    let mut bare = Vec::new();
    let mut turmoil = Vec::new();
    let mut fast = Vec::new();
    let mut simulated = Duration::ZERO;
    // Interleave the three so that load from elsewhere on the machine hits them alike.
    for _ in 0..rounds {
        let t = Instant::now();
        let out = run_scenario(&scenario, &TurmoilEngine::default(), &options).expect("the world runs");
        turmoil.push(t.elapsed());
        simulated = Duration::from_millis(out.report.simulated_ms);

        let t = Instant::now();
        let done = run_bare(
            scenario.seed,
            scenario.workload.rate,
            scenario.duration,
            Duration::from_millis(1),
        );
        bare.push(t.elapsed());
        assert!(done > 0, "the bare world completed no trade");

        let t = Instant::now();
        run_scenario(&scenario, &FastEngine, &options).expect("the world runs");
        fast.push(t.elapsed());
    }
    let best = |v: &[Duration]| *v.iter().min().expect("rounds ran");
    let bare_sim = scenario.duration + Duration::from_secs(2);
    let speed = |sim: Duration, wall: Duration| sim.as_secs_f64() / wall.as_secs_f64();
    println!(
        "scenario: {} ({} simulated, {} trades/s), best of {rounds}",
        scenario.name,
        gameday_scenario::format_duration(scenario.duration),
        scenario.workload.rate
    );
    println!("| world | wall | simulated | sim s / wall s |");
    println!("|---|---:|---:|---:|");
    println!(
        "| bare turmoil, 5 hosts, HTTP | {:.2} s | {:.0} s | {:.0}× |",
        best(&bare).as_secs_f64(),
        bare_sim.as_secs_f64(),
        speed(bare_sim, best(&bare))
    );
    println!(
        "| gameday, turmoil engine | {:.2} s | {:.0} s | {:.0}× |",
        best(&turmoil).as_secs_f64(),
        simulated.as_secs_f64(),
        speed(simulated, best(&turmoil))
    );
    println!(
        "| gameday, fast engine | {:.3} s | {:.0} s | {:.0}× |",
        best(&fast).as_secs_f64(),
        simulated.as_secs_f64(),
        speed(simulated, best(&fast))
    );
    let overhead = speed(bare_sim, best(&bare)) / speed(simulated, best(&turmoil));
    println!("gameday overhead over bare turmoil (time per simulated second): {overhead:.2}×");
}
