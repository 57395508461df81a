//! One test per guardrail, each with an input that trips it, checking the refusal names the
//! problem and says what to change.

mod common;

use std::time::Duration;

use common::*;
use gameday_fis::guardrails::{Refusal, Rule};
use gameday_fis::render::{RenderError, plan};
use gameday_fis::template::{StopCondition, TemplateTarget};
use gameday_fis::{Bindings, build, lint, render};
use gameday_scenario::{FaultKind, Scenario};

fn refusals(s: &Scenario, b: &Bindings) -> Vec<Refusal> {
    plan(s, b).expect_err("expected a refusal")
}

fn assert_refused(found: &[Refusal], rule: Rule, what: &str, fix: &str) {
    let r = found
        .iter()
        .find(|r| r.rule == rule)
        .unwrap_or_else(|| panic!("no {rule:?} in {found:?}"));
    assert!(r.what.contains(what), "{r}");
    assert!(r.fix.contains(fix), "{r}");
}

#[test]
fn a_clean_plan_passes_every_guardrail() {
    assert_eq!(plan(&mixed(), &bindings()).err(), None);
}

#[test]
fn refuses_a_template_without_stop_condition() {
    let b = bindings_with(|s| {
        s.replace(
            r#"stop_alarms = ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:dead-letters"]"#,
            "stop_alarms = []",
        )
    });
    let found = refusals(&single_throttle(), &b);
    assert_refused(&found, Rule::NoStopCondition, "no stop condition", "stop_alarms");
    // Rendering refuses too, and says so.
    let e = render(&single_throttle(), &b, None).unwrap_err();
    assert!(
        matches!(e, RenderError::Refused(_)) && e.to_string().contains("stop_alarms"),
        "{e}"
    );
}

#[test]
fn refuses_more_than_five_stop_conditions() {
    let b = bindings();
    let mut p = build(&single_throttle(), &b).unwrap();
    p.template.stop_conditions = (0..6)
        .map(|i| StopCondition {
            source: "aws:cloudwatch:alarm".into(),
            value: Some(format!("arn:aws:cloudwatch:eu-west-1:123456789012:alarm:a{i}")),
        })
        .collect();
    assert_refused(
        &lint(&p.template, &b),
        Rule::TooManyStopConditions,
        "6 stop conditions",
        "composite alarm",
    );
}

#[test]
fn refuses_targets_not_scoped_by_arn_or_tag() {
    let b = bindings_with(|s| {
        s.replace(r#"ecs_tasks = { tags = { service = "trade-orchestrator" }, parameters = { cluster = "trades" } }"#, r#"ecs_tasks = { parameters = { cluster = "trades" } }"#)
    });
    let s = scenario(
        "crash",
        vec![fault(
            FaultKind::Crash,
            gameday_scenario::Target::Orchestrator,
            min(1),
            min(2),
        )],
    );
    assert_refused(
        &refusals(&s, &b),
        Rule::UnscopedTarget,
        "orchestrator-tasks",
        "`arns`",
    );
    let b = bindings();
    let mut p = build(&s, &b).unwrap();
    p.template.targets.insert(
        "wild".into(),
        TemplateTarget {
            resource_type: "aws:ecs:task".into(),
            resource_arns: vec!["arn:aws:ecs:eu-west-1:123456789012:task/*".into()],
            resource_tags: Default::default(),
            parameters: Default::default(),
            selection_mode: "ALL".into(),
        },
    );
    assert_refused(
        &lint(&p.template, &b),
        Rule::UnscopedTarget,
        "wild",
        "no wildcards",
    );
}

#[test]
fn refuses_durations_outside_fis_limits() {
    let b = bindings();
    let short = scenario(
        "short",
        vec![fault(
            FaultKind::Hang { rate: 0.2 },
            EXTRACTION,
            min(2),
            Duration::from_secs(30),
        )],
    );
    // A 30 s flag fault is fine (its automation runs 1m30s, within limits); a native action
    // lasting 30 s is not.
    let native = scenario(
        "short-partition",
        vec![fault(
            FaultKind::Partition,
            MATCHING,
            min(2),
            Duration::from_secs(30),
        )],
    );
    assert_refused(
        &refusals(&native, &b),
        Rule::DurationOutOfRange,
        "lasts 30s",
        "between 1m and 12h",
    );
    let offset = scenario(
        "offset",
        vec![fault(
            FaultKind::Hang { rate: 0.2 },
            EXTRACTION,
            Duration::from_secs(20),
            min(2),
        )],
    );
    assert_refused(
        &refusals(&offset, &b),
        Rule::DurationOutOfRange,
        "wait-1",
        "at least one minute",
    );
    let long = scenario(
        "long",
        vec![fault(FaultKind::Partition, MATCHING, min(60), min(12 * 60))],
    );
    let found = refusals(&long, &b);
    assert_refused(&found, Rule::DurationOutOfRange, "12 hours", "shorten");
    assert!(plan(&short, &b).is_ok());
}

#[test]
fn refuses_too_many_actions() {
    let faults = (0..11)
        .map(|i| {
            fault(
                FaultKind::Error {
                    rate: 0.1,
                    status: 500,
                },
                EXTRACTION,
                min(2 + 3 * i),
                min(1),
            )
        })
        .collect();
    let found = refusals(&scenario("many", faults), &bindings());
    assert_refused(&found, Rule::TooManyActions, "22 actions", "split the scenario");
}

#[test]
fn refuses_too_many_parallel_actions() {
    let b = bindings();
    let targets = [PDF, EXTRACTION, MATCHING, EXCEPTIONS];
    let faults = (0..11u64)
        .map(|i| {
            fault(
                FaultKind::Latency {
                    delay: Duration::from_millis(10 * i + 10),
                    jitter: Duration::ZERO,
                },
                targets[i as usize % 4],
                min(1),
                min(5),
            )
        })
        .collect();
    let found = refusals(&scenario("parallel", faults), &b);
    assert_refused(
        &found,
        Rule::TooManyParallel,
        "11 actions run at once at offset 1m",
        "stagger",
    );
}

#[test]
fn refuses_accounts_and_regions_outside_the_allow_list() {
    let b = bindings_with(|s| {
        s.replace(
            r#"allowed_accounts = ["123456789012"]"#,
            r#"allowed_accounts = ["999999999999"]"#,
        )
    });
    assert_refused(
        &refusals(&single_throttle(), &b),
        Rule::AccountNotAllowed,
        "account 123456789012 is not in allowed_accounts",
        "allowed account",
    );
    let b = bindings_with(|s| {
        s.replace(
            r#"allowed_regions = ["eu-west-1"]"#,
            r#"allowed_regions = ["us-east-1"]"#,
        )
    });
    assert_refused(
        &refusals(&single_throttle(), &b),
        Rule::RegionNotAllowed,
        "region eu-west-1",
        "allowed region",
    );
    // A resource in another account, even with the bindings' own account allowed.
    let b = bindings_with(|s| {
        s.replace(
            "arn:aws:lambda:eu-west-1:123456789012:function",
            "arn:aws:lambda:eu-west-1:210987654321:function",
        )
    });
    let s = scenario(
        "lambda",
        vec![fault(FaultKind::Crash, EXTRACTION, min(1), min(2))],
    );
    assert_refused(
        &refusals(&s, &b),
        Rule::AccountNotAllowed,
        "210987654321",
        "allowed account",
    );
}

#[test]
fn refuses_a_fault_without_expiry() {
    let b = bindings();
    let mut p = build(&single_throttle(), &b).unwrap();
    let action = p
        .template
        .actions
        .get_mut("f1-throttle-trade-extraction")
        .unwrap();
    let params = action.parameters.get_mut("documentParameters").unwrap();
    *params = params.replace(
        "\"ExpiresAfterSeconds\":[\"300\"]",
        "\"ExpiresAfterSeconds\":[\"0\"]",
    );
    assert_refused(
        &lint(&p.template, &b),
        Rule::NoExpiry,
        "without an expiry time",
        "ExpiresAfterSeconds",
    );
    let mut p = build(
        &scenario("p", vec![fault(FaultKind::Partition, MATCHING, min(1), min(2))]),
        &b,
    )
    .unwrap();
    p.template
        .actions
        .get_mut("f1-partition-trade-matching")
        .unwrap()
        .parameters
        .remove("duration");
    assert_refused(
        &lint(&p.template, &b),
        Rule::NoExpiry,
        "has no duration",
        "ISO 8601",
    );
}

#[test]
fn refuses_overlapping_flags_on_one_agent() {
    let s = scenario(
        "overlap",
        vec![
            fault(
                FaultKind::Throttle {
                    rate: 0.5,
                    retry_after: None,
                },
                EXTRACTION,
                min(1),
                min(3),
            ),
            fault(
                FaultKind::Error {
                    rate: 0.5,
                    status: 500,
                },
                EXTRACTION,
                min(3),
                min(3),
            ),
        ],
    );
    assert_refused(
        &refusals(&s, &bindings()),
        Rule::OverlappingFlags,
        "/gameday/faults/trade-extraction",
        "do not overlap",
    );
}

#[test]
fn refuses_faults_with_no_counterpart() {
    let b = bindings_with(|s| {
        s.replace("[targets.orchestrator]", "[targets.orchestrator-unused]").replace("[targets.orchestrator-unused]\necs_tasks = { tags = { service = \"trade-orchestrator\" }, parameters = { cluster = \"trades\" } }\n", "")
    });
    let s = scenario(
        "orchestrator-crash",
        vec![fault(
            FaultKind::Crash,
            gameday_scenario::Target::Orchestrator,
            min(1),
            min(2),
        )],
    );
    let found = build(&s, &b).unwrap_err();
    assert_refused(
        &found,
        Rule::Unmappable,
        "crash on orchestrator",
        "[targets.orchestrator]",
    );
}

#[test]
fn refuses_a_broken_start_after_chain() {
    let b = bindings();
    let mut p = build(&mixed(), &b).unwrap();
    p.template.actions.get_mut("wait-1").unwrap().start_after = vec!["wait-2".into()];
    assert_refused(&lint(&p.template, &b), Rule::BadTimeline, "cycle", "chain");
}
