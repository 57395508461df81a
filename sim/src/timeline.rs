//! The fault timeline of a scenario, compiled for the fault controller and the agent hosts.
//!
//! Agent-level faults (throttle, error, latency, hang, malformed) are looked up by the agent
//! host on every call: [`Timeline::agent_faults`] answers which are active at a simulated
//! instant. Infrastructure faults (crash, partition) are switched by the controller at exact
//! instants: [`Timeline::actions`] lists them, ordered by time and then by file order, so the
//! controller's behaviour never depends on anything but the scenario.

use std::time::Duration;

use gameday_orchestrator::domain::Stage;
use gameday_orchestrator::faults::AgentFault;
use gameday_scenario::{Fault, FaultKind, Scenario, Target};

/// Something the fault controller does at an instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Action {
    /// An agent-level fault (by its index in the scenario) switches on. Recorded only: agent
    /// hosts consult the timeline themselves.
    FaultOn(usize),
    FaultOff(usize),
    /// The host stops; everything in flight is cut.
    Crash(Target),
    /// The host starts again from scratch (its durable state survives).
    Restart(Target),
    /// The link between the orchestrator and the agent is cut.
    Partition(Stage),
    Repair(Stage),
}

/// A scenario's faults, ready to be consulted by time.
#[derive(Debug, Clone)]
pub struct Timeline {
    faults: Vec<Fault>,
    actions: Vec<(Duration, Action)>,
}

impl Timeline {
    pub fn new(scenario: &Scenario) -> Timeline {
        let mut actions = Vec::new();
        for (i, f) in scenario.faults.iter().enumerate() {
            let (on, off) = match (&f.kind, f.target) {
                (FaultKind::Crash, t) => (Action::Crash(t), Action::Restart(t)),
                (FaultKind::Partition, Target::Agent(a)) => (Action::Partition(a), Action::Repair(a)),
                _ => (Action::FaultOn(i), Action::FaultOff(i)),
            };
            actions.push((f.start, on));
            actions.push((f.end(), off));
        }
        // Stable sort: at one instant, actions keep file order (and "off" before "on" of a
        // later fault only when it comes first in the file).
        actions.sort_by_key(|(t, _)| *t);
        Timeline {
            faults: scenario.faults.clone(),
            actions,
        }
    }

    /// Every controller action, ordered by time.
    pub fn actions(&self) -> &[(Duration, Action)] {
        &self.actions
    }

    pub fn fault(&self, index: usize) -> &Fault {
        &self.faults[index]
    }

    /// The agent-level faults active for `agent` at `at` (a fault is active on `[start, end)`),
    /// in file order, as the shared fault semantics understand them.
    pub fn agent_faults(&self, agent: Stage, at: Duration) -> Vec<AgentFault> {
        self.faults
            .iter()
            .filter(|f| f.target == Target::Agent(agent) && f.start <= at && at < f.end())
            .filter_map(|f| f.kind.agent_fault())
            .collect()
    }

    /// When the last fault of any kind ends (zero without faults).
    pub fn last_fault_end(&self) -> Duration {
        self.faults.iter().map(Fault::end).max().unwrap_or_default()
    }
}
