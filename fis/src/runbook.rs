//! The runbook: the operator's page for one game day, in markdown. It lists the timeline and
//! what each action does, the approximations made, how to stop, and what the simulation
//! predicts, so the team knows before the game day what "as expected" looks like.

use std::fmt::Write as _;

use crate::bindings::Bindings;
use crate::mapping::Method;
use crate::render::Prediction;
use crate::template::{Plan, schedule};

fn dur(d: std::time::Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// Renders the runbook for `plan`.
pub fn runbook(plan: &Plan, bindings: &Bindings, prediction: Option<&Prediction>) -> String {
    let s = &plan.scenario;
    let mut md = String::new();
    let _ = writeln!(md, "# Game day runbook: {}\n\n{}\n", s.name, s.description);
    let _ = writeln!(
        md,
        "- Account `{}`, region `{}`; experiment role `{}`",
        bindings.account, bindings.region, bindings.role_arn
    );
    let _ = writeln!(
        md,
        "- Stop conditions: {}",
        if bindings.stop_alarms.is_empty() {
            "none".to_string()
        } else {
            bindings
                .stop_alarms
                .iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    );
    let _ = writeln!(
        md,
        "- Fault flags under `{}`, set by the SSM Automation document `{}`\n",
        bindings.fault_flags.prefix, bindings.fault_flags.document
    );

    let _ = writeln!(md, "## Before you start\n");
    let _ = writeln!(
        md,
        "1. Create the automation document `{}` from `automation-document.json` (document type Automation).",
        bindings.fault_flags.document
    );
    let _ = writeln!(
        md,
        "2. Create the experiment role from `trust-policy.json` and `permissions-policy.json`, and the automation role with `automation-role-policy.json`."
    );
    let _ = writeln!(
        md,
        "3. Enable the orchestrator's fault-flag decorator (prefix `{}`), and check the stop-condition alarms are in OK.",
        bindings.fault_flags.prefix
    );
    let _ = writeln!(
        md,
        "4. Run `gameday fis run <scenario> --bindings <file> --stage preview`: targets resolve, nothing is injected.\n"
    );

    let _ = writeln!(
        md,
        "## Timeline\n\n| offset | action | what it does | lasts |\n|---|---|---|---|"
    );
    let slots = schedule(&plan.template).unwrap_or_default();
    for m in &plan.mappings {
        let name = m.action_name();
        let start = slots.get(&name).map(|x| x.start).unwrap_or(m.fault.start);
        let what = match &m.method {
            Method::Flag { agent, fault } => format!(
                "fault flag `{}` = `{}`",
                bindings.flag_name(*agent),
                serde_json::to_string(fault).unwrap_or_default()
            ),
            Method::Native {
                action_id,
                target_name,
                ..
            } => format!("`{action_id}` on target `{target_name}`"),
        };
        let _ = writeln!(
            md,
            "| {} | `{name}` | {what} | {} |",
            dur(start),
            dur(m.fault.duration)
        );
    }
    let _ = writeln!(
        md,
        "\nFlags expire {} after their fault's planned end even if the automation fails.\n",
        dur(bindings.fault_flags.expiry_grace)
    );

    let _ = writeln!(md, "## Approximations\n");
    let approx: Vec<_> = plan
        .mappings
        .iter()
        .filter_map(|m| m.approximation.as_ref().map(|a| (m.action_name(), a)))
        .collect();
    if approx.is_empty() {
        let _ = writeln!(
            md,
            "None: every fault has an exact counterpart (fault flags use the simulation's own fault semantics).\n"
        );
    }
    for (name, a) in approx {
        let _ = writeln!(md, "- `{name}`: {a}");
    }

    let _ = writeln!(md, "\n## How to stop\n");
    let _ = writeln!(
        md,
        "- Ctrl-C in `gameday fis run` stops the experiment; or `gameday fis stop <EXPERIMENT_ID>`; or `aws fis stop-experiment --id <EXPERIMENT_ID>`."
    );
    let _ = writeln!(md, "- Any stop-condition alarm in ALARM stops it automatically.");
    let _ = writeln!(
        md,
        "- Stopping cancels the flag automations, which clear their flags; to clear by hand: `aws ssm delete-parameter --name {}/<agent>`.",
        bindings.fault_flags.prefix
    );
    let _ = writeln!(
        md,
        "- Last resort: disable the orchestrator's fault-flag decorator.\n"
    );

    let _ = writeln!(md, "## What the simulation predicts\n");
    match prediction {
        None => {
            let _ = writeln!(
                md,
                "No prediction attached (rendered with `--no-predict`): render again without it, or with `--prediction FILE`, to state what the simulation expects."
            );
        }
        Some(p) => {
            let _ = writeln!(md, "Over {} simulated seeds:\n", p.seeds);
            let _ = writeln!(md, "| measure | predicted |\n|---|---|");
            let _ = writeln!(md, "| expectations held | {:.0} % of runs |", p.pass_rate * 100.0);
            let _ = writeln!(md, "| matched ratio | {:.3} |", p.matched_ratio);
            let q = |v: Option<Quantiles>| {
                v.map(|q| format!("p50 {} ms, p99 {} ms", q.p50, q.p99))
                    .unwrap_or_else(|| "not observed".into())
            };
            let _ = writeln!(md, "| MTTD (fault start → breaker opens) | {} |", q(p.mttd_ms));
            let _ = writeln!(md, "| MTTR (fault end → recovered) | {} |", q(p.mttr_ms));
        }
    }
    md
}

use crate::render::Quantiles;
