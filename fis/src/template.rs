//! The experiment template: a CreateExperimentTemplate request body, built from a scenario
//! and its bindings.
//!
//! Timeline offsets become a chain of `aws:fis:wait` actions, one per distinct fault start,
//! each waiting for the gap since the previous one; a fault's action starts after the wait
//! that ends at its offset. The chain keeps at most one wait running at a time, so the waits
//! cost one parallel slot. [`schedule`] reads offsets back from any template, which is how
//! guardrails and tests check the timeline without trusting the builder.

use std::collections::BTreeMap;
use std::time::Duration;

use gameday_scenario::Scenario;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::bindings::Bindings;
use crate::guardrails::{Refusal, Rule};
use crate::iso;
use crate::mapping::{Mapping, Method, map_fault};

/// How long a flag automation may run beyond its fault: setting and clearing the flag.
pub const AUTOMATION_MARGIN: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentTemplate {
    pub client_token: String,
    pub description: String,
    pub role_arn: String,
    pub stop_conditions: Vec<StopCondition>,
    pub targets: BTreeMap<String, TemplateTarget>,
    pub actions: BTreeMap<String, TemplateAction>,
    pub tags: BTreeMap<String, String>,
    pub experiment_options: ExperimentOptions,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StopCondition {
    pub source: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateTarget {
    pub resource_type: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resource_arns: Vec<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub resource_tags: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    pub selection_mode: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TemplateAction {
    pub action_id: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub parameters: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub targets: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub start_after: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExperimentOptions {
    pub account_targeting: String,
    pub empty_target_resolution_mode: String,
}

/// A rendered scenario: the template, and how each fault was mapped.
#[derive(Debug, Clone, PartialEq)]
pub struct Plan {
    pub scenario: Scenario,
    pub template: ExperimentTemplate,
    pub mappings: Vec<Mapping>,
}

pub const WAIT: &str = "aws:fis:wait";
pub const AUTOMATION: &str = "aws:ssm:start-automation-execution";

/// Builds the template. Faults that cannot be mapped are refused, all of them at once.
pub fn build(scenario: &Scenario, bindings: &Bindings) -> Result<Plan, Vec<Refusal>> {
    let mut refusals = Vec::new();
    let mut mappings = Vec::new();
    for (i, fault) in scenario.faults.iter().enumerate() {
        match map_fault(i + 1, fault, bindings) {
            Ok(m) => mappings.push(m),
            Err(r) => refusals.push(r),
        }
    }
    if !refusals.is_empty() {
        return Err(refusals);
    }
    let mut actions = BTreeMap::new();
    let mut targets = BTreeMap::new();
    let mut starts: Vec<Duration> = mappings
        .iter()
        .map(|m| m.fault.start)
        .filter(|s| !s.is_zero())
        .collect();
    starts.sort();
    starts.dedup();
    let wait_name = |k: usize| format!("wait-{}", k + 1);
    let mut previous = Duration::ZERO;
    for (k, start) in starts.iter().enumerate() {
        actions.insert(
            wait_name(k),
            TemplateAction {
                action_id: WAIT.into(),
                description: format!("timeline: reach offset {}", humantime::format_duration(*start)),
                parameters: BTreeMap::from([("duration".into(), iso::format(*start - previous))]),
                targets: BTreeMap::new(),
                start_after: if k == 0 { vec![] } else { vec![wait_name(k - 1)] },
            },
        );
        previous = *start;
    }
    for m in &mappings {
        let start_after = starts
            .iter()
            .position(|s| *s == m.fault.start)
            .map(|k| vec![wait_name(k)])
            .unwrap_or_default();
        let f = &m.fault;
        let what = format!(
            "{} on {} from {} for {}",
            f.kind.name(),
            f.target.name(),
            humantime::format_duration(f.start),
            humantime::format_duration(f.duration)
        );
        let action = match &m.method {
            Method::Flag { agent, fault } => {
                let expires_after = f.duration + bindings.fault_flags.expiry_grace;
                let document_parameters = serde_json::json!({
                    "AutomationAssumeRole": [bindings.fault_flags.automation_role_arn],
                    "FlagName": [bindings.flag_name(*agent)],
                    "FlagValue": [serde_json::to_string(fault).unwrap_or_default()],
                    "Duration": [iso::format(f.duration)],
                    "ExpiresAfterSeconds": [expires_after.as_secs().to_string()],
                });
                TemplateAction {
                    action_id: AUTOMATION.into(),
                    description: format!("fault flag: {what}"),
                    parameters: BTreeMap::from([
                        ("documentArn".into(), bindings.document_arn()),
                        ("documentParameters".into(), document_parameters.to_string()),
                        ("maxDuration".into(), iso::format(f.duration + AUTOMATION_MARGIN)),
                    ]),
                    targets: BTreeMap::new(),
                    start_after,
                }
            }
            Method::Native {
                action_id,
                resource_type,
                target_key,
                target_name,
                resources,
                parameters,
                ..
            } => {
                targets.insert(
                    target_name.clone(),
                    TemplateTarget {
                        resource_type: resource_type.to_string(),
                        resource_arns: resources.arns.clone(),
                        resource_tags: resources.tags.clone(),
                        parameters: resources.parameters.clone(),
                        selection_mode: resources.selection_mode.clone(),
                    },
                );
                TemplateAction {
                    action_id: action_id.to_string(),
                    description: what,
                    parameters: parameters.clone(),
                    targets: BTreeMap::from([(target_key.to_string(), target_name.clone())]),
                    start_after,
                }
            }
        };
        actions.insert(m.action_name(), action);
    }
    let mut template = ExperimentTemplate {
        client_token: String::new(),
        description: format!("gameday {}: {}", scenario.name, scenario.description)
            .chars()
            .take(512)
            .collect(),
        role_arn: bindings.role_arn.clone(),
        stop_conditions: bindings
            .stop_alarms
            .iter()
            .map(|a| StopCondition {
                source: "aws:cloudwatch:alarm".into(),
                value: Some(a.clone()),
            })
            .collect(),
        targets,
        actions,
        tags: BTreeMap::from([
            ("gameday:scenario".into(), scenario.name.clone()),
            ("Name".into(), format!("gameday-{}", scenario.name)),
        ]),
        experiment_options: ExperimentOptions {
            account_targeting: "single-account".into(),
            empty_target_resolution_mode: "fail".into(),
        },
    };
    template.client_token = client_token(&template);
    Ok(Plan {
        scenario: scenario.clone(),
        template,
        mappings,
    })
}

/// A token derived from the template's content: creating the same template twice is one
/// template, and any change makes a new one.
pub fn client_token(template: &ExperimentTemplate) -> String {
    let mut t = template.clone();
    t.client_token.clear();
    let digest = Sha256::digest(serde_json::to_vec(&t).unwrap_or_default());
    let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
    format!("gameday-{hex}")
}

/// When an action starts and how long it runs, read from a template alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slot {
    pub start: Duration,
    /// Zero for instantaneous actions (stop-task).
    pub duration: Duration,
}

impl Slot {
    pub fn end(&self) -> Duration {
        self.start + self.duration
    }
}

/// How long an action runs, from its parameters.
pub fn action_duration(action: &TemplateAction) -> Option<Duration> {
    let key = if action.action_id == AUTOMATION {
        "maxDuration"
    } else {
        "duration"
    };
    action.parameters.get(key).and_then(|d| iso::parse(d))
}

/// Start offsets of every action, following `startAfter` (an action starts when all it waits
/// for have ended). Fails with the names involved on an unknown reference or a cycle.
pub fn schedule(template: &ExperimentTemplate) -> Result<BTreeMap<String, Slot>, Refusal> {
    let mut slots: BTreeMap<String, Slot> = BTreeMap::new();
    while slots.len() < template.actions.len() {
        let before = slots.len();
        for (name, action) in &template.actions {
            if slots.contains_key(name) {
                continue;
            }
            if let Some(missing) = action
                .start_after
                .iter()
                .find(|p| !template.actions.contains_key(*p))
            {
                return Err(Refusal::new(
                    Rule::BadTimeline,
                    format!("action `{name}` starts after unknown action `{missing}`"),
                    "name an action of this template in startAfter",
                ));
            }
            if action.start_after.iter().all(|p| slots.contains_key(p)) {
                let start = action
                    .start_after
                    .iter()
                    .map(|p| slots[p].end())
                    .max()
                    .unwrap_or_default();
                slots.insert(
                    name.clone(),
                    Slot {
                        start,
                        duration: action_duration(action).unwrap_or_default(),
                    },
                );
            }
        }
        if slots.len() == before {
            let stuck: Vec<&String> = template
                .actions
                .keys()
                .filter(|n| !slots.contains_key(*n))
                .collect();
            return Err(Refusal::new(
                Rule::BadTimeline,
                format!("startAfter forms a cycle among {stuck:?}"),
                "make startAfter a chain from the experiment start",
            ));
        }
    }
    Ok(slots)
}
