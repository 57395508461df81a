//! `gameday run` end to end: the catalog passes, failures are reported and exit 1, runs
//! replay byte for byte from their seed, planted defects are caught, bad input exits 2.

mod common;

use common::{gameday, scratch, write};

fn json(run: &common::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {}", run.stdout))
}

#[test]
fn every_catalog_scenario_passes() {
    let run = gameday(["run", "scenarios/catalog", "--json"]);
    run.assert_code(0);
    let reports = json(&run);
    let reports = reports.as_array().expect("several scenarios give an array");
    assert!(reports.len() >= 12, "{} catalog scenarios", reports.len());
    for r in reports {
        assert_eq!(r["verdict"], "pass", "{}", r["scenario"]);
        assert_eq!(r["trades"]["lost"], 0);
        assert_eq!(r["trades"]["duplicated"], 0);
        assert!(r["trades"]["submitted"].as_u64().unwrap() > 1000);
        let replay = r["replay"].as_str().unwrap();
        assert!(
            replay.starts_with("gameday run scenarios/catalog/") && replay.contains("--seed 42"),
            "{replay}"
        );
    }
}

const IMPOSSIBLE: &str = r#"
name = "impossible"
description = "an outage no breaker can detect in a millisecond"
duration = "2m"
[workload]
rate = 10
[[fault]]
kind = "error"
target = "trade-matching"
start = "30s"
duration = "30s"
[expect]
breaker_opens = ["trade-matching"]
detect_within = "1ms"
min_matched_ratio = 0.85
"#;

#[test]
fn a_failed_expectation_exits_1_and_says_which() {
    let dir = scratch("run-impossible");
    let file = write(&dir, "impossible.toml", IMPOSSIBLE);
    let text = gameday(["run".as_ref(), file.as_os_str()]);
    text.assert_code(1);
    assert!(text.stdout.contains("FAIL impossible"), "{}", text.stdout);
    assert!(text.stdout.contains("FAIL detect_within"), "{}", text.stdout);
    assert!(text.stdout.contains("replay: gameday run"), "{}", text.stdout);

    let run = gameday(["run".as_ref(), file.as_os_str(), "--json".as_ref()]);
    run.assert_code(1);
    let r = json(&run);
    assert_eq!(r["verdict"], "fail");
    let failed: Vec<&serde_json::Value> = r["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["pass"] == false)
        .collect();
    let names: Vec<&str> = failed.iter().map(|c| c["name"].as_str().unwrap()).collect();
    assert!(names.contains(&"detect_within"), "{names:?}");
    assert!(names.contains(&"min_matched_ratio"), "{names:?}");
    let detect = failed.iter().find(|c| c["name"] == "detect_within").unwrap();
    assert_eq!(detect["expected"], "≤ 1ms");
    assert!(detect["observed"].as_str().unwrap().ends_with("ms"), "{detect}");
    // The breaker did open: that expectation held.
    let opens = r["expectations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "breaker_opens")
        .unwrap();
    assert_eq!(opens["pass"], true);
    // Every 503 the agent's host injected reached the orchestrator as `unavailable`, over HTTP.
    let matching = &r["agents"]["trade-matching"];
    let injected = matching["injected"]["error"].as_u64().unwrap();
    assert!(injected > 0, "{matching}");
    assert_eq!(
        matching["errors_by_kind"]["unavailable"].as_u64().unwrap(),
        injected,
        "{matching}"
    );
    // Invariants are not expectations: they held.
    assert!(
        r["invariants"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["pass"] == true)
    );
}

#[test]
fn same_seed_same_bytes_other_seed_other_trace() {
    let dir = scratch("run-determinism");
    let scenario = "scenarios/catalog/12-game-day.toml";
    let mut outputs = Vec::new();
    for (i, seed) in ["7", "7", "8"].iter().enumerate() {
        let trace = dir.join(format!("trace-{i}.txt"));
        let run = gameday([
            "run".as_ref(),
            scenario.as_ref(),
            "--seed".as_ref(),
            seed.as_ref(),
            "--json".as_ref(),
            "--trace".as_ref(),
            trace.as_os_str(),
        ]);
        run.assert_no_panic();
        let bytes = std::fs::read(&trace).unwrap();
        assert!(bytes.len() > 100_000, "a trace of a ten-minute game day is long");
        outputs.push((run.stdout, bytes));
    }
    assert_eq!(
        outputs[0].0, outputs[1].0,
        "reports differ between two runs of seed 7"
    );
    assert!(
        outputs[0].1 == outputs[1].1,
        "traces differ between two runs of seed 7"
    );
    let hash = |s: &str| json_str(s)["trace_hash"].as_str().unwrap().to_string();
    assert_ne!(
        hash(&outputs[0].0),
        hash(&outputs[2].0),
        "seed 8 gave the trace of seed 7"
    );
    assert!(outputs[0].1 != outputs[2].1);
    assert_eq!(json_str(&outputs[0].0)["seed"], 7);
}

fn json_str(s: &str) -> serde_json::Value {
    serde_json::from_str(s).unwrap()
}

/// Each planted defect breaks the invariant that guards against it, and the report's replay
/// command carries the defect so the failure replays.
#[test]
fn planted_defects_are_caught_by_the_checker() {
    let cases = [
        (
            "scenarios/catalog/03-matching-outage.toml",
            "breaker-probe-limit",
            "half_open_probe_limit",
        ),
        (
            "scenarios/catalog/11-retry-storm.toml",
            "no-retry-budget",
            "retry_budget_respected",
        ),
        (
            "scenarios/catalog/07-malformed-responses.toml",
            "non-idempotent-matching",
            "idempotent_side_effects",
        ),
    ];
    for (scenario, defect, invariant) in cases {
        let run = gameday(["run", scenario, "--plant", defect, "--json"]);
        run.assert_code(1);
        let r = json(&run);
        let check = r["invariants"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["name"] == invariant)
            .unwrap();
        assert_eq!(
            check["pass"], false,
            "{defect} not caught by {invariant}: {check}"
        );
        assert!(
            r["replay"]
                .as_str()
                .unwrap()
                .ends_with(&format!("--plant {defect}")),
            "{}",
            r["replay"]
        );
    }
}

#[test]
fn bad_scenarios_exit_2_with_their_location() {
    let dir = scratch("run-bad");
    let cases = [
        (
            "unknown-key.toml",
            "name = \"x\"\nduration = \"1m\"\nspeed = 3\n",
            ":3:1",
        ),
        (
            "bad-duration.toml",
            "name = \"x\"\nduration = \"fast\"\n",
            ":2:12",
        ),
        (
            "past-the-run.toml",
            "name = \"x\"\nduration = \"1m\"\n[[fault]]\nkind = \"crash\"\ntarget = \"trade-matching\"\nstart = \"50s\"\nduration = \"30s\"\n",
            ":",
        ),
    ];
    for (name, text, location) in cases {
        let file = write(&dir, name, text);
        let run = gameday(["run".as_ref(), file.as_os_str()]);
        run.assert_code(2);
        assert!(
            run.stderr.contains(&format!("{name}{location}")),
            "{name}: {}",
            run.stderr
        );
        assert!(
            run.stdout.is_empty(),
            "nothing runs when an input is bad: {}",
            run.stdout
        );
    }
    let missing = gameday(["run", "no/such/file.toml"]);
    missing.assert_code(2);
    assert!(missing.stderr.contains("no/such/file.toml"), "{}", missing.stderr);
}

#[test]
fn trace_takes_one_scenario() {
    let run = gameday(["run", "scenarios/catalog", "--trace", "/dev/null"]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("--trace takes exactly one scenario"),
        "{}",
        run.stderr
    );
}
