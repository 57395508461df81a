//! One call sequence: every attempt the pipeline makes at one stage of one trade, under the
//! stage's policy, until the agent answers or the policy gives up.
//!
//! The policy decides (admission, breaker, backoff, budget) and this file executes: it
//! sleeps where the policy says to wait, bounds each call by the timeout, reports each
//! result back exactly once per permit, and turns every decision into an event. The policy
//! lock is never held across an `.await`.

use std::time::Duration;

use tokio::time::Instant;

use super::Pipeline;
use super::flow::fits;
use super::seed::attempt_rng;
use crate::agent::ErrorKind;
use crate::agent::{AgentClient, AgentError, AgentInput, AgentOutput, AgentRequest};
use crate::domain::{IdempotencyKey, Stage, TradeDocument};
use crate::event::{Event, GiveUp, Observer};
use crate::journal::{Journal, StageFailure};
use crate::resilience::{Admission, Backoff, Failure, Permit, RetryDecision};

/// Why an attempt did not produce an answer.
enum AttemptFailure {
    Agent(AgentError),
    Breaker(crate::resilience::BreakerState),
    Limiter,
}

impl AttemptFailure {
    fn as_failure(&self) -> Failure<'_> {
        match self {
            AttemptFailure::Agent(e) => Failure::Agent(e),
            AttemptFailure::Breaker(_) => Failure::RejectedByBreaker,
            AttemptFailure::Limiter => Failure::RejectedByLimiter,
        }
    }

    fn describe(&self) -> String {
        match self {
            AttemptFailure::Agent(e) => e.to_string(),
            AttemptFailure::Breaker(state) => format!("rejected by breaker ({})", state.name()),
            AttemptFailure::Limiter => "rejected by limiter".to_string(),
        }
    }
}

fn give_up_text(why: GiveUp) -> &'static str {
    match why {
        GiveUp::NotRetryable => "not retryable",
        GiveUp::AttemptsExhausted => "attempts exhausted",
        GiveUp::BudgetExhausted => "retry budget exhausted",
    }
}

impl<C: AgentClient, J: Journal, O: Observer> Pipeline<C, J, O> {
    /// Runs the call sequence for `stage` of `doc`'s trade. Attempt numbers continue from the
    /// journal, so a sequence resumed after a restart does not start again at 1.
    pub(super) async fn call_stage(
        &self,
        doc: &TradeDocument,
        stage: Stage,
        input: AgentInput,
    ) -> Result<AgentOutput, StageFailure> {
        let key = IdempotencyKey {
            trade: doc.trade,
            stage,
        };
        let (retry, call_timeout) =
            self.with_policy(stage, |p| (p.config().retry.clone(), p.config().timeout.call));
        let mut backoff = Backoff::new(&retry);
        loop {
            let attempt = self.journal.note_attempt(key);
            let failure = match self
                .attempt(doc, key, attempt, &input, call_timeout, &mut backoff)
                .await
            {
                Ok(output) => return Ok(output),
                Err(failure) => failure,
            };
            let mut rng = attempt_rng(self.seed, doc.trade, stage, attempt);
            let decision = self.with_policy(stage, |p| {
                p.after_failure(
                    Instant::now(),
                    attempt,
                    failure.as_failure(),
                    &mut backoff,
                    &mut rng,
                )
            });
            let cause = match &failure {
                AttemptFailure::Agent(e) => Some(e.kind()),
                _ => None,
            };
            match decision {
                RetryDecision::Retry { delay } => {
                    self.emit(Event::RetryScheduled {
                        key,
                        attempt,
                        delay,
                        cause,
                    });
                    tokio::time::sleep(delay).await;
                }
                RetryDecision::GiveUp(why) => {
                    self.emit(Event::GaveUp { key, attempt, why });
                    let error = format!(
                        "{} ({} after attempt {attempt})",
                        failure.describe(),
                        give_up_text(why)
                    );
                    return Err(StageFailure { stage, error });
                }
            }
        }
    }

    /// One attempt: admission, then (if admitted) the call under the timeout.
    async fn attempt(
        &self,
        doc: &TradeDocument,
        key: IdempotencyKey,
        attempt: u32,
        input: &AgentInput,
        call_timeout: Duration,
        backoff: &mut Backoff,
    ) -> Result<AgentOutput, AttemptFailure> {
        let stage = key.stage;
        let admission = self.with_policy(stage, |p| p.acquire_with(Instant::now(), backoff));
        let permit = match admission {
            Admission::Ready(permit) => permit,
            Admission::Wait(wait) => {
                self.emit(Event::LimiterWait { key, attempt, wait });
                tokio::time::sleep(wait).await;
                match self.with_policy(stage, |p| p.start_with(Instant::now(), backoff)) {
                    Ok(permit) => permit,
                    Err(state) => return Err(self.rejected_by_breaker(key, attempt, state)),
                }
            }
            Admission::RejectedByBreaker(state) => {
                return Err(self.rejected_by_breaker(key, attempt, state));
            }
            Admission::RejectedByLimiter => {
                self.emit(Event::RejectedByLimiter { key, attempt });
                return Err(AttemptFailure::Limiter);
            }
        };

        self.emit(Event::CallStarted { key, attempt });
        let started = Instant::now();
        let mut in_flight = InFlight {
            pipeline: self,
            stage,
            permit: Some(permit),
            started,
        };
        let request = AgentRequest {
            key,
            correlation_id: doc.correlation_id.clone(),
            attempt,
            input: input.clone(),
        };
        let result = match tokio::time::timeout(call_timeout, self.client.invoke(request)).await {
            Ok(Ok(output)) if fits(stage, &output) => Ok(output),
            Ok(Ok(_)) => Err(AgentError::Protocol(format!(
                "{stage} answered with the wrong output type"
            ))),
            Ok(Err(error)) => Err(error),
            Err(_elapsed) => Err(AgentError::Timeout),
        };
        let latency = Instant::now().saturating_duration_since(started);
        let verdict = result.as_ref().map(|_| ()).map_err(AgentError::kind);
        let error = verdict.err();
        let events = in_flight.record(verdict, latency);
        self.emit(Event::CallFinished {
            key,
            attempt,
            error,
            latency,
        });
        self.emit_all(events);
        result.map_err(AttemptFailure::Agent)
    }

    fn rejected_by_breaker(
        &self,
        key: IdempotencyKey,
        attempt: u32,
        state: crate::resilience::BreakerState,
    ) -> AttemptFailure {
        self.emit(Event::RejectedByBreaker { key, attempt, state });
        AttemptFailure::Breaker(state)
    }
}

/// A started call's permit until its result is recorded.
///
/// If the attempt's future is dropped mid-call (a caller that stops waiting for a trade while
/// the pipeline lives on), the permit is still handed back, recorded with a failure class
/// that counts neither for nor against the breaker: otherwise a HALF_OPEN probe slot would
/// stay taken forever and the breaker could never close again.
struct InFlight<'p, C: AgentClient, J: Journal, O: Observer> {
    pipeline: &'p Pipeline<C, J, O>,
    stage: Stage,
    permit: Option<Permit>,
    started: Instant,
}

impl<C: AgentClient, J: Journal, O: Observer> InFlight<'_, C, J, O> {
    /// Records how the call ended; returns the policy's events for the caller to emit after
    /// its own `CallFinished`.
    fn record(&mut self, verdict: Result<(), ErrorKind>, latency: Duration) -> Vec<(Instant, Event)> {
        let Some(permit) = self.permit.take() else {
            return Vec::new();
        };
        let ((), events) = self
            .pipeline
            .with_policy_events(self.stage, |p| p.record(Instant::now(), permit, verdict, latency));
        events
    }
}

impl<C: AgentClient, J: Journal, O: Observer> Drop for InFlight<'_, C, J, O> {
    fn drop(&mut self) {
        if let Some(permit) = self.permit.take() {
            let now = Instant::now();
            let latency = now.saturating_duration_since(self.started);
            self.pipeline.with_policy(self.stage, |p| {
                p.record(now, permit, Err(ErrorKind::Rejected), latency)
            });
        }
    }
}
