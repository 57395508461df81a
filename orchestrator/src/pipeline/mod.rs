//! The pipeline: drives each trade through the four agents to exactly one terminal state.
//!
//! A trade is journaled before anything else happens, so once [`Pipeline::submit`] has been
//! called the trade cannot be lost: if the orchestrator dies, a new one finds it in
//! [`Pipeline::unfinished`] and [`Pipeline::resume`]s it from the first stage whose output
//! is not journaled. The next step is always planned from the journaled state
//! ([`flow::next_step`]), and every agent call goes through the agent's resilience policy
//! ([`call`]); this module only ties the two together and reports what happened to an
//! [`Observer`].
//!
//! Concurrency: one `Pipeline` is shared by all trades in flight (call `submit` from many
//! tasks). Each agent's policy sits behind its own `std::sync::Mutex`, taken only for the
//! policy's synchronous decisions and never across an `.await`. Nothing here requires
//! `Send`: the simulation runs the pipeline on current-thread runtimes.
//!
//! Seams for the security controls (not implemented here): every event already carries the
//! trade, whose document holds the correlation id, so structured logs with a correlation id
//! belong in an [`Observer`]; envelope encryption of sensitive payload fields through a
//! `KeyProvider` belongs where the [`AgentRequest`](crate::agent::AgentRequest) is built and
//! the answer read back (an `AgentClient` decorator, or a step in [`call`] around
//! `client.invoke`); security-event classification through a `FindingSink` belongs at the
//! same place the call's `AgentError` is classified, next to the `CallFinished` event.

mod call;
pub mod flow;
pub mod seed;

use std::sync::{Mutex, MutexGuard};

use tokio::time::Instant;

use crate::agent::AgentClient;
use crate::domain::{Outcome, Stage, TradeDocument, TradeId};
use crate::event::{Event, Observer};
use crate::journal::{Journal, JournalEntry};
use crate::resilience::{BreakerState, Defects, PolicyConfig, PolicyError};

use crate::resilience::AgentPolicy;

pub use flow::{Step, next_step};

/// How a pipeline is set up: a policy per agent and the run's seed.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineConfig {
    /// One policy per agent, indexed by [`Stage::index`].
    pub policies: [PolicyConfig; 4],
    /// Seeds every random draw the pipeline makes (see [`seed`]).
    pub seed: u64,
    /// Planted defects; [`Defects::NONE`] outside tests of the checkers.
    pub defects: Defects,
}

impl PipelineConfig {
    /// The same policy for every agent.
    pub fn uniform(policy: PolicyConfig, seed: u64) -> PipelineConfig {
        PipelineConfig {
            policies: [policy.clone(), policy.clone(), policy.clone(), policy],
            seed,
            defects: Defects::NONE,
        }
    }

    pub fn policy(&self, agent: Stage) -> &PolicyConfig {
        &self.policies[agent.index()]
    }
}

/// Drives trades through the agents; see the module docs.
pub struct Pipeline<C: AgentClient, J: Journal, O: Observer> {
    policies: [Mutex<AgentPolicy>; 4],
    seed: u64,
    client: C,
    journal: J,
    observer: O,
}

impl<C: AgentClient, J: Journal, O: Observer> Pipeline<C, J, O> {
    /// Builds the pipeline; an impossible policy is refused with its field path.
    pub fn new(
        config: PipelineConfig,
        client: C,
        journal: J,
        observer: O,
        now: Instant,
    ) -> Result<Self, PolicyError> {
        let [a, b, c, d] = &config.policies;
        let defects = config.defects;
        let make = |stage: Stage, p: &PolicyConfig| {
            AgentPolicy::new(stage, p, now).map(|mut policy| {
                policy.plant(defects);
                Mutex::new(policy)
            })
        };
        let policies = [
            make(Stage::PdfAdapter, a)?,
            make(Stage::TradeExtraction, b)?,
            make(Stage::TradeMatching, c)?,
            make(Stage::ExceptionManagement, d)?,
        ];
        Ok(Pipeline {
            policies,
            seed: config.seed,
            client,
            journal,
            observer,
        })
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn client(&self) -> &C {
        &self.client
    }

    pub fn journal(&self) -> &J {
        &self.journal
    }

    pub fn observer(&self) -> &O {
        &self.observer
    }

    /// Accepts a trade and drives it to its terminal state.
    ///
    /// The trade is journaled before anything else. Submitting a trade the journal already
    /// knows does not start it twice: a finished trade's outcome is returned as is, an
    /// unfinished one is driven on from its journaled progress.
    pub async fn submit(&self, document: TradeDocument) -> Outcome {
        let trade = document.trade;
        if self.journal.begin(&document) {
            self.emit(Event::Submitted { trade });
            return self.drive(JournalEntry::new(document)).await;
        }
        if let Some(outcome) = self.journal.outcome(trade) {
            return outcome;
        }
        let entry = self
            .journal
            .entry(trade)
            .unwrap_or_else(|| JournalEntry::new(document));
        self.drive(entry).await
    }

    /// The trades the journal holds without an outcome, ordered by trade id.
    pub fn unfinished(&self) -> Vec<JournalEntry> {
        self.journal.unfinished()
    }

    /// Takes up a journaled trade again, from the first stage without a journaled output.
    /// A trade that already has an outcome gets it back without being finished again.
    pub async fn resume(&self, entry: JournalEntry) -> Outcome {
        let trade = entry.trade();
        if let Some(outcome) = self.journal.outcome(trade) {
            return outcome;
        }
        let entry = match self.journal.entry(trade) {
            Some(fresh) => fresh,
            None => {
                // Not journaled at all (an entry carried in from elsewhere): journal it first
                // so that from here on it cannot be lost either.
                self.journal.begin(&entry.document);
                entry
            }
        };
        self.emit(Event::Resumed {
            trade,
            stage: flow::resume_stage(&entry),
        });
        self.drive(entry).await
    }

    /// Forces the agent's breaker open: isolation as an incident response.
    pub fn force_open(&self, agent: Stage, now: Instant) {
        self.with_policy(agent, |p| p.force_open(now));
    }

    /// Releases an isolated agent.
    pub fn release(&self, agent: Stage, now: Instant) {
        self.with_policy(agent, |p| p.release(now));
    }

    pub fn breaker_state(&self, agent: Stage) -> BreakerState {
        self.lock(agent).breaker_state()
    }

    /// Plans and executes steps until the trade finishes. Each step adds the called stage's
    /// output or failure to the entry, and [`next_step`] never calls a stage that has either,
    /// so the loop ends after at most four call sequences.
    async fn drive(&self, mut entry: JournalEntry) -> Outcome {
        let trade = entry.trade();
        loop {
            let (stage, input) = match next_step(&entry) {
                Step::Finish(outcome) => return self.finish(trade, outcome),
                Step::Call { stage, input } => (stage, input),
            };
            let result = self.call_stage(&entry.document, stage, input).await;
            let written = match &result {
                Ok(output) => self.journal.stage_done(trade, stage, output),
                Err(failure) => self.journal.stage_failed(trade, failure),
            };
            if !written {
                // Someone else wrote first (a concurrent duplicate): their record stands.
                if let Some(outcome) = self.journal.outcome(trade) {
                    return outcome;
                }
                if let Some(fresh) = self.journal.entry(trade) {
                    let covered = fresh.outputs.contains_key(&stage) || fresh.failures.contains_key(&stage);
                    if covered {
                        entry = fresh;
                        continue;
                    }
                }
            }
            match result {
                Ok(output) => {
                    entry.outputs.insert(stage, output);
                }
                Err(failure) => {
                    entry.failures.insert(failure.stage, failure.error);
                }
            }
        }
    }

    /// Journals the terminal state; if another run of the same trade finished first, its
    /// outcome stands and is returned instead (never two terminal states).
    fn finish(&self, trade: TradeId, outcome: Outcome) -> Outcome {
        if self.journal.finish(trade, &outcome) {
            self.emit(Event::Finished {
                trade,
                outcome: outcome.kind(),
            });
            return outcome;
        }
        self.journal.outcome(trade).unwrap_or(outcome)
    }

    fn emit(&self, event: Event) {
        self.observer.on_event(Instant::now(), &event);
    }

    fn emit_all(&self, events: Vec<(Instant, Event)>) {
        for (at, event) in &events {
            self.observer.on_event(*at, event);
        }
    }

    /// A poisoned policy lock means a panic elsewhere mid-decision; the policy's state is
    /// still a valid state machine state, so it is used rather than panicking again.
    fn lock(&self, agent: Stage) -> MutexGuard<'_, AgentPolicy> {
        self.policies[agent.index()]
            .lock()
            .unwrap_or_else(|p| p.into_inner())
    }

    /// Runs a policy decision and returns the events it produced, unemitted, so the caller
    /// can order them after its own event.
    fn with_policy_events<R>(
        &self,
        agent: Stage,
        f: impl FnOnce(&mut AgentPolicy) -> R,
    ) -> (R, Vec<(Instant, Event)>) {
        let mut policy = self.lock(agent);
        let r = f(&mut policy);
        let events = policy.take_events();
        (r, events)
    }

    /// Runs a policy decision and emits the events it produced (after the lock is released).
    fn with_policy<R>(&self, agent: Stage, f: impl FnOnce(&mut AgentPolicy) -> R) -> R {
        let (r, events) = self.with_policy_events(agent, f);
        self.emit_all(events);
        r
    }
}

#[cfg(test)]
mod tests;
