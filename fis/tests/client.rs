//! The client path end to end: `aws-sdk-fis` against a loopback stand-in for the FIS
//! REST-JSON API, through `endpoint_url`.

mod common;

use std::time::Duration;

use aws_sdk_fis::config::retry::RetryConfig;
use aws_sdk_fis::config::{BehaviorVersion, Credentials, Region};
use common::*;
use gameday_fis::fake::{EXPERIMENT_ID, FakeError, FakeFis, FakeScript, FakeStep, TEMPLATE_ID};
use gameday_fis::render;
use gameday_fis::run::{FisError, RunStage, Runner};
use gameday_orchestrator::fault_flags::ManualWallClock;

fn runner(fake: &FakeFis) -> Runner<ManualWallClock> {
    let config = aws_sdk_fis::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("eu-west-1"))
        .credentials_provider(Credentials::new("AKIDTEST", "secret", None, None, "test"))
        .endpoint_url(fake.url())
        .retry_config(RetryConfig::disabled())
        .build();
    Runner::new(
        aws_sdk_fis::Client::from_conf(config),
        ManualWallClock::new(1_700_000_000_000),
        Duration::from_millis(5),
    )
}

fn template() -> gameday_fis::ExperimentTemplate {
    render(&single_throttle(), &bindings(), None)
        .unwrap()
        .plan
        .template
}

const ACTION: &str = "f1-throttle-trade-extraction";

#[tokio::test]
async fn a_preview_run_is_created_started_and_watched_to_completion() {
    let fake = FakeFis::start(FakeScript {
        steps: vec![
            FakeStep::new("initiating", &[("wait-1", "pending"), (ACTION, "pending")]),
            FakeStep::new("running", &[("wait-1", "running"), (ACTION, "pending")]),
            FakeStep::new("running", &[("wait-1", "completed"), (ACTION, "skipped")]),
            FakeStep::new("completed", &[("wait-1", "completed"), (ACTION, "skipped")]),
        ],
        ..FakeScript::default()
    })
    .await
    .unwrap();
    let t = template();
    let mut progress = Vec::new();
    let timeline = runner(&fake)
        .run(
            &t,
            RunStage::Preview,
            "start-token-1",
            std::future::pending(),
            |c| progress.push(format!("{} {}", c.subject, c.state)),
        )
        .await
        .unwrap();
    assert!(timeline.succeeded());
    assert_eq!(timeline.experiment_id, EXPERIMENT_ID);
    assert_eq!(timeline.template_id.as_deref(), Some(TEMPLATE_ID));
    let seen: Vec<String> = timeline
        .events
        .iter()
        .map(|e| format!("{} {}", e.subject, e.state))
        .collect();
    assert_eq!(
        seen,
        [
            "experiment initiating",
            &format!("{ACTION} pending"),
            "wait-1 pending",
            "experiment running",
            "wait-1 running",
            &format!("{ACTION} skipped"),
            "wait-1 completed",
            "experiment completed",
        ]
    );
    assert_eq!(progress[0], format!("experiment started {EXPERIMENT_ID}"));
    assert_eq!(&progress[1..], &seen[..]);
    let requests = fake.seen();
    let create = &requests[0];
    assert_eq!(
        (create.method.as_str(), create.path.as_str()),
        ("POST", "/experimentTemplates")
    );
    assert_eq!(create.body["clientToken"], t.client_token.as_str());
    assert_eq!(
        create.body["actions"][ACTION]["startAfter"],
        serde_json::json!(["wait-1"])
    );
    assert_eq!(create.body["stopConditions"][0]["source"], "aws:cloudwatch:alarm");
    assert_eq!(
        create.body["experimentOptions"]["emptyTargetResolutionMode"],
        "fail"
    );
    let start = &requests[1];
    assert_eq!(
        (start.method.as_str(), start.path.as_str()),
        ("POST", "/experiments")
    );
    assert_eq!(start.body["experimentTemplateId"], TEMPLATE_ID);
    assert_eq!(start.body["clientToken"], "start-token-1");
    assert_eq!(start.body["experimentOptions"]["actionsMode"], "skip-all");
    assert!(requests.iter().all(|r| r.method != "DELETE"));
}

#[tokio::test]
async fn a_cancelled_run_stops_the_experiment_and_records_the_stop() {
    let fake = FakeFis::start(FakeScript {
        steps: vec![FakeStep::new(
            "running",
            &[("wait-1", "running"), (ACTION, "pending")],
        )],
        ..FakeScript::default()
    })
    .await
    .unwrap();
    let cancel = tokio::time::sleep(Duration::from_millis(40));
    let timeline = runner(&fake)
        .run(&template(), RunStage::Live, "start-token-2", cancel, |_| {})
        .await
        .unwrap();
    assert!(timeline.stop_requested);
    assert!(!timeline.succeeded());
    assert_eq!(timeline.final_state, "stopped");
    let experiment: Vec<&str> = timeline
        .events
        .iter()
        .filter(|e| e.subject == "experiment")
        .map(|e| e.state.as_str())
        .collect();
    assert_eq!(experiment, ["running", "stopping", "stopped"]);
    assert!(
        timeline
            .events
            .iter()
            .any(|e| e.subject == "wait-1" && e.state == "stopped")
    );
    let requests = fake.seen();
    assert_eq!(
        requests
            .iter()
            .filter(|r| r.method == "DELETE" && r.path == format!("/experiments/{EXPERIMENT_ID}"))
            .count(),
        1
    );
    assert_eq!(requests[1].body["experimentOptions"]["actionsMode"], "run-all");
}

#[tokio::test]
async fn throttling_by_fis_is_a_clear_error() {
    let fake = FakeFis::start(FakeScript {
        create_error: Some(FakeError::throttling()),
        ..FakeScript::default()
    })
    .await
    .unwrap();
    let e = runner(&fake)
        .run(
            &template(),
            RunStage::Preview,
            "t",
            std::future::pending(),
            |_| {},
        )
        .await
        .unwrap_err();
    assert!(
        matches!(&e, FisError::Api { operation: "CreateExperimentTemplate", code, .. } if code == "ThrottlingException"),
        "{e:?}"
    );
    let text = e.to_string();
    assert!(
        text.contains("Rate exceeded") && text.contains("throttling requests"),
        "{text}"
    );
    assert_eq!(fake.seen().len(), 1, "nothing is started after a failed create");
}

#[tokio::test]
async fn a_validation_error_names_the_operation_and_the_cause() {
    let fake = FakeFis::start(FakeScript {
        start_error: Some(FakeError::validation(
            "Target resolution failed for orchestrator-tasks",
        )),
        ..FakeScript::default()
    })
    .await
    .unwrap();
    let e = runner(&fake)
        .run(
            &template(),
            RunStage::Preview,
            "t",
            std::future::pending(),
            |_| {},
        )
        .await
        .unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with(
            "FIS StartExperiment failed: ValidationException: Target resolution failed for orchestrator-tasks"
        ),
        "{text}"
    );
    assert!(text.contains("gameday fis lint"), "{text}");
}

#[tokio::test]
async fn status_and_stop_by_id() {
    let fake = FakeFis::start(FakeScript {
        steps: vec![FakeStep::new("running", &[("wait-1", "running")])],
        ..FakeScript::default()
    })
    .await
    .unwrap();
    let r = runner(&fake);
    let s = r.status(EXPERIMENT_ID).await.unwrap();
    assert_eq!(s.status, "running");
    assert_eq!(s.actions["wait-1"].0, "running");
    assert_eq!(r.stop(EXPERIMENT_ID).await.unwrap().status, "stopping");
    let e = r.status("EXPnope").await.unwrap_err();
    assert!(e.to_string().contains("ResourceNotFoundException"), "{e}");
}

#[tokio::test]
async fn an_unreachable_endpoint_is_a_transport_error() {
    let fake = FakeFis::start(FakeScript::default()).await.unwrap();
    let r = runner(&fake);
    drop(fake);
    tokio::time::sleep(Duration::from_millis(20)).await;
    let e = r.status(EXPERIMENT_ID).await.unwrap_err();
    assert!(
        matches!(
            e,
            FisError::Transport {
                operation: "GetExperiment",
                ..
            }
        ),
        "{e:?}"
    );
}
