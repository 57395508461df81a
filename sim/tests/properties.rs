//! The property lane under `cargo test`: generated swarm scenarios under the default policy,
//! run on the fast engine, must keep every invariant (safety), return to steady state after
//! the last fault (liveness) and give the same trace twice (determinism).
//!
//! A failure is shrunk, written under `target/gameday/failures/` with its replay command,
//! and its proptest seed kept in `proptest-regressions/` so the next run tries it first.
//! `GAMEDAY_PROPTEST_CASES` raises the case counts for long searches.

use std::path::PathBuf;

use gameday_scenario::strategy::proptest_cases;
use gameday_scenario::swarm::{SwarmConfig, arb_swarm_scenario};
use gameday_sim::property::{CaseOptions, SearchConfig, SearchOutcome, search, search_seed, write_failure};

fn failure_dir() -> PathBuf {
    let tmp = PathBuf::from(env!("CARGO_TARGET_TMPDIR"));
    tmp.parent().unwrap_or(&tmp).join("gameday").join("failures")
}

/// Runs a search and fails the test with the replay command if a case fails.
fn expect_no_failure(config: SearchConfig) {
    let strategy = arb_swarm_scenario(SwarmConfig::default());
    match search(&strategy, &config) {
        SearchOutcome::Passed { cases } => assert!(cases >= config.cases, "only {cases} cases ran"),
        SearchOutcome::Failed {
            found_after,
            scenario,
            failure,
        } => {
            let written = write_failure(
                &failure_dir(),
                &scenario,
                scenario.seed,
                &config.case.planted,
                &failure,
            )
            .expect("cannot write the failing scenario");
            panic!(
                "case {found_after} failed: {failure}\nshrunk scenario: {}\nreplay: {}",
                written.path.display(),
                written.replay
            );
        }
        SearchOutcome::Aborted(why) => panic!("the search gave up: {why}"),
    }
}

#[test]
fn safety_and_liveness_hold_for_generated_fault_schedules() {
    expect_no_failure(SearchConfig {
        cases: proptest_cases(48),
        rng_seed: search_seed(),
        persist_from: Some(file!()),
        ..SearchConfig::default()
    });
}

#[test]
fn the_same_case_gives_the_same_trace() {
    expect_no_failure(SearchConfig {
        cases: proptest_cases(12),
        rng_seed: search_seed(),
        case: CaseOptions {
            determinism: true,
            ..CaseOptions::default()
        },
        persist_from: Some(file!()),
        ..SearchConfig::default()
    });
}
