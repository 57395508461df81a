//! `gameday sweep` end to end: results independent of the job count, shards that merge back
//! into the whole sweep, failing seeds listed with replay commands that reproduce them,
//! JUnit XML, and bad input exiting 2.

mod common;

use common::{gameday, scratch, write};

const TWO: [&str; 2] = [
    "scenarios/catalog/01-baseline.toml",
    "scenarios/catalog/03-matching-outage.toml",
];

fn json(run: &common::Run) -> serde_json::Value {
    serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("not JSON ({e}): {run:#?}"))
}

fn sweep(extra: &[&str]) -> common::Run {
    let mut args = vec!["sweep"];
    args.extend(TWO);
    args.extend(["--seeds", "3"]);
    args.extend(extra);
    gameday(args)
}

#[test]
fn the_result_does_not_depend_on_jobs_and_shards_merge_back() {
    let one = sweep(&["--json", "--jobs", "1"]);
    one.assert_code(0);
    let two = sweep(&["--json", "--jobs", "2"]);
    two.assert_code(0);
    assert_eq!(one.stdout, two.stdout, "the sweep JSON changed with --jobs");

    let v = json(&one);
    assert_eq!(v["version"], 1);
    assert_eq!(v["engine"], "fast");
    assert_eq!(v["shards"], serde_json::Value::Null);
    let scenarios = v["scenarios"].as_array().unwrap();
    assert_eq!(scenarios.len(), 2);
    for s in scenarios {
        let seeds: Vec<u64> = s["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["seed"].as_u64().unwrap())
            .collect();
        assert_eq!(seeds, vec![42, 43, 44], "seeds run from the scenario's own seed");
        assert_eq!(s["summary"]["runs"], 3);
        assert_eq!(s["summary"]["pass_rate"], 1.0);
        let hashes: std::collections::BTreeSet<&str> = s["runs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["trace_hash"].as_str().unwrap())
            .collect();
        assert_eq!(hashes.len(), 3, "different seeds give different runs");
    }
    let outage = &scenarios[1]["summary"];
    assert_eq!(
        outage["mttd_ms"]["runs"], 3,
        "the outage opens a breaker in every run: {outage}"
    );
    assert!(outage["mttd_ms"]["p50"].as_f64().unwrap() <= outage["mttd_ms"]["max"].as_f64().unwrap());

    let dir = scratch("sweep-shards");
    let mut parts = Vec::new();
    for k in ["2/2", "1/2"] {
        let run = sweep(&["--json", "--shard", k]);
        run.assert_code(0);
        let v = json(&run);
        let held = v["scenarios"][0]["runs"].as_array().unwrap().len();
        assert_eq!(
            held,
            if k == "1/2" { 2 } else { 1 },
            "shard {k} holds seed indices k-1, k-1+M, ..."
        );
        parts.push(write(&dir, &format!("part{}.json", &k[..1]), &run.stdout));
    }
    let merged = gameday([
        "sweep",
        "--merge",
        "--json",
        &parts[0].display().to_string(),
        &parts[1].display().to_string(),
    ]);
    merged.assert_code(0);
    assert_eq!(
        merged.stdout, one.stdout,
        "merged shards differ from the unsharded sweep"
    );

    // Merging a shard with itself is refused.
    let twice = gameday([
        "sweep",
        "--merge",
        &parts[0].display().to_string(),
        &parts[0].display().to_string(),
    ]);
    twice.assert_code(2);
    assert!(twice.stderr.contains("shards overlap"), "{}", twice.stderr);
    // So is a file that is not a sweep result.
    let junk = write(&dir, "junk.json", "{\"hello\": 1}");
    let bad = gameday(["sweep", "--merge", &junk.display().to_string()]);
    bad.assert_code(2);
    assert!(bad.stderr.contains("not a sweep result"), "{}", bad.stderr);
}

const IMPOSSIBLE: &str = r#"
name = "impossible-latency"
description = "a matching outage with an end-to-end p99 no pipeline can meet"
duration = "1m"
[workload]
rate = 10
[[fault]]
kind = "error"
target = "trade-matching"
start = "20s"
duration = "20s"
[expect]
p99_latency = "1ms"
"#;

#[test]
fn failing_seeds_are_listed_with_replays_that_reproduce_them() {
    let dir = scratch("sweep-failing");
    let file = write(&dir, "impossible.toml", IMPOSSIBLE);
    let junit = dir.join("junit.xml");
    let run = gameday([
        "sweep",
        &file.display().to_string(),
        TWO[0],
        "--seeds",
        "3",
        "--first-seed",
        "7",
        "--junit",
        &junit.display().to_string(),
    ]);
    run.assert_code(1);
    let replays: Vec<&str> = run
        .stdout
        .lines()
        .filter_map(|l| l.trim().strip_prefix("replay: "))
        .collect();
    assert_eq!(
        replays.len(),
        3,
        "every seed of the impossible scenario fails: {}",
        run.stdout
    );
    assert!(run.stdout.contains("FAIL seed 8: p99_latency"), "{}", run.stdout);
    assert!(
        run.stdout.contains("FAIL impossible-latency  0/3 runs passed"),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("PASS baseline  3/3 runs passed"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("3 passed, 3 failed"), "{}", run.stdout);

    // The printed replay command reproduces the run: same failure, same trace.
    let replay = replays[1];
    assert!(
        replay.contains("--seed 8") && replay.contains("--engine fast"),
        "{replay}"
    );
    let argv: Vec<&str> = replay.split_whitespace().collect();
    assert_eq!(argv[0], "gameday");
    let mut args: Vec<&str> = argv[1..].to_vec();
    args.push("--json");
    let again = gameday(&args);
    again.assert_code(1);
    let report = json(&again);
    let swept = gameday([
        "sweep",
        &file.display().to_string(),
        "--seeds",
        "3",
        "--first-seed",
        "7",
        "--json",
    ]);
    swept.assert_code(1);
    let swept = json(&swept);
    let seed8 = &swept["scenarios"][0]["runs"][1];
    assert_eq!(seed8["seed"], 8);
    assert_eq!(report["seed"], 8);
    assert_eq!(
        report["trace_hash"], seed8["trace_hash"],
        "the replay is not the swept run"
    );
    assert_eq!(report["verdict"], "fail");

    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.starts_with("<?xml version=\"1.0\""), "{xml}");
    assert!(
        xml.contains(r#"<testsuites name="gameday sweep" tests="6" failures="3">"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testsuite name="impossible-latency" tests="3" failures="3">"#),
        "{xml}"
    );
    assert!(
        xml.contains(r#"<testsuite name="baseline" tests="3" failures="0">"#),
        "{xml}"
    );
    assert_eq!(xml.matches("<testcase ").count(), 6);
    assert_eq!(xml.matches("<failure ").count(), 3);
    assert!(
        xml.contains(r#"<failure message="p99_latency: expected ≤ 1ms, observed "#),
        "{xml}"
    );
    assert!(
        xml.contains(&format!("replay: {}</failure>", replay.replace('<', "&lt;"))),
        "{xml}"
    );
}

#[test]
fn bad_input_exits_2() {
    for args in [
        vec!["sweep", TWO[0], "--seeds", "3", "--shard", "3/2"],
        vec!["sweep", TWO[0], "--seeds", "3", "--shard", "0/2"],
        vec!["sweep", TWO[0], "--seeds", "3", "--shard", "half"],
        vec!["sweep", TWO[0], "--seeds", "0"],
        vec!["sweep", TWO[0]],
        vec!["sweep", "no/such/scenario.toml", "--seeds", "2"],
        vec!["sweep", "--merge", "no/such/result.json"],
    ] {
        let run = gameday(&args);
        run.assert_code(2);
        assert!(!run.stderr.is_empty(), "{args:?} says nothing on stderr");
    }
    let run = gameday(["sweep", TWO[0], "--seeds", "3", "--shard", "3/2"]);
    assert!(
        run.stderr.contains("K is 1-based and must be between 1 and M"),
        "{}",
        run.stderr
    );
}
