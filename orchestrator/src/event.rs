//! Events: what the pipeline and the call policy decided, in the order they decided it.
//!
//! The pure parts never log; they return events, and the pipeline hands each one, stamped
//! with the time, to an [`Observer`]. The simulation's recorder turns them into its trace;
//! production turns them into structured logs and metrics.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::agent::ErrorKind;
use crate::domain::{IdempotencyKey, OutcomeKind, Stage, TradeId};
use crate::resilience::breaker::{BreakerState, TransitionCause};

/// Why a call sequence for one stage stopped without a success.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GiveUp {
    /// The failure class is never retried (access denied, rejected).
    NotRetryable,
    /// `retry.max_attempts` reached.
    AttemptsExhausted,
    /// The retry budget had too few tokens for another retry.
    BudgetExhausted,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// A trade was accepted by the orchestrator (journaled before anything else happens).
    Submitted { trade: TradeId },
    /// A trade found in the journal after a restart is taken up again at `stage`.
    Resumed { trade: TradeId, stage: Stage },
    /// The limiter had no token; the call waits this long for one.
    LimiterWait {
        key: IdempotencyKey,
        attempt: u32,
        wait: Duration,
    },
    /// The limiter had no token within `rate_limit.max_wait`.
    RejectedByLimiter { key: IdempotencyKey, attempt: u32 },
    /// The breaker refused the call without sending it.
    RejectedByBreaker {
        key: IdempotencyKey,
        attempt: u32,
        state: BreakerState,
    },
    /// A request was sent to the agent.
    CallStarted { key: IdempotencyKey, attempt: u32 },
    /// The agent answered, failed or timed out.
    CallFinished {
        key: IdempotencyKey,
        attempt: u32,
        error: Option<ErrorKind>,
        latency: Duration,
    },
    /// Another attempt will be made after `delay`.
    RetryScheduled {
        key: IdempotencyKey,
        attempt: u32,
        delay: Duration,
        cause: Option<ErrorKind>,
    },
    /// No more attempts for this stage.
    GaveUp {
        key: IdempotencyKey,
        attempt: u32,
        why: GiveUp,
    },
    BreakerTransition {
        agent: Stage,
        from: BreakerState,
        to: BreakerState,
        cause: TransitionCause,
    },
    /// The trade reached its terminal state.
    Finished { trade: TradeId, outcome: OutcomeKind },
}

/// Receives every event with the (tokio) time it happened.
pub trait Observer {
    fn on_event(&self, at: Instant, event: &Event);
}

/// Discards events.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoObserver;

impl Observer for NoObserver {
    fn on_event(&self, _at: Instant, _event: &Event) {}
}

impl<T: Observer + ?Sized> Observer for &T {
    fn on_event(&self, at: Instant, event: &Event) {
        (**self).on_event(at, event)
    }
}

impl<T: Observer + ?Sized> Observer for std::rc::Rc<T> {
    fn on_event(&self, at: Instant, event: &Event) {
        (**self).on_event(at, event)
    }
}

impl<T: Observer + ?Sized> Observer for std::sync::Arc<T> {
    fn on_event(&self, at: Instant, event: &Event) {
        (**self).on_event(at, event)
    }
}
