//! Rendering: a scenario and its bindings become the artifact set an operator needs, after
//! the guardrails have passed.

use std::path::{Path, PathBuf};

use gameday_scenario::Scenario;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::automation;
use crate::bindings::Bindings;
use crate::guardrails::{Refusal, lint};
use crate::iam;
use crate::runbook::runbook;
use crate::template::{Plan, build};

/// p50 and p99 of a measure, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quantiles {
    pub p50: u64,
    pub p99: u64,
}

/// What a short simulation sweep of the scenario predicts, quoted in the runbook.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Prediction {
    /// Seeds simulated.
    pub seeds: u32,
    /// Share of runs in which every expectation held.
    pub pass_rate: f64,
    /// Mean share of trades matched.
    pub matched_ratio: f64,
    pub mttd_ms: Option<Quantiles>,
    pub mttr_ms: Option<Quantiles>,
}

/// The rendered artifacts, in memory.
#[derive(Debug, Clone, PartialEq)]
pub struct Artifacts {
    pub plan: Plan,
    pub template: Value,
    pub automation_document: Value,
    pub trust_policy: Value,
    pub permissions_policy: Value,
    pub automation_role_policy: Value,
    pub runbook: String,
}

/// Why rendering failed.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("refused by {} guardrail(s):\n{}", .0.len(), .0.iter().map(|r| format!("  - {r}")).collect::<Vec<_>>().join("\n"))]
    Refused(Vec<Refusal>),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// Builds the plan and lints it; the refusals, if any, all at once.
pub fn plan(scenario: &Scenario, bindings: &Bindings) -> Result<Plan, Vec<Refusal>> {
    let plan = build(scenario, bindings)?;
    let refusals = lint(&plan.template, bindings);
    if refusals.is_empty() {
        Ok(plan)
    } else {
        Err(refusals)
    }
}

/// Renders every artifact, refusing what the guardrails refuse.
pub fn render(
    scenario: &Scenario,
    bindings: &Bindings,
    prediction: Option<&Prediction>,
) -> Result<Artifacts, RenderError> {
    let plan = plan(scenario, bindings).map_err(RenderError::Refused)?;
    Ok(Artifacts {
        template: serde_json::to_value(&plan.template).unwrap_or(Value::Null),
        automation_document: automation::document(bindings),
        trust_policy: iam::trust_policy(bindings),
        permissions_policy: iam::permissions_policy(&plan.template, bindings),
        automation_role_policy: iam::automation_role_policy(bindings),
        runbook: runbook(&plan, bindings, prediction),
        plan,
    })
}

impl Artifacts {
    /// File names and contents, in a fixed order.
    pub fn files(&self) -> Vec<(&'static str, String)> {
        let pretty = |v: &Value| serde_json::to_string_pretty(v).unwrap_or_default() + "\n";
        vec![
            ("experiment-template.json", pretty(&self.template)),
            ("automation-document.json", pretty(&self.automation_document)),
            ("trust-policy.json", pretty(&self.trust_policy)),
            ("permissions-policy.json", pretty(&self.permissions_policy)),
            (
                "automation-role-policy.json",
                pretty(&self.automation_role_policy),
            ),
            ("runbook.md", self.runbook.clone()),
        ]
    }

    /// Writes every file into `dir` (created if missing); answers the paths written.
    pub fn write_to(&self, dir: &Path) -> Result<Vec<PathBuf>, RenderError> {
        std::fs::create_dir_all(dir).map_err(|source| RenderError::Write {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut written = Vec::new();
        for (name, text) in self.files() {
            let path = dir.join(name);
            std::fs::write(&path, text).map_err(|source| RenderError::Write {
                path: path.clone(),
                source,
            })?;
            written.push(path);
        }
        Ok(written)
    }
}
