//! The orchestrator side of a world: the real pipeline, fed by the workload, observed by
//! the recorder. Transport-agnostic: the engine hands it an `AgentClient` (HTTP over turmoil
//! TCP, or in-process), so every engine runs the same orchestrator code.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use gameday_orchestrator::agent::AgentClient;
use gameday_orchestrator::event::{Event, Observer};
use gameday_orchestrator::journal::{Journal, MemoryJournal};
use gameday_orchestrator::pipeline::{Pipeline, PipelineConfig};
use gameday_orchestrator::reference::generator::Generator;
use gameday_orchestrator::resilience::Defects;
use gameday_scenario::Scenario;
use tokio::sync::Semaphore;
use tokio::time::Instant;

/// Trades the orchestrator holds in flight at most, as a queue consumer with bounded
/// concurrency does. Steady state at 20 trades/s needs about 15; the cap matters after an
/// outage of the orchestrator, when the backlog would otherwise hit the agents all at once
/// and turn the rate limiter's refusals into failed trades.
pub const MAX_IN_FLIGHT: usize = 64;

use crate::clock::{Clock, TimeBase};
use crate::recorder::Recorder;
use crate::workload::Inbox;

/// Forwards pipeline events to the recorder on the run's timeline.
pub struct SimObserver {
    base: TimeBase,
    recorder: Rc<RefCell<Recorder>>,
}

impl Observer for SimObserver {
    fn on_event(&self, at: Instant, event: &Event) {
        self.recorder.borrow_mut().event(self.base.at(at), event);
    }
}

/// What survives an orchestrator crash (the journal, the upstream queue) and what the run
/// shares with the recorder.
pub struct OrchestratorSide {
    pub scenario: Rc<Scenario>,
    pub seed: u64,
    pub journal: Arc<MemoryJournal>,
    pub inbox: Rc<Inbox>,
    pub recorder: Rc<RefCell<Recorder>>,
    pub generator: Generator,
    /// Planted policy defects (tests of the checkers).
    pub defects: Defects,
    pub clock: Clock,
    /// Boots so far (1 on the first start): restarts are traced.
    pub boots: std::cell::Cell<u32>,
}

impl OrchestratorSide {
    /// One boot of the orchestrator: resume what the journal holds unfinished, then take
    /// trades from the inbox as they arrive. Returns only if the pipeline cannot be built.
    pub async fn run<C: AgentClient + 'static>(self: Rc<Self>, client: C) -> Result<(), String> {
        let base = TimeBase::now(&self.clock);
        let boot = self.boots.get() + 1;
        self.boots.set(boot);
        self.recorder.borrow_mut().boot((self.clock)(), boot);
        let observer = SimObserver {
            base,
            recorder: self.recorder.clone(),
        };
        let mut config = PipelineConfig::uniform(self.scenario.policy.clone(), self.seed);
        config.defects = self.defects;
        let pipeline = Rc::new(
            Pipeline::new(config, client, self.journal.clone(), observer, Instant::now())
                .map_err(|e| e.to_string())?,
        );

        // Trades taken from the inbox but never journaled (the crash came first) go back.
        let mut first_unknown = self.inbox.taken();
        while first_unknown > 0 {
            let (_, trade) = self.inbox.all()[first_unknown - 1];
            if self.journal.entry(trade).is_some() || self.journal.outcome(trade).is_some() {
                break;
            }
            first_unknown -= 1;
        }
        self.inbox.rewind_to(first_unknown);

        let slots = Arc::new(Semaphore::new(MAX_IN_FLIGHT));
        for entry in pipeline.unfinished() {
            let p = pipeline.clone();
            let slot = slots.clone().acquire_owned().await.map_err(|e| e.to_string())?;
            tokio::task::spawn_local(async move {
                p.resume(entry).await;
                drop(slot);
            });
        }

        while let Some((at, trade)) = self.inbox.peek() {
            let due = base.instant_of(at);
            if due > Instant::now() {
                tokio::time::sleep_until(due).await;
            }
            let slot = slots.clone().acquire_owned().await.map_err(|e| e.to_string())?;
            self.inbox.take();
            // End-to-end latency counts from arrival, including any wait in the inbox.
            self.recorder
                .borrow_mut()
                .trades
                .entry(trade)
                .or_default()
                .submitted
                .get_or_insert(at);
            let document = self.generator.document(trade);
            let p = pipeline.clone();
            tokio::task::spawn_local(async move {
                p.submit(document).await;
                drop(slot);
            });
        }
        // Keep the host alive for the trades in flight.
        std::future::pending::<()>().await;
        Ok(())
    }
}
