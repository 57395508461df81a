//! Guardrails: what gameday refuses to render or run, each refusal saying what to change.
//!
//! The checks read the rendered template (and the bindings' allow-lists), not the scenario,
//! so they hold for whatever the template builder produced and for templates edited by hand.
//! FIS limits checked: 20 actions, 10 running at once, 5 stop conditions, action and
//! experiment durations from one minute to 12 hours.

use std::fmt;
use std::time::Duration;

use crate::bindings::Bindings;
use crate::template::{AUTOMATION, ExperimentTemplate, WAIT, action_duration, schedule};

pub const MAX_ACTIONS: usize = 20;
pub const MAX_PARALLEL: usize = 10;
pub const MAX_STOP_CONDITIONS: usize = 5;
pub const MIN_DURATION: Duration = Duration::from_secs(60);
pub const MAX_DURATION: Duration = Duration::from_secs(12 * 3600);

/// Which guardrail refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[non_exhaustive]
pub enum Rule {
    NoStopCondition,
    TooManyStopConditions,
    UnscopedTarget,
    DurationOutOfRange,
    TooManyActions,
    TooManyParallel,
    AccountNotAllowed,
    RegionNotAllowed,
    NoExpiry,
    OverlappingFlags,
    Unmappable,
    BadTimeline,
}

/// One refusal: what is wrong and how to fix it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rule: Rule,
    pub what: String,
    pub fix: String,
}

impl Refusal {
    pub fn new(rule: Rule, what: impl Into<String>, fix: impl Into<String>) -> Self {
        Refusal {
            rule,
            what: what.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; to fix: {}", self.what, self.fix)
    }
}

/// The account and region of an ARN (`arn:partition:service:region:account:...`).
fn arn_parts(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    (parts.next()? == "arn").then_some(())?;
    let (_, _, region, account) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    parts.next()?;
    Some((region, account))
}

/// Every refusal for `template` under `bindings`; empty means it may be rendered and run.
pub fn lint(template: &ExperimentTemplate, bindings: &Bindings) -> Vec<Refusal> {
    let mut out = Vec::new();
    let mut refuse = |rule, what: String, fix: &str| out.push(Refusal::new(rule, what, fix));

    if !bindings.allowed_accounts.contains(&bindings.account) {
        refuse(
            Rule::AccountNotAllowed,
            format!(
                "account {} is not in allowed_accounts {:?}",
                bindings.account, bindings.allowed_accounts
            ),
            "point the bindings at an allowed account, or add it to allowed_accounts after review",
        );
    }
    if !bindings.allowed_regions.contains(&bindings.region) {
        refuse(
            Rule::RegionNotAllowed,
            format!(
                "region {} is not in allowed_regions {:?}",
                bindings.region, bindings.allowed_regions
            ),
            "use an allowed region, or add it to allowed_regions after review",
        );
    }
    let mut arns: Vec<(String, &str)> = vec![("role_arn".into(), template.role_arn.as_str())];
    arns.extend(
        template
            .stop_conditions
            .iter()
            .filter_map(|s| s.value.as_deref())
            .map(|v| ("stop condition".to_string(), v)),
    );
    for (name, t) in &template.targets {
        arns.extend(
            t.resource_arns
                .iter()
                .map(|a| (format!("target `{name}`"), a.as_str())),
        );
    }
    for (name, a) in &template.actions {
        arns.extend(
            a.parameters
                .get("documentArn")
                .map(|d| (format!("action `{name}`"), d.as_str())),
        );
    }
    for (whose, arn) in arns {
        match arn_parts(arn) {
            None => refuse(
                Rule::AccountNotAllowed,
                format!("{whose}: `{arn}` is not an ARN"),
                "give a full ARN (arn:aws:<service>:<region>:<account>:...)",
            ),
            Some((region, account)) => {
                if !account.is_empty() && !bindings.allowed_accounts.iter().any(|a| a == account) {
                    refuse(
                        Rule::AccountNotAllowed,
                        format!("{whose}: `{arn}` is in account {account}, not in allowed_accounts"),
                        "use a resource of an allowed account",
                    );
                }
                if !region.is_empty() && !bindings.allowed_regions.iter().any(|r| r == region) {
                    refuse(
                        Rule::RegionNotAllowed,
                        format!("{whose}: `{arn}` is in region {region}, not in allowed_regions"),
                        "use a resource of an allowed region",
                    );
                }
            }
        }
    }

    if template.stop_conditions.iter().all(|s| s.source == "none") {
        refuse(
            Rule::NoStopCondition,
            "the template has no stop condition".into(),
            "add a CloudWatch alarm ARN to stop_alarms in the bindings (e.g. dead-lettered trades or p99 latency)",
        );
    }
    if template.stop_conditions.len() > MAX_STOP_CONDITIONS {
        refuse(
            Rule::TooManyStopConditions,
            format!(
                "{} stop conditions; FIS allows {MAX_STOP_CONDITIONS}",
                template.stop_conditions.len()
            ),
            "combine alarms into a composite alarm",
        );
    }

    for (name, t) in &template.targets {
        let wildcard = t.resource_arns.iter().any(|a| a.contains('*'));
        if (t.resource_arns.is_empty() && t.resource_tags.is_empty()) || wildcard {
            refuse(
                Rule::UnscopedTarget,
                format!(
                    "target `{name}` ({}) is not scoped by explicit ARNs or tags",
                    t.resource_type
                ),
                "give `arns` (no wildcards) or `tags` for it in the bindings",
            );
        }
    }

    if template.actions.len() > MAX_ACTIONS {
        refuse(
            Rule::TooManyActions,
            format!(
                "{} actions (waits included); FIS allows {MAX_ACTIONS}",
                template.actions.len()
            ),
            "split the scenario into several experiments, or align fault start times so they share waits",
        );
    }

    let mut flag_windows = Vec::new();
    for (name, a) in &template.actions {
        let timed = a.action_id != "aws:ecs:stop-task";
        match action_duration(a) {
            None if timed => refuse(
                Rule::NoExpiry,
                format!(
                    "action `{name}` ({}) has no duration, so nothing ends it",
                    a.action_id
                ),
                "give the action a `duration` (or `maxDuration`) in ISO 8601, e.g. PT5M",
            ),
            Some(d) if d < MIN_DURATION || d > MAX_DURATION => refuse(
                Rule::DurationOutOfRange,
                format!(
                    "action `{name}` lasts {}; FIS takes one minute to 12 hours",
                    humantime::format_duration(d)
                ),
                if a.action_id == WAIT {
                    "move the fault's start to 0 or at least one minute after the previous fault start"
                } else {
                    "make the fault last between 1m and 12h"
                },
            ),
            _ => {}
        }
        if a.action_id == AUTOMATION {
            let params: Option<serde_json::Value> = a
                .parameters
                .get("documentParameters")
                .and_then(|p| serde_json::from_str(p).ok());
            let first = |key: &str| {
                params
                    .as_ref()
                    .and_then(|p| p.get(key))
                    .and_then(|v| v.get(0).or(Some(v)))
                    .and_then(|v| v.as_str())
                    .map(str::to_owned)
            };
            match first("ExpiresAfterSeconds").and_then(|s| s.parse::<u64>().ok()) {
                Some(secs) if secs > 0 => {}
                _ => refuse(
                    Rule::NoExpiry,
                    format!("fault flag action `{name}` sets a flag without an expiry time"),
                    "pass ExpiresAfterSeconds (the fault's duration plus fault_flags.expiry_grace) in documentParameters",
                ),
            }
            if let Some(flag) = first("FlagName") {
                flag_windows.push((flag, name.clone()));
            }
        }
    }

    match schedule(template) {
        Err(r) => out.push(r),
        Ok(slots) => {
            let total = slots.values().map(|s| s.end()).max().unwrap_or_default();
            if total > MAX_DURATION {
                out.push(Refusal::new(
                    Rule::DurationOutOfRange,
                    format!(
                        "the experiment runs {}; FIS stops experiments at 12 hours",
                        humantime::format_duration(total)
                    ),
                    "shorten the scenario's timeline",
                ));
            }
            let mut peak = (0, Duration::ZERO);
            for s in slots.values() {
                let running = slots
                    .values()
                    .filter(|o| {
                        o.start <= s.start && s.start < o.end().max(o.start + Duration::from_nanos(1))
                    })
                    .count();
                if running > peak.0 {
                    peak = (running, s.start);
                }
            }
            if peak.0 > MAX_PARALLEL {
                out.push(Refusal::new(
                    Rule::TooManyParallel,
                    format!(
                        "{} actions run at once at offset {}; FIS allows {MAX_PARALLEL}",
                        peak.0,
                        humantime::format_duration(peak.1)
                    ),
                    "stagger the faults or split the scenario",
                ));
            }
            flag_windows.sort();
            for pair in flag_windows.windows(2) {
                let ((f1, a1), (f2, a2)) = (&pair[0], &pair[1]);
                let (s1, s2) = (slots[a1], slots[a2]);
                if f1 == f2 && s1.start < s2.end() && s2.start < s1.end() {
                    out.push(Refusal::new(Rule::OverlappingFlags, format!("actions `{a1}` and `{a2}` hold the same fault flag {f1} at once; one would clear the other"), "do not overlap flag faults on one agent (their windows include the one-minute automation margin)"));
                }
            }
        }
    }
    out
}
