//! `gameday fis ...` end to end: the binary against scenario and bindings files, and against a
//! loopback stand-in for the FIS API (through `--endpoint-url`).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::gameday;
use gameday_fis::fake::{EXPERIMENT_ID, FakeError, FakeFis, FakeScript, FakeStep};

const SCENARIO: &str = r#"
name = "extraction-throttling"
description = "trade-extraction throttles half its calls for three minutes"
duration = "10m"

[workload]
rate = 20
mismatch_ratio = 0.1

[[fault]]
kind = "throttle"
target = "trade-extraction"
start = "2m"
duration = "3m"
rate = 0.5

[[fault]]
kind = "crash"
target = "orchestrator"
start = "6m"
duration = "1m"
"#;

fn bindings_text() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/bindings.example.toml")).unwrap()
}

/// A fresh directory holding the scenario and bindings files.
fn workdir(name: &str, bindings: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gameday-cli-fis-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("scenario.toml"), SCENARIO).unwrap();
    std::fs::write(dir.join("bindings.toml"), bindings).unwrap();
    dir
}

fn s(p: &Path) -> String {
    p.display().to_string()
}

#[test]
fn lint_passes_a_sound_plan_and_refuses_with_a_fix() {
    let dir = workdir("lint", &bindings_text());
    gameday([
        "fis",
        "lint",
        &s(&dir.join("scenario.toml")),
        "--bindings",
        &s(&dir.join("bindings.toml")),
    ])
    .assert_code(0);
    std::fs::write(
        dir.join("bindings.toml"),
        bindings_text().replace(
            "allowed_regions = [\"eu-west-1\"]",
            "allowed_regions = [\"us-east-1\"]",
        ),
    )
    .unwrap();
    let run = gameday([
        "fis",
        "lint",
        &s(&dir.join("scenario.toml")),
        "--bindings",
        &s(&dir.join("bindings.toml")),
    ]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("region eu-west-1 is not in allowed_regions") && run.stderr.contains("to fix:"),
        "{}",
        run.stderr
    );
    std::fs::write(
        dir.join("bindings.toml"),
        bindings_text().replace("[targets.orchestrator]", "[targets.orchestrater]"),
    )
    .unwrap();
    let run = gameday([
        "fis",
        "lint",
        &s(&dir.join("scenario.toml")),
        "--bindings",
        &s(&dir.join("bindings.toml")),
    ]);
    run.assert_code(2);
    assert!(
        run.stderr.contains("bindings.toml:21:") && run.stderr.contains("unknown target `orchestrater`"),
        "{}",
        run.stderr
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn render_writes_the_artifact_set() {
    let dir = workdir("render", &bindings_text());
    std::fs::write(dir.join("prediction.json"), r#"{"seeds": 16, "pass_rate": 1.0, "matched_ratio": 0.93, "mttd_ms": {"p50": 3000, "p99": 8000}, "mttr_ms": null}"#).unwrap();
    let out = dir.join("out");
    gameday([
        "fis",
        "render",
        &s(&dir.join("scenario.toml")),
        "--bindings",
        &s(&dir.join("bindings.toml")),
        "--out",
        &s(&out),
        "--prediction",
        &s(&dir.join("prediction.json")),
    ])
    .assert_code(0);
    for f in [
        "experiment-template.json",
        "automation-document.json",
        "trust-policy.json",
        "permissions-policy.json",
        "automation-role-policy.json",
        "runbook.md",
    ] {
        assert!(out.join(f).is_file(), "{f} missing");
    }
    let t: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("experiment-template.json")).unwrap())
            .unwrap();
    assert_eq!(
        t["actions"]["f2-crash-orchestrator"]["actionId"],
        "aws:ecs:stop-task"
    );
    assert_eq!(
        t["actions"]["f2-crash-orchestrator"]["startAfter"],
        serde_json::json!(["wait-2"])
    );
    let runbook = std::fs::read_to_string(out.join("runbook.md")).unwrap();
    assert!(
        runbook.contains("Over 16 simulated seeds") && runbook.contains("p50 3000 ms"),
        "{runbook}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn render_predicts_by_sweeping_unless_told_not_to() {
    let dir = workdir("render-predict", &bindings_text());
    let (scenario, bindings, out) = (
        s(&dir.join("scenario.toml")),
        s(&dir.join("bindings.toml")),
        dir.join("out"),
    );
    let run = gameday([
        "fis",
        "render",
        &scenario,
        "--bindings",
        &bindings,
        "--out",
        &s(&out),
    ]);
    run.assert_code(0);
    assert!(
        run.stderr.contains("over 20 seeds on the fast engine"),
        "{}",
        run.stderr
    );
    let runbook = std::fs::read_to_string(out.join("runbook.md")).unwrap();
    // The prediction quotes the very sweep `gameday sweep` runs over the same seeds.
    let sweep = gameday(["sweep", &scenario, "--seeds", "20", "--json"]);
    let sweep: serde_json::Value = serde_json::from_str(&sweep.stdout).unwrap();
    let summary = &sweep["scenarios"][0]["summary"];
    let pass_rate = summary["pass_rate"].as_f64().unwrap();
    let mttd = &summary["mttd_ms"];
    assert!(runbook.contains("Over 20 simulated seeds"), "{runbook}");
    assert!(
        runbook.contains(&format!(
            "| expectations held | {:.0} % of runs |",
            pass_rate * 100.0
        )),
        "{runbook}"
    );
    assert!(
        runbook.contains(&format!(
            "| matched ratio | {:.3} |",
            summary["matched_ratio"].as_f64().unwrap()
        )),
        "{runbook}"
    );
    assert!(
        runbook.contains(&format!(
            "p50 {} ms, p99 {} ms",
            mttd["p50"].as_f64().unwrap().round(),
            mttd["p99"].as_f64().unwrap().round()
        )),
        "{runbook}\n{summary}"
    );

    let quiet = dir.join("quiet");
    let run = gameday([
        "fis",
        "render",
        &scenario,
        "--bindings",
        &bindings,
        "--out",
        &s(&quiet),
        "--no-predict",
    ]);
    run.assert_code(0);
    assert!(!run.stderr.contains("predicting"), "{}", run.stderr);
    assert!(
        std::fs::read_to_string(quiet.join("runbook.md"))
            .unwrap()
            .contains("No prediction attached")
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Runs the binary with test credentials and no ambient AWS configuration.
fn fis_command(args: &[String]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_gameday"));
    c.args(args)
        .env("AWS_ACCESS_KEY_ID", "AKIDTEST")
        .env("AWS_SECRET_ACCESS_KEY", "secret")
        .env("AWS_MAX_ATTEMPTS", "1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/gameday-config")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/gameday-credentials")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_ENDPOINT_URL")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    c
}

fn run_args(dir: &Path, fake: &FakeFis, stage: &str, extra: &[&str]) -> Vec<String> {
    let mut a: Vec<String> = [
        "fis",
        "run",
        &s(&dir.join("scenario.toml")),
        "--bindings",
        &s(&dir.join("bindings.toml")),
        "--stage",
        stage,
        "--timeline",
        &s(&dir.join("timeline.json")),
        "--poll",
        "20ms",
        "--endpoint-url",
        &fake.url(),
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    a.extend(extra.iter().map(|x| x.to_string()));
    a
}

async fn output(mut c: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_preview_run_completes_and_writes_its_timeline() {
    let dir = workdir("preview", &bindings_text());
    let fake = FakeFis::start(FakeScript {
        steps: vec![
            FakeStep::new("running", &[("wait-1", "running")]),
            FakeStep::new("completed", &[("wait-1", "completed")]),
        ],
        ..FakeScript::default()
    })
    .await
    .unwrap();
    let out = output(fis_command(&run_args(&dir, &fake, "preview", &[]))).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("experiment running") && stderr.contains("wait-1 completed"),
        "{stderr}"
    );
    let timeline: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("timeline.json")).unwrap()).unwrap();
    assert_eq!(timeline["final_state"], "completed");
    assert_eq!(timeline["stage"], "preview");
    assert_eq!(timeline["experiment_id"], EXPERIMENT_ID);
    let seen = fake.seen();
    assert_eq!(seen[1].body["experimentOptions"]["actionsMode"], "skip-all");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_needs_yes_and_sigint_stops_the_experiment() {
    let dir = workdir("live", &bindings_text());
    let fake = FakeFis::start(FakeScript {
        steps: vec![FakeStep::new("running", &[("wait-1", "running")])],
        ..FakeScript::default()
    })
    .await
    .unwrap();
    let out = output(fis_command(&run_args(&dir, &fake, "live", &[]))).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("add --yes"));
    assert!(fake.seen().is_empty(), "nothing was sent without --yes");

    let child = fis_command(&run_args(&dir, &fake, "live", &["--yes"]))
        .spawn()
        .unwrap();
    // Wait until the experiment is being watched, then interrupt.
    let mut waited = 0;
    while !fake.seen().iter().any(|r| r.method == "GET") {
        assert!(waited < 500, "the run never polled the experiment");
        tokio::time::sleep(Duration::from_millis(20)).await;
        waited += 1;
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap())
        .await
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("interrupted: stopping the experiment"),
        "{stderr}"
    );
    let timeline: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("timeline.json")).unwrap()).unwrap();
    assert_eq!(timeline["final_state"], "stopped");
    assert_eq!(timeline["stop_requested"], true);
    assert_eq!(fake.seen().iter().filter(|r| r.method == "DELETE").count(), 1);
    assert_eq!(fake.seen()[1].body["experimentOptions"]["actionsMode"], "run-all");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_errors_are_reported_with_exit_code_2() {
    let dir = workdir("errors", &bindings_text());
    let fake = FakeFis::start(FakeScript {
        create_error: Some(FakeError::throttling()),
        ..FakeScript::default()
    })
    .await
    .unwrap();
    let out = output(fis_command(&run_args(&dir, &fake, "preview", &[]))).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("FIS CreateExperimentTemplate failed: ThrottlingException: Rate exceeded"),
        "{stderr}"
    );

    let fake = FakeFis::start(FakeScript {
        start_error: Some(FakeError::validation("Role cannot be assumed")),
        ..FakeScript::default()
    })
    .await
    .unwrap();
    let out = output(fis_command(&run_args(&dir, &fake, "preview", &[]))).await;
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("ValidationException: Role cannot be assumed"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_and_stop_by_id() {
    let fake = FakeFis::start(FakeScript {
        steps: vec![FakeStep::new("running", &[("wait-1", "running")])],
        ..FakeScript::default()
    })
    .await
    .unwrap();
    let args = |cmd: &str| -> Vec<String> {
        [
            "fis",
            cmd,
            EXPERIMENT_ID,
            "--region",
            "eu-west-1",
            "--endpoint-url",
            &fake.url(),
        ]
        .iter()
        .map(|x| x.to_string())
        .collect()
    };
    let out = output(fis_command(&args("status"))).await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(&format!("{EXPERIMENT_ID}: running")) && stdout.contains("wait-1: running"),
        "{stdout}"
    );
    let out = output(fis_command(&args("stop"))).await;
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("stopping"));
    assert!(fake.seen().iter().any(|r| r.method == "DELETE"));
}
