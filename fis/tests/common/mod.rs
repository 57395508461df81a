//! Shared fixtures: bindings for a deployment and scenarios built in code.
#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;

use gameday_fis::Bindings;
use gameday_orchestrator::domain::Stage;
use gameday_orchestrator::resilience::PolicyConfig;
use gameday_scenario::{Expect, Fault, FaultKind, Scenario, Target, Workload};

pub const BINDINGS: &str = r#"
account = "123456789012"
region = "eu-west-1"
allowed_accounts = ["123456789012"]
allowed_regions = ["eu-west-1"]
role_arn = "arn:aws:iam::123456789012:role/gameday-fis"
stop_alarms = ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:dead-letters"]

[fault_flags]
prefix = "/gameday/faults"
document = "gameday-fault-flag"
automation_role_arn = "arn:aws:iam::123456789012:role/gameday-flags"
expiry_grace = "2m"

[targets.orchestrator]
ecs_tasks = { tags = { service = "trade-orchestrator" }, parameters = { cluster = "trades" } }

[targets.trade-extraction]
lambda_functions = { arns = ["arn:aws:lambda:eu-west-1:123456789012:function:trade-extraction"] }

[targets.trade-matching]
subnets = { tags = { tier = "matching" } }
"#;

pub fn bindings() -> Bindings {
    Bindings::parse(BINDINGS, Path::new("bindings.toml")).unwrap()
}

pub fn bindings_with(edit: impl FnOnce(&str) -> String) -> Bindings {
    Bindings::parse(&edit(BINDINGS), Path::new("bindings.toml")).unwrap()
}

pub fn min(m: u64) -> Duration {
    Duration::from_secs(m * 60)
}

pub fn fault(kind: FaultKind, target: Target, start: Duration, duration: Duration) -> Fault {
    Fault {
        kind,
        target,
        start,
        duration,
    }
}

pub fn scenario(name: &str, faults: Vec<Fault>) -> Scenario {
    Scenario {
        name: name.into(),
        description: format!("{name} built in code"),
        seed: 42,
        duration: min(15),
        workload: Workload::default(),
        policy: PolicyConfig::default(),
        faults,
        expect: Expect::default(),
    }
}

pub const EXTRACTION: Target = Target::Agent(Stage::TradeExtraction);
pub const MATCHING: Target = Target::Agent(Stage::TradeMatching);
pub const PDF: Target = Target::Agent(Stage::PdfAdapter);
pub const EXCEPTIONS: Target = Target::Agent(Stage::ExceptionManagement);

/// A scenario that uses every mapping: flags, ECS, Lambda, subnets and their fallbacks.
pub fn mixed() -> Scenario {
    scenario(
        "mixed",
        vec![
            fault(
                FaultKind::Throttle {
                    rate: 0.5,
                    retry_after: Some(Duration::from_secs(2)),
                },
                PDF,
                min(2),
                min(3),
            ),
            fault(
                FaultKind::Latency {
                    delay: Duration::from_millis(800),
                    jitter: Duration::from_millis(200),
                },
                EXCEPTIONS,
                Duration::ZERO,
                min(5),
            ),
            fault(FaultKind::Crash, Target::Orchestrator, min(4), min(2)),
            fault(FaultKind::Partition, MATCHING, min(6), min(2)),
            fault(
                FaultKind::Error {
                    rate: 0.3,
                    status: 503,
                },
                EXCEPTIONS,
                min(6),
                min(1),
            ),
            fault(
                FaultKind::Latency {
                    delay: Duration::from_millis(300),
                    jitter: Duration::ZERO,
                },
                EXTRACTION,
                min(2),
                min(4),
            ),
            fault(FaultKind::Crash, PDF, min(8), min(2)),
        ],
    )
}

pub fn single_throttle() -> Scenario {
    scenario(
        "extraction-throttling",
        vec![fault(
            FaultKind::Throttle {
                rate: 0.5,
                retry_after: None,
            },
            EXTRACTION,
            min(2),
            min(3),
        )],
    )
}
