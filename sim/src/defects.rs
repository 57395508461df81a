//! Planted defects: known bugs switched on to show that the checker and the property search
//! catch them. Named so a replay command can switch the same ones on again (`--plant`).

use std::fmt;
use std::str::FromStr;

use gameday_orchestrator::resilience::Defects;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlantedDefect {
    /// The breaker lets every call through in HALF_OPEN.
    BreakerProbeLimit,
    /// Retries ignore the retry budget.
    NoRetryBudget,
    /// trade-matching applies its side effect again on a repeated idempotency key.
    NonIdempotentMatching,
}

impl PlantedDefect {
    pub const ALL: [PlantedDefect; 3] = [
        PlantedDefect::BreakerProbeLimit,
        PlantedDefect::NoRetryBudget,
        PlantedDefect::NonIdempotentMatching,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            PlantedDefect::BreakerProbeLimit => "breaker-probe-limit",
            PlantedDefect::NoRetryBudget => "no-retry-budget",
            PlantedDefect::NonIdempotentMatching => "non-idempotent-matching",
        }
    }
}

impl fmt::Display for PlantedDefect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for PlantedDefect {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        PlantedDefect::ALL
            .into_iter()
            .find(|d| d.name() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = PlantedDefect::ALL.iter().map(|d| d.name()).collect();
                format!("unknown defect `{s}`; expected one of: {}", names.join(", "))
            })
    }
}

/// The policy-level part of a set of planted defects.
pub fn policy_defects(planted: &[PlantedDefect]) -> Defects {
    Defects {
        breaker_ignores_probe_limit: planted.contains(&PlantedDefect::BreakerProbeLimit),
        retries_ignore_budget: planted.contains(&PlantedDefect::NoRetryBudget),
    }
}
