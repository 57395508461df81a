//! The call policy for one agent: breaker, rate limiter, retry budget and backoff composed.
//!
//! The pipeline asks the policy before each attempt ([`AgentPolicy::acquire`]), reports how
//! the attempt ended ([`AgentPolicy::record`]) and, after a failure, asks whether and when to
//! try again ([`AgentPolicy::after_failure`]). The order of the checks in `acquire` matters:
//! the breaker is asked first, so a call it would refuse spends no limiter token; then the
//! limiter reserves a token, waiting at most `rate_limit.max_wait`; the breaker gives its final
//! admission when the call actually starts, because its state may change during the wait.
//!
//! Retry rules, in order: a non-retryable agent error gives up (`NotRetryable`); attempt
//! `max_attempts` gives up (`AttemptsExhausted`), whatever the failure, because a refused
//! attempt still spent the trade's time; an agent failure must pay a budget token
//! (`timeout_cost` after a timeout, else `retry_cost`) or gives up (`BudgetExhausted`);
//! a refusal by the breaker or the limiter pays nothing, since no call reached the agent.
//!
//! Breaker accounting in `record`: successes and errors that count against the breaker
//! ([`ErrorKind::counts_against_breaker`]) feed its window; the other errors (access denied,
//! rejected) come from a healthy agent, so they are neither success nor failure: they leave
//! the window untouched and, in HALF_OPEN, free the probe slot for another probe.
//!
//! Budget refunds: the token paid for a retry is kept in the trade's [`Backoff`]. When the
//! pipeline acquires with [`AgentPolicy::acquire_with`] / [`AgentPolicy::start_with`], the token
//! moves into the [`Permit`] and a success of that retry refunds its cost, exactly as the AWS
//! SDKs do. With plain `acquire`/`start` the permit carries no token and every success refunds
//! `success_refund`, which is the conservative reading (retries are never refunded in full).

use std::time::Duration;

use rand_core::RngCore;
use tokio::time::Instant;

use super::backoff::Backoff;
use super::breaker::{Breaker, BreakerPermit, BreakerState};
use super::bucket::TokenBucket;
use super::budget::{RetryBudget, RetryToken};
use super::config::{PolicyConfig, PolicyError};
use super::defects::Defects;
use crate::agent::{AgentError, ErrorKind};
use crate::domain::Stage;
use crate::event::{Event, GiveUp};

/// Leave to make one call; hand it back to [`AgentPolicy::record`] exactly once.
#[derive(Debug, PartialEq, Eq)]
#[must_use = "report the call's outcome with AgentPolicy::record"]
pub struct Permit {
    breaker: BreakerPermit,
    retry: Option<RetryToken>,
}

impl Permit {
    /// The budget token this attempt was paid with, if it is a paid retry.
    pub fn retry_token(&self) -> Option<&RetryToken> {
        self.retry.as_ref()
    }
}

/// What to do about an attempt, before making it.
#[derive(Debug, PartialEq, Eq)]
pub enum Admission {
    /// Call now.
    Ready(Permit),
    /// A limiter token is reserved for `now + wait`: sleep, then [`AgentPolicy::start`].
    Wait(Duration),
    /// The breaker refuses calls (no limiter token was spent).
    RejectedByBreaker(BreakerState),
    /// No limiter token within `rate_limit.max_wait` (none was taken).
    RejectedByLimiter,
}

/// Why an attempt failed.
#[derive(Debug, Clone, Copy)]
pub enum Failure<'a> {
    Agent(&'a AgentError),
    RejectedByBreaker,
    RejectedByLimiter,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetryDecision {
    Retry { delay: Duration },
    GiveUp(GiveUp),
}

/// The resilience state for all calls to one agent.
#[derive(Debug, Clone)]
pub struct AgentPolicy {
    agent: Stage,
    config: PolicyConfig,
    breaker: Breaker,
    limiter: TokenBucket,
    budget: RetryBudget,
    defects: Defects,
}

impl AgentPolicy {
    /// Validates `config` and builds the machines: breaker CLOSED, bucket and budget full.
    pub fn new(agent: Stage, config: &PolicyConfig, now: Instant) -> Result<AgentPolicy, PolicyError> {
        config.validate()?;
        Ok(AgentPolicy {
            agent,
            config: config.clone(),
            breaker: Breaker::new(&config.breaker, now),
            limiter: TokenBucket::new(&config.rate_limit, now),
            budget: RetryBudget::new(&config.budget),
            defects: Defects::NONE,
        })
    }

    /// Plants deliberate defects (tests of the checker and the property search only).
    pub fn plant(&mut self, defects: Defects) {
        self.defects = defects;
        self.breaker
            .plant_ignore_probe_limit(defects.breaker_ignores_probe_limit);
    }

    pub fn agent(&self) -> Stage {
        self.agent
    }

    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    pub fn breaker_state(&self) -> BreakerState {
        self.breaker.state()
    }

    pub fn breaker(&self) -> &Breaker {
        &self.breaker
    }

    pub fn limiter(&self) -> &TokenBucket {
        &self.limiter
    }

    pub fn budget(&self) -> &RetryBudget {
        &self.budget
    }

    /// Before an attempt: breaker peek, then a limiter reservation within `max_wait`.
    pub fn acquire(&mut self, now: Instant) -> Admission {
        if let Err(state) = self.breaker.peek(now) {
            return Admission::RejectedByBreaker(state);
        }
        match self.limiter.reserve(now, self.config.rate_limit.max_wait) {
            Err(_) => Admission::RejectedByLimiter,
            Ok(wait) if wait.is_zero() => match self.breaker.try_acquire(now) {
                Ok(breaker) => Admission::Ready(Permit { breaker, retry: None }),
                Err(state) => Admission::RejectedByBreaker(state),
            },
            Ok(wait) => Admission::Wait(wait),
        }
    }

    /// After a [`Admission::Wait`]: the breaker's final admission.
    pub fn start(&mut self, now: Instant) -> Result<Permit, BreakerState> {
        let breaker = self.breaker.try_acquire(now)?;
        Ok(Permit { breaker, retry: None })
    }

    /// [`AgentPolicy::acquire`] for an attempt of `backoff`'s sequence: a `Ready` permit takes
    /// the retry token paid in the last `after_failure`, so the retry's success refunds it.
    pub fn acquire_with(&mut self, now: Instant, backoff: &mut Backoff) -> Admission {
        match self.acquire(now) {
            Admission::Ready(mut permit) => {
                permit.retry = backoff.pending_token.take();
                Admission::Ready(permit)
            }
            other => other,
        }
    }

    /// [`AgentPolicy::start`] for an attempt of `backoff`'s sequence (see `acquire_with`).
    pub fn start_with(&mut self, now: Instant, backoff: &mut Backoff) -> Result<Permit, BreakerState> {
        let mut permit = self.start(now)?;
        permit.retry = backoff.pending_token.take();
        Ok(permit)
    }

    /// How the permitted call ended (exactly once per permit).
    pub fn record(&mut self, now: Instant, permit: Permit, result: Result<(), ErrorKind>, latency: Duration) {
        let Permit { breaker, retry } = permit;
        match result {
            Ok(()) => {
                self.breaker.on_success(now, latency, breaker);
                self.budget.on_success(retry);
            }
            Err(kind) if kind.counts_against_breaker() => self.breaker.on_failure(now, latency, breaker),
            Err(_) => self.breaker.on_neutral(now, breaker),
        }
    }

    /// After failed attempt `attempt` (1-based): retry after a delay, or give up.
    pub fn after_failure(
        &mut self,
        _now: Instant,
        attempt: u32,
        failure: Failure<'_>,
        backoff: &mut Backoff,
        rng: &mut impl RngCore,
    ) -> RetryDecision {
        if let Failure::Agent(e) = failure
            && !e.kind().is_retryable()
        {
            return RetryDecision::GiveUp(GiveUp::NotRetryable);
        }
        if attempt >= self.config.retry.max_attempts {
            return RetryDecision::GiveUp(GiveUp::AttemptsExhausted);
        }
        let retry_after = match failure {
            Failure::Agent(e) if self.defects.retries_ignore_budget => e.retry_after(),
            Failure::Agent(e) => {
                let Some(token) = self.budget.try_acquire_retry(e.kind() == ErrorKind::Timeout) else {
                    return RetryDecision::GiveUp(GiveUp::BudgetExhausted);
                };
                // A token still pending was paid for an attempt that has now failed: spent.
                backoff.pending_token = Some(token);
                e.retry_after()
            }
            Failure::RejectedByBreaker | Failure::RejectedByLimiter => None,
        };
        RetryDecision::Retry {
            delay: backoff.next_delay(attempt, retry_after, rng),
        }
    }

    pub fn force_open(&mut self, now: Instant) {
        self.breaker.force_open(now);
    }

    pub fn release(&mut self, now: Instant) {
        self.breaker.release(now);
    }

    /// Breaker transitions since the last call, as events stamped with their time.
    pub fn take_events(&mut self) -> Vec<(Instant, Event)> {
        self.breaker
            .take_transitions()
            .into_iter()
            .map(|t| {
                let event = Event::BreakerTransition {
                    agent: self.agent,
                    from: t.from,
                    to: t.to,
                    cause: t.cause,
                };
                (t.at, event)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resilience::config::Jitter;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    const MS: Duration = Duration::from_millis(1);

    fn config() -> PolicyConfig {
        let mut c = PolicyConfig::default();
        c.retry.jitter = Jitter::None;
        c.retry.max_attempts = 3;
        c.breaker.window = 4;
        c.breaker.min_calls = 2;
        c.breaker.half_open_probes = 1;
        c.rate_limit.per_second = 10.0;
        c.rate_limit.burst = 1;
        c.rate_limit.max_wait = Duration::from_millis(150);
        c.budget = crate::resilience::config::BudgetConfig {
            capacity: 10,
            retry_cost: 5,
            timeout_cost: 10,
            success_refund: 1,
        };
        c
    }

    fn ready(a: Admission) -> Permit {
        match a {
            Admission::Ready(p) => p,
            other => panic!("expected Ready, got {other:?}"),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn invalid_config_is_refused_with_the_field() {
        let mut c = config();
        c.breaker.window = 0;
        let e = AgentPolicy::new(Stage::PdfAdapter, &c, Instant::now()).unwrap_err();
        assert_eq!(e.field, "breaker.window");
    }

    #[tokio::test(start_paused = true)]
    async fn the_limiter_waits_within_max_wait_then_rejects() {
        let t = Instant::now();
        let mut p = AgentPolicy::new(Stage::TradeMatching, &config(), t).unwrap();
        let first = ready(p.acquire(t));
        p.record(t, first, Ok(()), MS);
        assert_eq!(p.acquire(t), Admission::Wait(Duration::from_millis(100)));
        assert_eq!(p.acquire(t), Admission::RejectedByLimiter);
        let permit = p.start(t + Duration::from_millis(100)).unwrap();
        p.record(t, permit, Ok(()), MS);
    }

    #[tokio::test(start_paused = true)]
    async fn an_open_breaker_refuses_without_spending_a_token() {
        let t = Instant::now();
        let mut p = AgentPolicy::new(Stage::TradeMatching, &config(), t).unwrap();
        p.force_open(t);
        for _ in 0..5 {
            assert_eq!(
                p.acquire(t),
                Admission::RejectedByBreaker(BreakerState::ForcedOpen)
            );
        }
        p.release(t);
        assert!(
            matches!(p.acquire(t), Admission::Ready(_)),
            "the bucket is still full"
        );
        let events = p.take_events();
        assert_eq!(events.len(), 2);
        assert!(matches!(
            events[0].1,
            Event::BreakerTransition {
                agent: Stage::TradeMatching,
                to: BreakerState::ForcedOpen,
                ..
            }
        ));
    }

    #[tokio::test(start_paused = true)]
    async fn retry_rules_in_order() {
        let t = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let mut p = AgentPolicy::new(Stage::TradeExtraction, &config(), t).unwrap();
        let mut b = Backoff::new(&p.config().retry);
        let denied = AgentError::AccessDenied { status: 403 };
        assert_eq!(
            p.after_failure(t, 1, Failure::Agent(&denied), &mut b, &mut rng),
            RetryDecision::GiveUp(GiveUp::NotRetryable)
        );
        let unavailable = AgentError::Unavailable { status: 503 };
        assert_eq!(
            p.after_failure(t, 3, Failure::Agent(&unavailable), &mut b, &mut rng),
            RetryDecision::GiveUp(GiveUp::AttemptsExhausted)
        );
        assert_eq!(
            p.after_failure(t, 1, Failure::Agent(&unavailable), &mut b, &mut rng),
            RetryDecision::Retry {
                delay: Duration::from_millis(100)
            }
        );
        assert_eq!(p.budget().available(), 5);
        assert_eq!(
            p.after_failure(t, 1, Failure::Agent(&AgentError::Timeout), &mut b, &mut rng),
            RetryDecision::GiveUp(GiveUp::BudgetExhausted)
        );
        // Refusals cost no budget.
        assert_eq!(
            p.after_failure(t, 2, Failure::RejectedByBreaker, &mut b, &mut rng),
            RetryDecision::Retry {
                delay: Duration::from_millis(200)
            }
        );
        assert_eq!(p.budget().available(), 5);
        // Retry-After flows into the delay.
        let throttled = AgentError::Throttled {
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(
            p.after_failure(t, 1, Failure::Agent(&throttled), &mut b, &mut rng),
            RetryDecision::Retry {
                delay: Duration::from_secs(3)
            }
        );
        assert_eq!(p.budget().available(), 0);
    }

    #[tokio::test(start_paused = true)]
    async fn a_successful_retry_refunds_its_cost() {
        let t = Instant::now();
        let mut rng = ChaCha8Rng::seed_from_u64(8);
        let mut p = AgentPolicy::new(Stage::TradeExtraction, &config(), t).unwrap();
        let mut b = Backoff::new(&p.config().retry);
        let first = ready(p.acquire_with(t, &mut b));
        p.record(t, first, Err(ErrorKind::Unavailable), MS);
        let unavailable = AgentError::Unavailable { status: 503 };
        assert!(matches!(
            p.after_failure(t, 1, Failure::Agent(&unavailable), &mut b, &mut rng),
            RetryDecision::Retry { .. }
        ));
        assert_eq!(p.budget().available(), 5);
        let t1 = t + Duration::from_secs(1);
        let retry = ready(p.acquire_with(t1, &mut b));
        assert_eq!(retry.retry_token().map(|r| r.cost()), Some(5));
        p.record(t1, retry, Ok(()), MS);
        assert_eq!(p.budget().available(), 10);
    }

    #[tokio::test(start_paused = true)]
    async fn non_counting_errors_leave_the_breaker_window_alone() {
        let t = Instant::now();
        let mut p = AgentPolicy::new(Stage::TradeExtraction, &config(), t).unwrap();
        for i in 0..4 {
            let now = t + Duration::from_secs(i);
            let permit = ready(p.acquire(now));
            p.record(now, permit, Err(ErrorKind::Rejected), MS);
        }
        assert_eq!(p.breaker().window_counts(), (0, 0, 0));
        assert_eq!(p.breaker_state(), BreakerState::Closed);
        for i in 4..6 {
            let now = t + Duration::from_secs(i);
            let permit = ready(p.acquire(now));
            p.record(now, permit, Err(ErrorKind::Timeout), MS);
        }
        assert_eq!(p.breaker_state(), BreakerState::Open);
    }
}
