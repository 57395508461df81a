//! Circuit breaker (stub: being implemented).

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BreakerState {
    Closed,
    Open,
    HalfOpen,
    /// Isolated by an operator or an automated incident response; released only explicitly.
    ForcedOpen,
}

impl BreakerState {
    pub const fn name(self) -> &'static str {
        match self {
            BreakerState::Closed => "CLOSED",
            BreakerState::Open => "OPEN",
            BreakerState::HalfOpen => "HALF_OPEN",
            BreakerState::ForcedOpen => "FORCED_OPEN",
        }
    }
}

/// Why the breaker changed state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "cause", rename_all = "snake_case")]
pub enum TransitionCause {
    /// The window's failure rate reached the threshold.
    FailureRate { rate: f64, calls: u32 },
    /// The window's slow-call rate reached the threshold.
    SlowCallRate { rate: f64, calls: u32 },
    /// `open_for` elapsed; probes may go through.
    OpenElapsed,
    /// Every probe succeeded.
    ProbesSucceeded,
    /// A probe failed.
    ProbeFailed,
    /// Forced open (isolation).
    Forced,
    /// Released from FORCED_OPEN.
    Released,
}
