//! How each scenario fault becomes something FIS can do (DESIGN §7).
//!
//! Agent-level faults become fault flags, set and cleared by the automation document, and
//! decided by the orchestrator's decorator with the simulation's own semantics: exact.
//! Crash, partition and (where bound) latency use native actions on the bound resources;
//! where the real action differs from the simulated fault, the difference is written down
//! as the approximation, and the runbook names it.

use std::collections::BTreeMap;
use std::time::Duration;

use gameday_orchestrator::domain::Stage;
use gameday_orchestrator::faults::AgentFault;
use gameday_scenario::{Fault, FaultKind, Target};

use crate::bindings::{Bindings, Resources};
use crate::guardrails::{Refusal, Rule};

/// How one fault is injected.
#[derive(Debug, Clone, PartialEq)]
pub enum Method {
    /// A fault flag for `agent`, held for the fault's duration.
    Flag { agent: Stage, fault: AgentFault },
    /// A native FIS action against bound resources.
    Native {
        action_id: &'static str,
        resource_type: &'static str,
        /// The action's name for its target (`Tasks`, `Functions`, `Subnets`).
        target_key: &'static str,
        /// The experiment-template target name.
        target_name: String,
        resources: Resources,
        parameters: BTreeMap<String, String>,
        /// Whether the action takes a `duration` parameter (stop-task does not).
        timed: bool,
    },
}

/// One fault, its injection method and, when not exact, how it differs from the simulation.
#[derive(Debug, Clone, PartialEq)]
pub struct Mapping {
    /// 1-based position of the fault in the scenario.
    pub index: usize,
    pub fault: Fault,
    pub method: Method,
    pub approximation: Option<String>,
}

impl Mapping {
    /// The action's name in the template, e.g. `f2-throttle-trade-extraction`.
    pub fn action_name(&self) -> String {
        format!(
            "f{}-{}-{}",
            self.index,
            self.fault.kind.name(),
            self.fault.target.name()
        )
    }
}

fn ms(d: Duration) -> String {
    d.as_millis().to_string()
}

/// An FIS action kind: its id, the resource type it takes, its target key and the suffix of
/// the template target's name.
type ActionKind = (&'static str, &'static str, &'static str, &'static str);

const ECS_LATENCY: ActionKind = ("aws:ecs:task-network-latency", "aws:ecs:task", "Tasks", "tasks");
const ECS_STOP: ActionKind = ("aws:ecs:stop-task", "aws:ecs:task", "Tasks", "tasks");
const LAMBDA_DELAY: ActionKind = (
    "aws:lambda:invocation-add-delay",
    "aws:lambda:function",
    "Functions",
    "functions",
);
const LAMBDA_ERROR: ActionKind = (
    "aws:lambda:invocation-error",
    "aws:lambda:function",
    "Functions",
    "functions",
);
const DISRUPT: ActionKind = (
    "aws:network:disrupt-connectivity",
    "aws:ec2:subnet",
    "Subnets",
    "subnets",
);

fn native(
    target: Target,
    (action_id, resource_type, target_key, suffix): ActionKind,
    resources: &Resources,
    parameters: &[(&str, String)],
    timed: bool,
) -> Method {
    Method::Native {
        action_id,
        resource_type,
        target_key,
        target_name: format!("{}-{suffix}", target.name()),
        resources: resources.clone(),
        parameters: parameters
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect(),
        timed,
    }
}

/// Chooses the injection for fault number `index` (1-based).
pub fn map_fault(index: usize, fault: &Fault, bindings: &Bindings) -> Result<Mapping, Refusal> {
    let bound = bindings.target(fault.target).cloned().unwrap_or_default();
    let t = fault.target;
    let duration = crate::iso::format(fault.duration);
    let (method, approximation) = match (&fault.kind, t) {
        (FaultKind::Latency { delay, jitter }, _) if bound.ecs_tasks.is_some() => (
            native(t, ECS_LATENCY, bound.ecs_tasks.as_ref().unwrap(),
                &[("duration", duration), ("delayMilliseconds", ms(*delay)), ("jitterMilliseconds", ms(*jitter)), ("useEcsFaultInjectionEndpoints", "true".into())], true),
            Some(format!("network latency on {}'s ECS tasks delays every packet they send, not each call once; a call spanning several round trips is delayed more than {delay:?}", t.name())),
        ),
        (FaultKind::Latency { delay, jitter }, _) if bound.lambda_functions.is_some() => (
            native(t, LAMBDA_DELAY, bound.lambda_functions.as_ref().unwrap(),
                &[("duration", duration), ("invocationPercentage", "100".into()), ("startupDelayMilliseconds", ms(*delay))], true),
            (!jitter.is_zero()).then(|| format!("Lambda start-up delay is a fixed {delay:?}; the simulated ±{jitter:?} jitter is not reproduced")),
        ),
        (FaultKind::Crash, _) if bound.ecs_tasks.is_some() => (
            native(t, ECS_STOP, bound.ecs_tasks.as_ref().unwrap(), &[], false),
            Some(format!("ECS stops the tasks once and its service replaces them on its own schedule; the simulated {} outage length is not enforced", humantime::format_duration(fault.duration))),
        ),
        (FaultKind::Crash, _) if bound.lambda_functions.is_some() => (
            native(t, LAMBDA_ERROR, bound.lambda_functions.as_ref().unwrap(),
                &[("duration", duration), ("invocationPercentage", "100".into()), ("preventExecution", "true".into())], true),
            Some("every invocation fails at once instead of the connection dropping; in-flight calls are not cut".into()),
        ),
        (FaultKind::Partition, _) if bound.subnets.is_some() => (
            native(t, DISRUPT, bound.subnets.as_ref().unwrap(),
                &[("duration", duration), ("scope", "all".into())], true),
            Some(format!("all traffic of {}'s subnets is cut, not only the orchestrator's; packets are dropped, so new connections time out instead of being refused", t.name())),
        ),
        (FaultKind::Crash, Target::Agent(agent)) => (
            Method::Flag { agent, fault: AgentFault::Error { rate: 1.0, status: 503 } },
            Some(format!("no ECS or Lambda resources are bound for {}: its crash is a fault flag answering every call with 503", agent.name())),
        ),
        (FaultKind::Partition, Target::Agent(agent)) => (
            Method::Flag { agent, fault: AgentFault::Hang { rate: 1.0 } },
            Some(format!("no subnets are bound for {}: its partition is a fault flag on which every call hangs until the call timeout", agent.name())),
        ),
        (kind, Target::Agent(agent)) => match kind.agent_fault() {
            Some(f) => (Method::Flag { agent, fault: f }, None),
            None => unreachable!("crash and partition are matched above"),
        },
        (kind, Target::Orchestrator) => {
            return Err(Refusal::new(
                Rule::Unmappable,
                format!("fault {index} ({} on orchestrator) has no FIS counterpart with these bindings", kind.name()),
                "bind the orchestrator's resources in [targets.orchestrator] (ecs_tasks or lambda_functions; subnets for a partition)",
            ));
        }
    };
    Ok(Mapping {
        index,
        fault: fault.clone(),
        method,
        approximation,
    })
}
