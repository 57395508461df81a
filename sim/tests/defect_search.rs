//! Proof that the property search has teeth: with a known defect planted, a search over a
//! scenario space where the defect is reachable must fail within a bounded number of cases,
//! on the invariant the defect breaks, and shrink to a scenario of at most two faults that
//! replays the same failure from its file and passes once the defect is removed.
//!
//! The proptest RNG seed is fixed, so each search is the same on every run and machine.

use std::path::PathBuf;

use gameday_scenario::load;
use gameday_scenario::swarm::arb_swarm_scenario;
use gameday_sim::PlantedDefect;
use gameday_sim::property::{
    CaseOptions, SearchConfig, SearchOutcome, check_case, defect_space, search, write_failure,
};

/// The search must find the defect within this many generated cases.
const MAX_CASES: u32 = 64;

fn failure_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(&tmp).join("gameday").join("failures")
}

fn finds(defect: PlantedDefect, invariant: &str) {
    let planted = vec![defect];
    let config = SearchConfig {
        cases: MAX_CASES,
        max_shrink_iters: 64,
        rng_seed: Some([7; 32]),
        case: CaseOptions {
            determinism: false,
            planted: planted.clone(),
        },
        persist_from: None,
    };
    let strategy = arb_swarm_scenario(defect_space(defect));
    let (found_after, scenario, failure) = match search(&strategy, &config) {
        SearchOutcome::Failed {
            found_after,
            scenario,
            failure,
        } => (found_after, scenario, failure),
        other => panic!("{defect}: the search did not find the defect in {MAX_CASES} cases: {other:?}"),
    };
    assert!(
        found_after <= MAX_CASES,
        "{defect}: found after {found_after} cases"
    );
    assert!(
        failure.failed_checks.iter().any(|c| c == invariant),
        "{defect}: expected `{invariant}` to fail, got {failure}"
    );
    assert!(
        scenario.faults.len() <= 2,
        "{defect}: shrunk to {} faults: {:?}",
        scenario.faults.len(),
        scenario.faults
    );

    // The written file replays the same failure, to the same trace.
    let written = write_failure(&failure_dir(), &scenario, scenario.seed, &planted, &failure)
        .expect("cannot write the failing scenario");
    assert!(
        written.replay.contains("--engine fast") && written.replay.contains(&format!("--plant {defect}"))
    );
    let back = load(&written.path).expect("the written scenario parses");
    assert_eq!(
        back, scenario,
        "{defect}: the file does not hold the shrunk scenario"
    );
    let again = check_case(&back, &config.case).expect_err("the replayed case passed");
    assert_eq!(
        again.trace_hash, failure.trace_hash,
        "{defect}: the replay took another path"
    );
    assert_eq!(again.failed_checks, failure.failed_checks);

    // Without the defect the same scenario holds: the failure is the defect's doing.
    check_case(&back, &CaseOptions::default())
        .unwrap_or_else(|f| panic!("{defect}: the shrunk scenario fails without the defect: {f}"));
    eprintln!(
        "{defect}: found after {found_after} cases, shrunk to {} faults",
        scenario.faults.len()
    );
}

#[test]
fn finds_a_breaker_that_ignores_its_probe_limit() {
    finds(PlantedDefect::BreakerProbeLimit, "half_open_probe_limit");
}

#[test]
fn finds_retries_without_a_budget() {
    finds(PlantedDefect::NoRetryBudget, "retry_budget_respected");
}

#[test]
fn finds_a_matching_agent_that_is_not_idempotent() {
    finds(PlantedDefect::NonIdempotentMatching, "idempotent_side_effects");
}
