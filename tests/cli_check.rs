//! `gameday check` end to end: exit codes, one line per valid file, a located error per
//! invalid one, and never a panic.

mod common;

use common::{gameday, scratch, write};

const FIXTURES: &str = "scenarios/tests/fixtures";
const HEAD: &str = "name = \"x\"\nduration = \"10m\"\n";

#[test]
fn a_valid_file_passes() {
    let run = gameday(["check", "scenarios/tests/fixtures/extraction-throttling.toml"]);
    run.assert_code(0);
    assert_eq!(
        run.stdout,
        "ok scenarios/tests/fixtures/extraction-throttling.toml: extraction-throttling (1 fault, 10m)\n"
    );
    assert_eq!(run.stderr, "");
}

#[test]
fn a_directory_means_its_toml_files_in_name_order() {
    let run = gameday(["check", FIXTURES]);
    run.assert_code(0);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "ok scenarios/tests/fixtures/baseline.toml: baseline (0 faults, 2m)",
            "ok scenarios/tests/fixtures/every-fault.toml: every-fault (7 faults, 1h 30m)",
            "ok scenarios/tests/fixtures/extraction-throttling.toml: extraction-throttling (1 fault, 10m)",
        ]
    );
}

/// One bad file per class of mistake, with the position its error must name.
fn bad_files() -> Vec<(&'static str, String, &'static str)> {
    let fault = |body: &str| format!("{HEAD}\n[[fault]]\n{body}");
    vec![
        ("syntax", "name = \"x\nduration = \"10m\"\n".into(), "1:10"),
        ("unknown-key", format!("{HEAD}[workload]\nspeed = 2\n"), "4:1"),
        (
            "bad-duration",
            "name = \"x\"\nduration = \"fast\"\n".into(),
            "2:12",
        ),
        (
            "wrong-type",
            format!("{HEAD}[policy.retry]\nmax_attempts = \"four\"\n"),
            "4:16",
        ),
        (
            "rate",
            fault(
                "kind = \"hang\"\ntarget = \"pdf-adapter\"\nstart = \"1m\"\nduration = \"1m\"\nrate = 2.0\n",
            ),
            "9:8",
        ),
        (
            "unknown-target",
            fault("kind = \"hang\"\ntarget = \"db\"\nstart = \"1m\"\nduration = \"1m\"\n"),
            "6:10",
        ),
        (
            "mismatch",
            fault(
                "kind = \"throttle\"\ntarget = \"pdf-adapter\"\nstart = \"1m\"\nduration = \"1m\"\nstatus = 500\n",
            ),
            "9:10",
        ),
        (
            "status",
            fault(
                "kind = \"error\"\ntarget = \"pdf-adapter\"\nstart = \"1m\"\nduration = \"1m\"\nstatus = 200\n",
            ),
            "9:10",
        ),
        (
            "past-run",
            fault("kind = \"crash\"\ntarget = \"orchestrator\"\nstart = \"9m\"\nduration = \"5m\"\n"),
            "7:9",
        ),
        (
            "missing",
            fault("kind = \"crash\"\nstart = \"1m\"\nduration = \"1m\"\n"),
            "4:1",
        ),
        (
            "policy",
            format!("{HEAD}[policy.breaker]\nwindow = 4\nmin_calls = 5\n"),
            "5:13",
        ),
        (
            "unknown-agent",
            format!("{HEAD}[expect]\nbreaker_opens = [\"nobody\"]\n"),
            "4:18",
        ),
        (
            "detect-without-fault",
            format!("{HEAD}[expect]\ndetect_within = \"1m\"\n"),
            "4:17",
        ),
    ]
}

#[test]
fn each_class_of_mistake_exits_2_with_file_line_and_column() {
    let dir = scratch("cli_check_each_class");
    for (class, text, position) in bad_files() {
        let path = write(&dir, &format!("{class}.toml"), &text);
        let run = gameday(["check".as_ref(), path.as_os_str()]);
        run.assert_code(2);
        let located = format!("{}:{position}: error: ", path.display());
        assert!(
            run.stderr.starts_with(&located),
            "{class}: expected {located:?} in {run:#?}"
        );
        assert!(
            run.stderr.contains(" | "),
            "{class}: no source line shown: {}",
            run.stderr
        );
        assert!(run.stderr.contains('^'), "{class}: no caret: {}", run.stderr);
        assert_eq!(run.stdout, "", "{class}");
    }
}

#[test]
fn every_file_is_checked_even_after_a_failure() {
    let dir = scratch("cli_check_mixed");
    write(&dir, "a-bad.toml", "name = \"a\"\n");
    write(&dir, "b-good.toml", "name = \"b\"\nduration = \"1m\"\n");
    write(&dir, "c-bad.toml", "name = \"c\"\nduration = \"soon\"\n");
    write(&dir, "notes.txt", "not a scenario");
    let run = gameday(["check".as_ref(), dir.as_os_str()]);
    run.assert_code(2);
    assert_eq!(
        run.stdout,
        format!("ok {}: b (0 faults, 1m)\n", dir.join("b-good.toml").display())
    );
    assert!(
        run.stderr
            .contains("a-bad.toml:1:1: error: missing required key `duration`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("c-bad.toml:2:12: error: expected a duration"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("2 of 3"), "{}", run.stderr);
}

#[test]
fn missing_files_and_empty_directories_are_bad_input() {
    let run = gameday(["check", "scenarios/tests/fixtures/nope.toml"]);
    run.assert_code(2);
    assert!(
        run.stderr
            .contains("scenarios/tests/fixtures/nope.toml: error: cannot read"),
        "{}",
        run.stderr
    );
    let empty = scratch("cli_check_empty");
    let run = gameday(["check".as_ref(), empty.as_os_str()]);
    run.assert_code(2);
    assert!(run.stderr.contains("no scenario files"), "{}", run.stderr);
}

#[test]
fn usage_errors_exit_2() {
    gameday(["check"]).assert_code(2);
    gameday(["check", "--schema", FIXTURES]).assert_code(2);
}

#[test]
fn schema_is_printed_as_json() {
    let run = gameday(["check", "--schema"]);
    run.assert_code(0);
    let schema: serde_json::Value = serde_json::from_str(&run.stdout).expect("schema is JSON");
    assert_eq!(schema["$schema"], "https://json-schema.org/draft/2020-12/schema");
    assert!(schema["properties"]["fault"].is_object());
}
