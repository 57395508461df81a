//! How many generated cases the property lane judges per minute: ten-minute swarm scenarios
//! at 1 ms resolution, checked for safety and liveness on the fast engine over two threads,
//! and, for comparison, a few of the same scenarios on the turmoil engine.
//!
//! `cargo run --release -p gameday-sim --example cases_per_minute -- [FAST_CASES] [TURMOIL_CASES]`
//! (defaults 200 and 4). Wall time is measured with the real clock: this is a benchmark of
//! the simulator, not part of it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use gameday_scenario::Scenario;
use gameday_scenario::swarm::{SwarmConfig, arb_swarm_scenario};
use gameday_sim::property::{CaseOptions, check_case};
use gameday_sim::{RunOptions, TurmoilEngine, run_scenario};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::{Config, RngAlgorithm, TestRng, TestRunner};

const THREADS: usize = 2;

/// The same scenarios on every run: a fixed proptest seed.
fn scenarios(n: usize) -> Vec<Scenario> {
    let rng = TestRng::from_seed(RngAlgorithm::ChaCha, &[3; 32]);
    let mut runner = TestRunner::new_with_rng(Config::default(), rng);
    let strategy = arb_swarm_scenario(SwarmConfig::ten_minutes());
    (0..n)
        .map(|_| strategy.new_tree(&mut runner).expect("a scenario").current())
        .collect()
}

/// Runs `f` on every scenario over `THREADS` threads; returns wall time, simulated time and
/// how many cases failed a property.
fn over_threads(
    cases: &[Scenario],
    f: impl Fn(&Scenario) -> (Duration, bool) + Sync,
) -> (Duration, Duration, usize) {
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    let results: Vec<(Duration, bool)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    let mut out = Vec::new();
                    while let Some(c) = cases.get(next.fetch_add(1, Ordering::Relaxed)) {
                        out.push(f(c));
                    }
                    out
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().expect("a worker"))
            .collect()
    });
    let wall = start.elapsed();
    let simulated = results.iter().map(|(d, _)| *d).sum();
    let failed = results.iter().filter(|(_, ok)| !ok).count();
    (wall, simulated, failed)
}

fn report(engine: &str, n: usize, (wall, simulated, failed): (Duration, Duration, usize)) {
    let per_minute = n as f64 / wall.as_secs_f64() * 60.0;
    let speed = simulated.as_secs_f64() / wall.as_secs_f64();
    println!(
        "{engine:>8}: {n} cases in {:.1} s wall on {THREADS} threads: {per_minute:.0} cases/min, \
         {speed:.0}x real time overall ({:.0}x per thread), {failed} failed a property",
        wall.as_secs_f64(),
        speed / THREADS as f64
    );
}

fn main() {
    let mut args = std::env::args()
        .skip(1)
        .map(|a| a.parse::<usize>().expect("a case count"));
    let fast_cases = args.next().unwrap_or(200);
    let turmoil_cases = args.next().unwrap_or(4);
    let cases = scenarios(fast_cases.max(turmoil_cases));
    let faults: usize = cases.iter().map(|c| c.faults.len()).sum();
    println!(
        "{} ten-minute swarm scenarios, {:.1} faults each on average, 1 ms resolution",
        cases.len(),
        faults as f64 / cases.len().max(1) as f64
    );

    let fast = over_threads(&cases[..fast_cases], |s| {
        match check_case(s, &CaseOptions::default()) {
            Ok(out) => (Duration::from_millis(out.report.simulated_ms), true),
            Err(f) => {
                eprintln!("case seed {} failed: {f}", s.seed);
                (s.duration, false)
            }
        }
    });
    report("fast", fast_cases, fast);

    if turmoil_cases > 0 {
        let turmoil = over_threads(&cases[..turmoil_cases], |s| {
            let out =
                run_scenario(s, &TurmoilEngine::default(), &RunOptions::default()).expect("a turmoil run");
            let ok = out.verdict.invariants.iter().all(|c| c.pass);
            (Duration::from_millis(out.report.simulated_ms), ok)
        });
        report("turmoil", turmoil_cases, turmoil);
    }
}
