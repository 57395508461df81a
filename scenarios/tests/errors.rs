//! One bad file per class of mistake: each must be reported at its exact line and column,
//! with a message that says what was expected.

use std::path::Path;

use gameday_scenario::{ErrorKind, ScenarioError, parse};

const HEAD: &str = "name = \"x\"\nduration = \"10m\"\n";

fn error(text: &str) -> ScenarioError {
    match parse(text, Path::new("scenarios/x.toml")) {
        Ok(s) => panic!("accepted a bad file:\n{text}\nas {s:?}"),
        Err(e) => e,
    }
}

/// Asserts class, 1-based position and message fragments.
#[track_caller]
fn assert_error(text: &str, kind: ErrorKind, line: usize, column: usize, says: &[&str]) {
    let e = error(text);
    assert_eq!((e.kind, e.line, e.column), (kind, line, column), "{e}");
    for fragment in says {
        assert!(e.message.contains(fragment), "message lacks {fragment:?}: {e}");
    }
    let first = e.to_string().lines().next().unwrap().to_string();
    assert_eq!(
        first,
        format!("scenarios/x.toml:{line}:{column}: error: {}", e.message)
    );
}

fn fault(body: &str) -> String {
    format!("{HEAD}\n[[fault]]\n{body}")
}

#[test]
fn display_shows_the_line_and_a_caret() {
    let e = error("name = \"x\"\nduration = \"fast\"\n");
    assert_eq!(
        e.to_string(),
        "scenarios/x.toml:2:12: error: expected a duration such as \"250ms\" or \"2m\", found \"fast\"\n  |\n2 | duration = \"fast\"\n  |            ^^^^^^"
    );
}

#[test]
fn toml_syntax() {
    assert_error(
        "name = \"x\nduration = \"10m\"\n",
        ErrorKind::Syntax,
        1,
        10,
        &["invalid TOML", "expected"],
    );
    assert_error(
        "name = \"x\"\nname = \"y\"\n",
        ErrorKind::Syntax,
        2,
        1,
        &["duplicate key"],
    );
}

#[test]
fn unknown_key_names_the_allowed_keys() {
    let text = format!("{HEAD}[workload]\nrate = 1\nspeed = 2\n");
    assert_error(
        &text,
        ErrorKind::UnknownKey,
        5,
        1,
        &["`speed`", "`rate`, `mismatch_ratio`"],
    );
    assert_error(
        "nom = \"x\"\n",
        ErrorKind::UnknownKey,
        1,
        1,
        &["`nom`", "`name`", "`fault`", "`expect`"],
    );
    let text = format!("{HEAD}[policy.breaker]\nwindow = 20\nopen = \"1s\"\n");
    assert_error(
        &text,
        ErrorKind::UnknownKey,
        5,
        1,
        &["`open`", "`open_for`", "`half_open_probes`"],
    );
}

#[test]
fn bad_duration() {
    let text =
        fault("kind = \"crash\"\ntarget = \"pdf-adapter\"\nstart = \"2 minutes later\"\nduration = \"1m\"\n");
    assert_error(
        &text,
        ErrorKind::BadDuration,
        7,
        9,
        &["expected a duration such as", "found \"2 minutes later\""],
    );
    assert_error(
        "name = \"x\"\nduration = 600\n",
        ErrorKind::BadDuration,
        2,
        12,
        &["expected a duration", "found integer `600`"],
    );
}

#[test]
fn wrong_type() {
    let text = format!("{HEAD}[policy.retry]\nmax_attempts = \"four\"\n");
    assert_error(
        &text,
        ErrorKind::WrongType,
        4,
        16,
        &["\"four\"", "expected a whole number"],
    );
    let text = format!("{HEAD}[policy.retry]\njitter = \"wild\"\n");
    assert_error(
        &text,
        ErrorKind::WrongType,
        4,
        10,
        &["`wild`", "`none`, `full`, `equal`, `decorrelated`"],
    );
    let text = fault("kind = \"meteor\"\n");
    assert_error(
        &text,
        ErrorKind::WrongType,
        5,
        8,
        &["`meteor`", "`throttle`", "`partition`"],
    );
    assert_error(
        "name = 3\nduration = \"1m\"\n",
        ErrorKind::WrongType,
        1,
        8,
        &["expected a string"],
    );
}

#[test]
fn share_outside_zero_to_one() {
    let text = fault(
        "kind = \"hang\"\ntarget = \"trade-matching\"\nstart = \"1m\"\nduration = \"1m\"\nrate = 1.5\n",
    );
    assert_error(&text, ErrorKind::OutOfRange, 9, 8, &["between 0 and 1", "1.5"]);
    let text = format!("{HEAD}[workload]\nmismatch_ratio = -0.1\n");
    assert_error(&text, ErrorKind::OutOfRange, 4, 18, &["between 0 and 1"]);
    let text = format!("{HEAD}[workload]\nrate = 0\n");
    assert_error(&text, ErrorKind::OutOfRange, 4, 8, &["above zero"]);
    // A rate no run could hold in memory is refused, not attempted.
    let text = format!("{HEAD}[workload]\nrate = 2000000\n");
    assert_error(&text, ErrorKind::OutOfRange, 4, 8, &["at most 10000", "2000000"]);
    let text = format!("{HEAD}[expect]\nmin_matched_ratio = 2\n");
    assert_error(&text, ErrorKind::OutOfRange, 4, 21, &["between 0 and 1"]);
    let text = format!("{HEAD}[expect]\nmax_amplification = 0.5\n");
    assert_error(&text, ErrorKind::OutOfRange, 4, 21, &["at least 1"]);
}

#[test]
fn unknown_target_lists_the_valid_ones() {
    let text =
        fault("kind = \"throttle\"\ntarget = \"trade-extractor\"\nstart = \"1m\"\nduration = \"1m\"\n");
    let says = [
        "\"trade-extractor\"",
        "`pdf-adapter`, `trade-extraction`, `trade-matching`, `exception-management`",
    ];
    assert_error(&text, ErrorKind::UnknownTarget, 6, 10, &says);
    assert!(
        !error(&text).message.contains("orchestrator"),
        "only crash may target the orchestrator"
    );
    let text = fault("kind = \"crash\"\ntarget = \"db\"\nstart = \"1m\"\nduration = \"1m\"\n");
    assert_error(&text, ErrorKind::UnknownTarget, 6, 10, &["`orchestrator`"]);
}

#[test]
fn fault_keys_must_fit_the_kind() {
    let text = fault(
        "kind = \"throttle\"\ntarget = \"pdf-adapter\"\nstart = \"1m\"\nduration = \"1m\"\nstatus = 503\n",
    );
    assert_error(
        &text,
        ErrorKind::FaultMismatch,
        9,
        10,
        &["`status` does not apply to a throttle", "`rate`, `retry_after`"],
    );
    let text = fault(
        "kind = \"latency\"\ntarget = \"pdf-adapter\"\nstart = \"1m\"\nduration = \"1m\"\njitter = \"5ms\"\n",
    );
    assert_error(&text, ErrorKind::FaultMismatch, 5, 8, &["needs `delay`"]);
    let text = fault(
        "kind = \"latency\"\ntarget = \"pdf-adapter\"\nrate = 0.5\nstart = \"1m\"\nduration = \"1m\"\ndelay = \"1s\"\n",
    );
    assert_error(
        &text,
        ErrorKind::FaultMismatch,
        7,
        8,
        &["`rate` does not apply to a latency fault"],
    );
    let text =
        fault("kind = \"crash\"\ntarget = \"pdf-adapter\"\nstart = \"1m\"\nduration = \"1m\"\nrate = 0.5\n");
    assert_error(&text, ErrorKind::FaultMismatch, 9, 8, &["takes no other keys"]);
    let text = fault("kind = \"partition\"\ntarget = \"orchestrator\"\nstart = \"1m\"\nduration = \"1m\"\n");
    assert_error(
        &text,
        ErrorKind::FaultMismatch,
        6,
        10,
        &["must target an agent", "only a crash"],
    );
    let text = fault("kind = \"throttle\"\ntarget = \"orchestrator\"\nstart = \"1m\"\nduration = \"1m\"\n");
    assert_error(
        &text,
        ErrorKind::FaultMismatch,
        6,
        10,
        &["a throttle fault must target an agent"],
    );
    let text = fault(
        "kind = \"latency\"\ntarget = \"pdf-adapter\"\nstart = \"1m\"\nduration = \"1m\"\ndelay = \"1s\"\njitter = \"2s\"\n",
    );
    assert_error(
        &text,
        ErrorKind::OutOfRange,
        10,
        10,
        &["no larger than the delay"],
    );
}

#[test]
fn error_status_is_4xx_or_5xx_but_not_429() {
    for (status, column) in [("302", 10), ("429", 10), ("600", 10), ("99999", 10)] {
        let text = fault(&format!(
            "kind = \"error\"\ntarget = \"trade-matching\"\nstart = \"1m\"\nduration = \"1m\"\nstatus = {status}\n"
        ));
        let e = error(&text);
        assert_eq!((e.line, e.column), (9, column), "{e}");
        if status == "99999" {
            assert_eq!(e.kind, ErrorKind::WrongType, "{e}");
        } else {
            assert_eq!(e.kind, ErrorKind::OutOfRange, "{e}");
            assert!(e.message.contains("from 400 to 599 other than 429"), "{e}");
        }
    }
    let ok = fault(
        "kind = \"error\"\ntarget = \"trade-matching\"\nstart = \"1m\"\nduration = \"1m\"\nstatus = 403\n",
    );
    assert!(parse(&ok, Path::new("x.toml")).is_ok());
}

#[test]
fn fault_window_past_the_run_points_at_start() {
    let text = fault("kind = \"crash\"\ntarget = \"orchestrator\"\nstart = \"9m\"\nduration = \"2m\"\n");
    assert_error(
        &text,
        ErrorKind::FaultOutsideRun,
        7,
        9,
        &["from 9m to 11m", "end of the run at 10m"],
    );
    let exact = fault("kind = \"crash\"\ntarget = \"orchestrator\"\nstart = \"8m\"\nduration = \"2m\"\n");
    assert!(
        parse(&exact, Path::new("x.toml")).is_ok(),
        "a fault may end exactly when the run does"
    );
    let text = fault("kind = \"crash\"\ntarget = \"orchestrator\"\nstart = \"1m\"\nduration = \"0s\"\n");
    assert_error(&text, ErrorKind::OutOfRange, 8, 12, &["above zero"]);
}

#[test]
fn missing_required_keys() {
    assert_error("duration = \"10m\"\n", ErrorKind::MissingKey, 1, 1, &["`name`"]);
    assert_error("name = \"x\"\n", ErrorKind::MissingKey, 1, 1, &["`duration`"]);
    let bodies = [
        (
            "target = \"pdf-adapter\"\nstart = \"1m\"\nduration = \"1m\"\n",
            "`kind`",
        ),
        (
            "kind = \"crash\"\nstart = \"1m\"\nduration = \"1m\"\n",
            "`target`",
        ),
        (
            "kind = \"crash\"\ntarget = \"pdf-adapter\"\nduration = \"1m\"\n",
            "`start`",
        ),
        (
            "kind = \"crash\"\ntarget = \"pdf-adapter\"\nstart = \"1m\"\n",
            "`duration`",
        ),
    ];
    for (body, key) in bodies {
        // The second fault is the broken one, so the position must be its own header.
        let good = "kind = \"crash\"\ntarget = \"pdf-adapter\"\nstart = \"1m\"\nduration = \"1m\"\n";
        let text = format!("{}\n[[fault]]\n{body}", fault(good));
        assert_error(&text, ErrorKind::MissingKey, 10, 1, &[key, "[[fault]]"]);
    }
    let text = format!("{HEAD}[policy.breaker.slow_call]\nrate = 0.5\n");
    assert_error(&text, ErrorKind::MissingKey, 3, 1, &["`threshold`"]);
}

#[test]
fn invalid_policy_points_at_the_key_or_its_table() {
    let text = format!("{HEAD}[policy.breaker]\nwindow = 20\nmin_calls = 30\n");
    assert_error(
        &text,
        ErrorKind::InvalidPolicy,
        5,
        13,
        &["`policy.breaker.min_calls`", "between 1 and breaker.window"],
    );
    // min_calls keeps its default (10), which the window of 5 makes impossible: point at the table.
    let text = format!("{HEAD}\n[policy.breaker]\nwindow = 5\n");
    assert_error(
        &text,
        ErrorKind::InvalidPolicy,
        4,
        1,
        &["`policy.breaker.min_calls`"],
    );
    let text = format!("{HEAD}[policy.breaker]\nfailure_rate = 1.5\n");
    assert_error(
        &text,
        ErrorKind::InvalidPolicy,
        4,
        16,
        &["`policy.breaker.failure_rate`", "(0, 1]"],
    );
    let text = format!("{HEAD}[policy.budget]\nretry_cost = 5\ntimeout_cost = 0\n");
    assert_error(
        &text,
        ErrorKind::InvalidPolicy,
        5,
        16,
        &["`policy.budget.timeout_cost`"],
    );
    let text = format!("{HEAD}[policy.retry]\nbase_delay = \"2s\"\nmax_delay = \"1s\"\n");
    assert_error(
        &text,
        ErrorKind::InvalidPolicy,
        5,
        13,
        &["`policy.retry.max_delay`", "not below retry.base_delay"],
    );
    let text = format!("{HEAD}[policy.breaker.slow_call]\nthreshold = \"0s\"\n");
    assert_error(
        &text,
        ErrorKind::InvalidPolicy,
        4,
        13,
        &["`policy.breaker.slow_call.threshold`"],
    );
}

#[test]
fn expectation_names_an_unknown_agent() {
    let text = format!("{HEAD}[expect]\nbreaker_opens = [\"trade-extraction\", \"trade-matcher\"]\n");
    assert_error(
        &text,
        ErrorKind::UnknownAgent,
        4,
        38,
        &["\"trade-matcher\"", "`trade-matching`"],
    );
}

#[test]
fn timing_expectations_need_a_fault() {
    let text = format!("{HEAD}[expect]\np99_latency = \"1s\"\ndetect_within = \"30s\"\n");
    assert_error(
        &text,
        ErrorKind::ExpectationWithoutFault,
        5,
        17,
        &["`detect_within`", "no [[fault]]"],
    );
    let text = format!("{HEAD}[expect]\nrecover_within = \"30s\"\n");
    assert_error(
        &text,
        ErrorKind::ExpectationWithoutFault,
        4,
        18,
        &["`recover_within`"],
    );
}

#[test]
fn unreadable_file_names_the_path_and_the_os_error() {
    let path = Path::new("scenarios/tests/fixtures/does-not-exist.toml");
    let e = gameday_scenario::load(path).unwrap_err();
    assert_eq!((e.kind, e.line, e.column), (ErrorKind::Io, 0, 0));
    let shown = e.to_string();
    assert!(
        shown.starts_with("scenarios/tests/fixtures/does-not-exist.toml: error: cannot read"),
        "{shown}"
    );
    let os = std::io::Error::from(std::io::ErrorKind::NotFound).to_string();
    assert!(
        shown.to_lowercase().contains("no such file") || shown.contains(&os),
        "{shown}"
    );
}

#[test]
fn positions_count_characters_not_bytes() {
    let text = "name = \"é\"\ndescription = \"ünïcödé\" \nduration = \"10m\"\nbad = 1\n";
    assert_error(text, ErrorKind::UnknownKey, 4, 1, &["`bad`"]);
    let text = "description = \"ü\"; name = 1\n";
    let e = error(text);
    assert_eq!(e.kind, ErrorKind::Syntax, "{e}");
    let text = "description = \"ü\"\nname = \"x\"\nduration = \"10m\"\n[workload]\nrate = \"ü\"\n";
    assert_error(text, ErrorKind::WrongType, 5, 8, &["expected a number"]);
}
