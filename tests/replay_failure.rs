//! A failure found by the property search replays from the command it prints: plant a
//! defect, let the search fail and shrink, write the case, then run the printed
//! `gameday run … --seed N --engine fast --plant …` and get the same failure and trace hash.

mod common;

use gameday_scenario::swarm::arb_swarm_scenario;
use gameday_sim::PlantedDefect;
use gameday_sim::property::{CaseOptions, SearchConfig, SearchOutcome, defect_space, search, write_failure};

#[test]
fn the_printed_replay_command_reproduces_the_failure() {
    let defect = PlantedDefect::NonIdempotentMatching;
    let config = SearchConfig {
        cases: 64,
        max_shrink_iters: 64,
        rng_seed: Some([11; 32]),
        case: CaseOptions {
            determinism: false,
            planted: vec![defect],
        },
        persist_from: None,
    };
    let (scenario, failure) = match search(&arb_swarm_scenario(defect_space(defect)), &config) {
        SearchOutcome::Failed {
            scenario, failure, ..
        } => (scenario, failure),
        other => panic!("the search did not find the planted defect: {other:?}"),
    };
    let dir = common::scratch("replay_failure");
    let written = write_failure(&dir, &scenario, scenario.seed, &config.case.planted, &failure)
        .expect("cannot write the failing scenario");
    let header = std::fs::read_to_string(&written.path).unwrap();
    assert!(
        header.contains(&format!("# replay: {}", written.replay)),
        "{header}"
    );

    let mut words = written.replay.split_whitespace();
    assert_eq!(words.next(), Some("gameday"));
    let mut args: Vec<String> = words.map(String::from).collect();
    args.push("--json".into());
    let run = common::gameday(&args);
    run.assert_code(1);
    let report: serde_json::Value = serde_json::from_str(&run.stdout).expect("--json prints a report");
    assert_eq!(
        report["trace_hash"],
        serde_json::json!(failure.trace_hash),
        "{}",
        run.stdout
    );
    assert_eq!(report["verdict"], "fail");
    let failed: Vec<&str> = report["invariants"]
        .as_array()
        .map(|cs| {
            cs.iter()
                .filter(|c| c["pass"] == false)
                .filter_map(|c| c["name"].as_str())
                .collect()
        })
        .unwrap_or_default();
    for name in &failure.failed_checks {
        assert!(
            failed.contains(&name.as_str()),
            "`{name}` did not fail in the replay: {}",
            run.stdout
        );
    }
    assert!(
        failure
            .failed_checks
            .iter()
            .any(|c| c == "idempotent_side_effects"),
        "{failure}"
    );

    // The same command without the defect passes: the replay is the defect's failure.
    let clean: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, a)| *a != "--plant" && (*i == 0 || args[*i - 1] != "--plant"))
        .map(|(_, a)| a)
        .collect();
    common::gameday(&clean).assert_code(0);
}
