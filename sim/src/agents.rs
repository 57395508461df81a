//! The agent side of a world: the reference agent logic behind the fault layer.
//!
//! Every call first meets the scenario's agent-level faults active at its instant, decided
//! by the shared fault semantics with an RNG seeded per call (run seed, idempotency key,
//! attempt): the same call meets the same fate in every engine and on every replay. A call
//! that passes takes the agent's service time and gets the reference agent's answer.
//!
//! A hanging or malformed answer still applies the agent's side effect first: the agent did
//! the work and the answer went missing or got mangled on the way back. That is the case
//! idempotency keys exist for, so the simulation makes it happen.

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use gameday_orchestrator::agent::{AgentError, AgentRequest};
use gameday_orchestrator::domain::Stage;
use gameday_orchestrator::faults::{Effect, call_rng, decide};
use gameday_orchestrator::http::server::Reply;
use gameday_orchestrator::reference::service::AgentService;
use rand::Rng;

use crate::clock::Clock;
use crate::recorder::Recorder;
use crate::timeline::Timeline;

/// Typical service time of each agent and the spread around it (uniform ± spread).
/// Extraction reads free text with a model and is the slowest; matching is a lookup.
pub const fn service_time(stage: Stage) -> (Duration, Duration) {
    match stage {
        Stage::PdfAdapter => (Duration::from_millis(120), Duration::from_millis(40)),
        Stage::TradeExtraction => (Duration::from_millis(400), Duration::from_millis(150)),
        Stage::TradeMatching => (Duration::from_millis(60), Duration::from_millis(20)),
        Stage::ExceptionManagement => (Duration::from_millis(150), Duration::from_millis(50)),
    }
}

/// One agent as hosted in a world. Its book (idempotency store, confirmations, cases) is
/// its durable state and survives a crash of the host.
pub struct AgentSide {
    pub stage: Stage,
    pub seed: u64,
    pub timeline: Rc<Timeline>,
    pub service: Rc<RefCell<AgentService>>,
    pub recorder: Rc<RefCell<Recorder>>,
    pub clock: Clock,
}

impl AgentSide {
    /// Serves one call: the fault layer, the service time, the reference logic.
    pub async fn handle(&self, request: AgentRequest) -> Reply {
        let at = (self.clock)();
        let faults = self.timeline.agent_faults(self.stage, at);
        let mut rng = call_rng(self.seed, request.key, request.attempt);
        let verdict = decide(&faults, &mut rng);
        let (typical, spread) = service_time(self.stage);
        let jitter = rng.random_range(0..=2 * spread.as_micros() as u64);
        let service = typical + Duration::from_micros(jitter) - spread;

        let effect_name = match verdict.effect {
            Effect::Pass => None,
            Effect::Throttle { .. } => Some("throttle"),
            Effect::Error { .. } => Some("error"),
            Effect::Hang => Some("hang"),
            Effect::Malformed => Some("malformed"),
        };
        if let Some(name) = effect_name {
            let key = format!("{}#{}", request.key, request.attempt);
            self.recorder.borrow_mut().injected(at, self.stage, name, &key);
        }
        if !verdict.delay.is_zero() {
            tokio::time::sleep(verdict.delay).await;
        }
        match verdict.effect {
            // Refusals come fast: the agent's front door answers before any work is done.
            Effect::Throttle { retry_after } => Reply::Answer(Err(AgentError::Throttled { retry_after })),
            Effect::Error { status } => Reply::Answer(Err(AgentError::Unavailable { status })),
            Effect::Pass => {
                tokio::time::sleep(service).await;
                Reply::Answer(self.service.borrow_mut().handle(&request))
            }
            Effect::Hang => {
                tokio::time::sleep(service).await;
                let _ = self.service.borrow_mut().handle(&request);
                Reply::Hang
            }
            Effect::Malformed => {
                tokio::time::sleep(service).await;
                let _ = self.service.borrow_mut().handle(&request);
                Reply::Malformed(format!(
                    "{{\"type\":\"garbled\",\"trade\":{}",
                    request.key.trade.0
                ))
            }
        }
    }
}
