//! The bindings file: how a scenario's logical names land on one real deployment.
//!
//! A scenario speaks of agents and the orchestrator; a game day needs an account, a region,
//! the role FIS assumes, the alarms that stop the experiment, where fault flags live, and for
//! each target the resources native FIS actions aim at (by ARN or by tag). The file is TOML:
//!
//! ```toml
//! account = "123456789012"
//! region = "eu-west-1"
//! allowed_accounts = ["123456789012"]   # guardrail: refuse anything else
//! allowed_regions = ["eu-west-1"]
//! role_arn = "arn:aws:iam::123456789012:role/gameday-fis"
//! stop_alarms = ["arn:aws:cloudwatch:eu-west-1:123456789012:alarm:trades-dead-lettered"]
//!
//! [fault_flags]
//! prefix = "/gameday/faults"          # flags live at <prefix>/<agent>
//! document = "gameday-fault-flag"     # the SSM Automation document rendered by gameday
//! automation_role_arn = "arn:aws:iam::123456789012:role/gameday-fault-flags"
//! expiry_grace = "2m"                 # a flag expires this long after its fault's planned end
//!
//! [targets.orchestrator]
//! ecs_tasks = { tags = { service = "trade-orchestrator" }, parameters = { cluster = "trades" } }
//!
//! [targets.trade-extraction]
//! lambda_functions = { arns = ["arn:aws:lambda:eu-west-1:123456789012:function:trade-extraction"] }
//! subnets = { tags = { tier = "agents" } }
//! ```
//!
//! Parsing checks shape and names (unknown keys, unknown targets, malformed durations), each
//! error pointing at the offending text. Policy checks (allow-lists, scoping) are guardrails,
//! applied to the rendered template in [`crate::guardrails`].

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use gameday_orchestrator::domain::Stage;
use gameday_scenario::Target;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::BindingsError;

/// A validated bindings file.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bindings {
    pub account: String,
    pub region: String,
    pub allowed_accounts: Vec<String>,
    pub allowed_regions: Vec<String>,
    /// The role FIS assumes to run the experiment.
    pub role_arn: String,
    /// CloudWatch alarm ARNs; any in ALARM stops the experiment.
    pub stop_alarms: Vec<String>,
    pub fault_flags: FaultFlagBindings,
    /// Native-action resources per target, ordered by target.
    pub targets: BTreeMap<Target, TargetBindings>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultFlagBindings {
    pub prefix: String,
    /// Name of the SSM Automation document that sets and clears one flag.
    pub document: String,
    /// The role the automation runs as (it writes the flag parameters).
    pub automation_role_arn: String,
    /// A flag expires this long after its fault's planned end.
    pub expiry_grace: Duration,
}

/// The resources one target runs on, by kind; each optional.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct TargetBindings {
    pub ecs_tasks: Option<Resources>,
    pub lambda_functions: Option<Resources>,
    pub subnets: Option<Resources>,
}

/// A set of resources, selected by ARN or by tags (and optional FIS target parameters, such as
/// an ECS `cluster` and `service`).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resources {
    #[serde(default)]
    pub arns: Vec<String>,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    #[serde(default)]
    pub parameters: BTreeMap<String, String>,
    /// FIS selection mode: `ALL`, `COUNT(n)` or `PERCENT(n)`.
    #[serde(default = "all")]
    pub selection_mode: String,
}

fn all() -> String {
    "ALL".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Raw {
    account: Spanned<String>,
    region: Spanned<String>,
    allowed_accounts: Vec<String>,
    allowed_regions: Vec<String>,
    role_arn: String,
    #[serde(default)]
    stop_alarms: Vec<String>,
    fault_flags: RawFlags,
    #[serde(default)]
    targets: BTreeMap<Spanned<String>, TargetBindingsRaw>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFlags {
    prefix: Spanned<String>,
    document: String,
    automation_role_arn: String,
    #[serde(default)]
    expiry_grace: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetBindingsRaw {
    ecs_tasks: Option<Resources>,
    lambda_functions: Option<Resources>,
    subnets: Option<Resources>,
}

/// The default time a flag outlives its fault's planned end.
pub const DEFAULT_EXPIRY_GRACE: Duration = Duration::from_secs(120);

impl Bindings {
    /// Reads and parses a bindings file.
    pub fn load(path: &Path) -> Result<Bindings, BindingsError> {
        let source = std::fs::read_to_string(path).map_err(|e| BindingsError::io(path, &e))?;
        Bindings::parse(&source, path)
    }

    /// Parses bindings from text; `path` only names the source in errors.
    pub fn parse(source: &str, path: &Path) -> Result<Bindings, BindingsError> {
        let raw: Raw = toml::from_str(source).map_err(|e| {
            let span = e.span().unwrap_or(0..0);
            BindingsError::at(source, path, span, e.message().trim_end().to_string())
        })?;
        let at = |span, msg: String| BindingsError::at(source, path, span, msg);
        if !(raw.account.get_ref().len() == 12 && raw.account.get_ref().bytes().all(|b| b.is_ascii_digit())) {
            return Err(at(
                raw.account.span(),
                format!(
                    "expected a 12-digit AWS account id, found `{}`",
                    raw.account.get_ref()
                ),
            ));
        }
        let region = raw.region.get_ref();
        if region.is_empty()
            || !region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(at(
                raw.region.span(),
                format!("expected an AWS region such as `eu-west-1`, found `{region}`"),
            ));
        }
        let prefix = raw.fault_flags.prefix.get_ref();
        if !prefix.starts_with('/') || prefix.ends_with('/') || prefix.len() < 2 {
            return Err(at(
                raw.fault_flags.prefix.span(),
                format!(
                    "expected a parameter path such as `/gameday/faults` (leading `/`, no trailing `/`), found `{prefix}`"
                ),
            ));
        }
        let expiry_grace = match &raw.fault_flags.expiry_grace {
            None => DEFAULT_EXPIRY_GRACE,
            Some(s) => humantime::parse_duration(s.get_ref()).map_err(|e| {
                at(
                    s.span(),
                    format!(
                        "expected a duration such as `2m` or `90s`, found `{}` ({e})",
                        s.get_ref()
                    ),
                )
            })?,
        };
        let mut targets = BTreeMap::new();
        for (name, t) in raw.targets {
            let target = match name.get_ref().as_str() {
                "orchestrator" => Target::Orchestrator,
                other => match Stage::from_name(other) {
                    Some(stage) => Target::Agent(stage),
                    None => {
                        let names: Vec<&str> = Stage::ALL.iter().map(|s| s.name()).collect();
                        return Err(at(
                            name.span(),
                            format!(
                                "unknown target `{other}`: expected `orchestrator` or an agent ({})",
                                names.join(", ")
                            ),
                        ));
                    }
                },
            };
            targets.insert(
                target,
                TargetBindings {
                    ecs_tasks: t.ecs_tasks,
                    lambda_functions: t.lambda_functions,
                    subnets: t.subnets,
                },
            );
        }
        Ok(Bindings {
            account: raw.account.into_inner(),
            region: raw.region.into_inner(),
            allowed_accounts: raw.allowed_accounts,
            allowed_regions: raw.allowed_regions,
            role_arn: raw.role_arn,
            stop_alarms: raw.stop_alarms,
            fault_flags: FaultFlagBindings {
                prefix: raw.fault_flags.prefix.into_inner(),
                document: raw.fault_flags.document,
                automation_role_arn: raw.fault_flags.automation_role_arn,
                expiry_grace,
            },
            targets,
        })
    }

    /// The resources bound to `target`, if any.
    pub fn target(&self, target: Target) -> Option<&TargetBindings> {
        self.targets.get(&target)
    }

    /// ARN of the fault-flag automation document in this account and region.
    pub fn document_arn(&self) -> String {
        format!(
            "arn:aws:ssm:{}:{}:document/{}",
            self.region, self.account, self.fault_flags.document
        )
    }

    /// The flag parameter of one agent.
    pub fn flag_name(&self, agent: Stage) -> String {
        format!("{}/{}", self.fault_flags.prefix, agent.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) const EXAMPLE: &str = r#"
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

[targets.orchestrator]
ecs_tasks = { tags = { service = "trade-orchestrator" }, parameters = { cluster = "trades" } }

[targets.trade-extraction]
lambda_functions = { arns = ["arn:aws:lambda:eu-west-1:123456789012:function:trade-extraction"] }
"#;

    fn parse(s: &str) -> Result<Bindings, BindingsError> {
        Bindings::parse(s, Path::new("b.toml"))
    }

    #[test]
    fn example_parses_with_defaults() {
        let b = parse(EXAMPLE).unwrap();
        assert_eq!(b.fault_flags.expiry_grace, DEFAULT_EXPIRY_GRACE);
        assert_eq!(b.flag_name(Stage::PdfAdapter), "/gameday/faults/pdf-adapter");
        let orch = b
            .target(Target::Orchestrator)
            .unwrap()
            .ecs_tasks
            .as_ref()
            .unwrap();
        assert_eq!(orch.selection_mode, "ALL");
        assert_eq!(orch.tags["service"], "trade-orchestrator");
        assert!(
            b.target(Target::Agent(Stage::TradeExtraction))
                .unwrap()
                .lambda_functions
                .is_some()
        );
    }

    #[test]
    fn errors_point_at_the_offending_text() {
        let cases = [
            (
                EXAMPLE.replace("[targets.trade-extraction]", "[targets.trade-extractor]"),
                17,
                "unknown target `trade-extractor`",
            ),
            (
                EXAMPLE.replace("account = \"123456789012\"", "account = \"12345\""),
                2,
                "12-digit",
            ),
            (
                EXAMPLE.replace("prefix = \"/gameday/faults\"", "prefix = \"gameday/\""),
                10,
                "parameter path",
            ),
            (
                EXAMPLE.replace("document = ", "expiry_grace = \"soon\"\ndocument = "),
                11,
                "expected a duration",
            ),
            (
                EXAMPLE.replace("region = \"eu-west-1\"", "region = \"eu-west-1\"\nzone = 1"),
                4,
                "unknown field `zone`",
            ),
            (EXAMPLE.replace("arns = [", "arn = ["), 18, "unknown field `arn`"),
        ];
        for (text, line, needle) in cases {
            let e = parse(&text).unwrap_err();
            assert_eq!(e.line, line, "{e}");
            assert!(e.message.contains(needle), "{e}");
            assert!(e.to_string().starts_with(&format!("b.toml:{line}:")), "{e}");
            assert!(e.to_string().contains('^'), "{e}");
        }
    }
}
