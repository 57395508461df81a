//! The scenario model (format v1, DESIGN §4): a workload, a resilience policy, a timeline
//! of faults and the outcome expected. These are the validated types every other crate
//! reads; the TOML parser builds them and reports mistakes with their location.

use std::time::Duration;

use gameday_orchestrator::domain::Stage;
use gameday_orchestrator::faults::AgentFault;
use gameday_orchestrator::resilience::PolicyConfig;
use serde::{Deserialize, Serialize};

/// A validated scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The default seed; `--seed` overrides it.
    pub seed: u64,
    /// How long the workload submits trades; the run then drains.
    pub duration: Duration,
    pub workload: Workload,
    /// The policy applied to every agent.
    pub policy: PolicyConfig,
    /// Faults, in file order.
    pub faults: Vec<Fault>,
    pub expect: Expect,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// Trades per second, Poisson arrivals.
    pub rate: f64,
    /// Share of trades whose counterparty confirmation disagrees (or is missing).
    pub mismatch_ratio: f64,
}

impl Default for Workload {
    fn default() -> Self {
        Workload {
            rate: 20.0,
            mismatch_ratio: 0.1,
        }
    }
}

/// What a fault is aimed at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Target {
    Agent(Stage),
    Orchestrator,
}

impl Target {
    pub fn name(self) -> &'static str {
        match self {
            Target::Agent(s) => s.name(),
            Target::Orchestrator => "orchestrator",
        }
    }

    pub fn agent(self) -> Option<Stage> {
        match self {
            Target::Agent(s) => Some(s),
            Target::Orchestrator => None,
        }
    }
}

/// What a fault does while it is active. `rate` is the share of calls affected.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum FaultKind {
    /// The agent answers 429 with `Retry-After` (whole seconds, rounded up) when set.
    Throttle {
        rate: f64,
        retry_after: Option<Duration>,
    },
    /// The agent answers with this HTTP status (5xx by default 503).
    Error { rate: f64, status: u16 },
    /// The agent answers after an added delay, uniform in `delay ± jitter`.
    Latency { delay: Duration, jitter: Duration },
    /// The agent accepts the call and never answers.
    Hang { rate: f64 },
    /// The agent answers 200 with a body that is not a valid answer.
    Malformed { rate: f64 },
    /// The target host crashes at `start` and restarts after `duration`.
    Crash,
    /// The network between the orchestrator and the target is cut, then repaired.
    Partition,
}

impl FaultKind {
    /// The kind's name as written in scenario files.
    pub fn name(&self) -> &'static str {
        match self {
            FaultKind::Throttle { .. } => "throttle",
            FaultKind::Error { .. } => "error",
            FaultKind::Latency { .. } => "latency",
            FaultKind::Hang { .. } => "hang",
            FaultKind::Malformed { .. } => "malformed",
            FaultKind::Crash => "crash",
            FaultKind::Partition => "partition",
        }
    }

    /// The agent-level fault this kind injects, as the shared fault semantics understand it
    /// (the same in the simulation's agent hosts and in a game day's fault flags); `None`
    /// for crash and partition, which act on hosts and links instead.
    pub fn agent_fault(&self) -> Option<AgentFault> {
        Some(match *self {
            FaultKind::Throttle { rate, retry_after } => AgentFault::Throttle { rate, retry_after },
            FaultKind::Error { rate, status } => AgentFault::Error { rate, status },
            FaultKind::Latency { delay, jitter } => AgentFault::Latency { delay, jitter },
            FaultKind::Hang { rate } => AgentFault::Hang { rate },
            FaultKind::Malformed { rate } => AgentFault::Malformed { rate },
            FaultKind::Crash | FaultKind::Partition => return None,
        })
    }

    /// The share of calls affected; 1 for kinds that affect everything.
    pub fn rate(&self) -> f64 {
        match self {
            FaultKind::Throttle { rate, .. }
            | FaultKind::Error { rate, .. }
            | FaultKind::Hang { rate }
            | FaultKind::Malformed { rate } => *rate,
            FaultKind::Latency { .. } | FaultKind::Crash | FaultKind::Partition => 1.0,
        }
    }
}

/// One fault on the timeline: active from `start` for `duration` (simulated time from run start).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    pub kind: FaultKind,
    pub target: Target,
    pub start: Duration,
    pub duration: Duration,
}

impl Fault {
    pub fn end(&self) -> Duration {
        self.start + self.duration
    }
}

/// Expectations; each optional. Lost and duplicated trades are always checked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Expect {
    /// These agents' breakers must open at least once (and no other agent's, when set).
    pub breaker_opens: Option<Vec<Stage>>,
    /// Fault start → the target's breaker opens (MTTD).
    pub detect_within: Option<Duration>,
    /// Fault end → breaker closed and throughput back to 90 % of before (MTTR).
    pub recover_within: Option<Duration>,
    /// End-to-end p99 latency per trade.
    pub p99_latency: Option<Duration>,
    /// Agent calls made / agent calls needed without faults.
    pub max_amplification: Option<f64>,
    pub min_matched_ratio: Option<f64>,
}
