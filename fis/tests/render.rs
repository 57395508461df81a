//! Rendering: the template's structure and values for every scenario (in code and in the
//! catalog), checked against the scenario itself rather than a snapshot.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use common::*;
use gameday_fis::guardrails::Rule;
use gameday_fis::mapping::Method;
use gameday_fis::template::{AUTOMATION, WAIT};
use gameday_fis::{Bindings, Plan, Prediction, iso, render, schedule};
use gameday_orchestrator::faults::AgentFault;
use gameday_scenario::{FaultKind, Scenario};
use serde_json::Value;

/// Every structural property a rendered template must have for `scenario`.
fn check_plan(scenario: &Scenario, bindings: &Bindings, plan: &Plan, json: &Value) {
    let t = &plan.template;
    // The JSON is a CreateExperimentTemplate request.
    for key in [
        "clientToken",
        "description",
        "roleArn",
        "stopConditions",
        "targets",
        "actions",
        "tags",
        "experimentOptions",
    ] {
        assert!(json.get(key).is_some(), "{}: missing {key}", scenario.name);
    }
    assert_eq!(json["roleArn"], bindings.role_arn.as_str());
    let alarms: Vec<&str> = json["stopConditions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            assert_eq!(s["source"], "aws:cloudwatch:alarm");
            s["value"].as_str().unwrap()
        })
        .collect();
    assert_eq!(
        alarms,
        bindings
            .stop_alarms
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
    );

    let mut starts: Vec<Duration> = scenario
        .faults
        .iter()
        .map(|f| f.start)
        .filter(|s| !s.is_zero())
        .collect();
    starts.sort();
    starts.dedup();
    assert_eq!(
        t.actions.len(),
        scenario.faults.len() + starts.len(),
        "{}: one action per fault plus one wait per distinct start",
        scenario.name
    );

    let slots = schedule(t).unwrap();
    // Waits form a single chain.
    let waits: BTreeMap<&String, _> = t.actions.iter().filter(|(_, a)| a.action_id == WAIT).collect();
    for (name, w) in &waits {
        assert!(w.start_after.len() <= 1, "{name}");
        assert!(
            w.start_after.iter().all(|p| waits.contains_key(p)),
            "{name} waits only on waits"
        );
        assert!(w.targets.is_empty());
    }
    assert_eq!(
        waits.values().filter(|w| w.start_after.is_empty()).count(),
        usize::from(!starts.is_empty())
    );

    for (m, f) in plan.mappings.iter().zip(&scenario.faults) {
        assert_eq!(&m.fault, f);
        let name = format!("f{}-{}-{}", m.index, f.kind.name(), f.target.name());
        let action = &t.actions[&name];
        let json_action = &json["actions"][&name];
        assert_eq!(json_action["actionId"], action.action_id.as_str());
        // The startAfter chain reproduces the timeline offset exactly.
        assert_eq!(slots[&name].start, f.start, "{}: {name} offset", scenario.name);
        match &m.method {
            Method::Flag { agent, fault } => {
                assert_eq!(action.action_id, AUTOMATION);
                assert!(action.targets.is_empty());
                assert_eq!(
                    action.parameters["documentArn"],
                    "arn:aws:ssm:eu-west-1:123456789012:document/gameday-fault-flag"
                );
                assert_eq!(
                    iso::parse(&action.parameters["maxDuration"]),
                    Some(f.duration + Duration::from_secs(60))
                );
                let p: Value = serde_json::from_str(&action.parameters["documentParameters"]).unwrap();
                assert_eq!(p["FlagName"][0], format!("/gameday/faults/{}", agent.name()));
                assert_eq!(Some(*agent), f.target.agent());
                let flagged: AgentFault = serde_json::from_str(p["FlagValue"][0].as_str().unwrap()).unwrap();
                assert_eq!(&flagged, fault);
                assert_eq!(iso::parse(p["Duration"][0].as_str().unwrap()), Some(f.duration));
                assert_eq!(
                    p["ExpiresAfterSeconds"][0],
                    (f.duration + bindings.fault_flags.expiry_grace)
                        .as_secs()
                        .to_string()
                );
                let same = match (&f.kind, fault) {
                    (
                        FaultKind::Throttle { rate, retry_after },
                        AgentFault::Throttle {
                            rate: r,
                            retry_after: a,
                        },
                    ) => rate == r && retry_after == a,
                    (FaultKind::Error { rate, status }, AgentFault::Error { rate: r, status: s }) => {
                        rate == r && status == s
                    }
                    (FaultKind::Latency { delay, jitter }, AgentFault::Latency { delay: d, jitter: j }) => {
                        delay == d && jitter == j
                    }
                    (FaultKind::Hang { rate }, AgentFault::Hang { rate: r }) => rate == r,
                    (FaultKind::Malformed { rate }, AgentFault::Malformed { rate: r }) => rate == r,
                    (FaultKind::Crash, AgentFault::Error { rate, status: 503 }) => {
                        *rate == 1.0 && m.approximation.is_some()
                    }
                    (FaultKind::Partition, AgentFault::Hang { rate }) => {
                        *rate == 1.0 && m.approximation.is_some()
                    }
                    _ => false,
                };
                assert!(same, "{}: {name} flag {fault:?} for {:?}", scenario.name, f.kind);
            }
            Method::Native {
                action_id,
                target_key,
                target_name,
                timed,
                ..
            } => {
                assert_eq!(action.action_id, *action_id);
                assert_eq!(action.targets[*target_key], *target_name);
                let target = &json["targets"][target_name];
                assert!(
                    target["resourceArns"].is_array() || target["resourceTags"].is_object(),
                    "{target_name} is scoped"
                );
                if *timed {
                    assert_eq!(iso::parse(&action.parameters["duration"]), Some(f.duration));
                }
            }
        }
    }
}

#[test]
fn mixed_scenario_renders_every_mapping() {
    let b = bindings();
    let s = mixed();
    let a = render(&s, &b, None).unwrap();
    check_plan(&s, &b, &a.plan, &a.template);
    let t = &a.template;
    let ids: BTreeMap<&str, &str> = t["actions"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.as_str(), v["actionId"].as_str().unwrap()))
        .collect();
    assert_eq!(
        ids,
        BTreeMap::from([
            ("f1-throttle-pdf-adapter", AUTOMATION),
            ("f2-latency-exception-management", AUTOMATION),
            ("f3-crash-orchestrator", "aws:ecs:stop-task"),
            ("f4-partition-trade-matching", "aws:network:disrupt-connectivity"),
            ("f5-error-exception-management", AUTOMATION),
            ("f6-latency-trade-extraction", "aws:lambda:invocation-add-delay"),
            ("f7-crash-pdf-adapter", AUTOMATION),
            ("wait-1", WAIT),
            ("wait-2", WAIT),
            ("wait-3", WAIT),
            ("wait-4", WAIT),
        ])
    );
    // Waits chain 2m → 4m → 6m → 8m as gaps.
    let gaps: Vec<&str> = (1..=4)
        .map(|k| {
            t["actions"][format!("wait-{k}")]["parameters"]["duration"]
                .as_str()
                .unwrap()
        })
        .collect();
    assert_eq!(gaps, ["PT2M", "PT2M", "PT2M", "PT2M"]);
    assert_eq!(
        t["actions"]["wait-3"]["startAfter"],
        serde_json::json!(["wait-2"])
    );
    assert_eq!(
        t["actions"]["f4-partition-trade-matching"]["startAfter"],
        serde_json::json!(["wait-3"])
    );
    assert!(
        t["actions"]["f2-latency-exception-management"]
            .get("startAfter")
            .is_none()
    );
    assert_eq!(
        t["actions"]["f4-partition-trade-matching"]["parameters"],
        serde_json::json!({"duration": "PT2M", "scope": "all"})
    );
    assert_eq!(
        t["actions"]["f6-latency-trade-extraction"]["parameters"]["startupDelayMilliseconds"],
        "300"
    );
    assert_eq!(
        t["targets"]["orchestrator-tasks"],
        serde_json::json!({
        "resourceType": "aws:ecs:task", "resourceTags": {"service": "trade-orchestrator"},
        "parameters": {"cluster": "trades"}, "selectionMode": "ALL"})
    );
    assert_eq!(
        t["targets"]["trade-extraction-functions"]["resourceArns"][0],
        "arn:aws:lambda:eu-west-1:123456789012:function:trade-extraction"
    );
    assert_eq!(t["experimentOptions"]["emptyTargetResolutionMode"], "fail");
    // The runbook names each approximation and the stop paths.
    for needle in [
        "f3-crash-orchestrator",
        "f4-partition-trade-matching",
        "f7-crash-pdf-adapter",
        "gameday fis stop",
        "No prediction attached",
    ] {
        assert!(a.runbook.contains(needle), "runbook lacks {needle}");
    }
    assert!(
        !a.runbook.contains("`f1-throttle-pdf-adapter`: "),
        "exact faults are not listed as approximations"
    );
    // Least privilege: only the services used, on the bound resources.
    let perms = a.permissions_policy.to_string();
    for needle in [
        "ecs:StopTask",
        "ssm:StartAutomationExecution",
        "ec2:CreateNetworkAcl",
        "lambda:GetFunction",
        "iam:PassRole",
        "arn:aws:lambda:eu-west-1:123456789012:function:trade-extraction",
    ] {
        assert!(perms.contains(needle), "permissions lack {needle}");
    }
    assert!(!perms.contains("\"*:*\"") && !perms.contains("\"ecs:*\""));
}

#[test]
fn single_flag_scenario_has_exact_values_and_narrow_permissions() {
    let b = bindings();
    let s = single_throttle();
    let a = render(&s, &b, None).unwrap();
    check_plan(&s, &b, &a.plan, &a.template);
    let action = &a.template["actions"]["f1-throttle-trade-extraction"];
    assert_eq!(action["startAfter"], serde_json::json!(["wait-1"]));
    assert_eq!(action["parameters"]["maxDuration"], "PT4M");
    let p: Value =
        serde_json::from_str(action["parameters"]["documentParameters"].as_str().unwrap()).unwrap();
    assert_eq!(p["ExpiresAfterSeconds"][0], "300");
    assert_eq!(p["FlagValue"][0], r#"{"kind":"throttle","rate":0.5}"#);
    let perms = a.permissions_policy.to_string();
    assert!(
        !perms.contains("ecs:") && !perms.contains("ec2:") && !perms.contains("lambda:"),
        "{perms}"
    );
    // Automation document: set with expiry, hold, clear, and clear on cancel or failure.
    let steps = a.automation_document["mainSteps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["setFlag", "holdFault", "clearFlag"]);
    for s in &steps[..2] {
        assert_eq!(s["onFailure"], "step:clearFlag");
        assert_eq!(s["onCancel"], "step:clearFlag");
    }
    assert!(
        steps[0]["inputs"]["Script"]
            .as_str()
            .unwrap()
            .contains("expires_at")
    );
    assert_eq!(
        a.trust_policy["Statement"][0]["Principal"]["Service"],
        "fis.amazonaws.com"
    );
}

#[test]
fn client_token_is_stable_and_tracks_content() {
    let b = bindings();
    let one = render(&single_throttle(), &b, None).unwrap();
    let again = render(&single_throttle(), &b, None).unwrap();
    assert_eq!(one.template["clientToken"], again.template["clientToken"]);
    let mut s = single_throttle();
    s.faults[0].duration = min(4);
    let other = render(&s, &b, None).unwrap();
    assert_ne!(one.template["clientToken"], other.template["clientToken"]);
}

#[test]
fn prediction_is_quoted_in_the_runbook() {
    let p = Prediction {
        seeds: 32,
        pass_rate: 0.9375,
        matched_ratio: 0.912,
        mttd_ms: Some(gameday_fis::render::Quantiles { p50: 4200, p99: 9100 }),
        mttr_ms: None,
    };
    let a = render(&single_throttle(), &bindings(), Some(&p)).unwrap();
    for needle in [
        "Over 32 simulated seeds",
        "94 % of runs",
        "0.912",
        "p50 4200 ms, p99 9100 ms",
        "not observed",
    ] {
        assert!(
            a.runbook.contains(needle),
            "runbook lacks {needle}:\n{}",
            a.runbook
        );
    }
}

#[test]
fn artifacts_are_written_to_the_directory() {
    let dir = std::env::temp_dir().join(format!("gameday-fis-render-{}", std::process::id()));
    let a = render(&mixed(), &bindings(), None).unwrap();
    let written = a.write_to(&dir).unwrap();
    assert_eq!(written.len(), 6);
    let back: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("experiment-template.json")).unwrap())
            .unwrap();
    assert_eq!(back, a.template);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every scenario of the shipped catalog renders (or is refused only for timings FIS cannot
/// express), with the same structural checks.
#[test]
fn every_catalog_scenario_renders() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scenarios/catalog");
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return;
    };
    let mut files: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "toml"))
        .collect();
    files.sort();
    let b = bindings();
    for file in files {
        let s = gameday_scenario::load(&file).unwrap_or_else(|e| panic!("{e}"));
        match render(&s, &b, None) {
            Ok(a) => check_plan(&s, &b, &a.plan, &a.template),
            Err(gameday_fis::render::RenderError::Refused(refusals)) => {
                // Only timings FIS cannot express may be refused, and only when present.
                let mut starts: Vec<Duration> = s.faults.iter().map(|f| f.start).collect();
                starts.push(Duration::ZERO);
                starts.sort();
                starts.dedup();
                let short = s.faults.iter().any(|f| f.duration < min(1))
                    || starts.windows(2).any(|w| w[1] - w[0] < min(1));
                let overlap = s.faults.iter().enumerate().any(|(i, f)| {
                    s.faults[i + 1..].iter().any(|g| {
                        g.target == f.target
                            && f.target.agent().is_some()
                            && f.start < g.end() + min(1)
                            && g.start < f.end() + min(1)
                    })
                });
                for r in &refusals {
                    match r.rule {
                        Rule::DurationOutOfRange => assert!(short, "{}: {r}", file.display()),
                        Rule::OverlappingFlags => assert!(overlap, "{}: {r}", file.display()),
                        _ => panic!("{}: {r}", file.display()),
                    }
                }
            }
            Err(e) => panic!("{}: {e}", file.display()),
        }
    }
}
