//! The circuit breaker: stop calling an agent that is failing, and find out when it is back.
//!
//! While CLOSED every call goes through and its outcome enters a count-based sliding window of
//! the last `window` outcomes; once the window holds at least `min_calls` outcomes and
//! `failures / calls ≥ failure_rate` (or, with `slow_call` set, `slow / calls ≥ slow_call.rate`,
//! slow meaning `latency ≥ slow_call.threshold`, success or not), the breaker opens. OPEN refuses
//! every call for `open_for`; the breaker has no timer, so it becomes HALF_OPEN lazily, when a
//! call asks after `open_for` has elapsed (the transition is stamped with the time of that call).
//! HALF_OPEN admits at most `half_open_probes` probes; once all of them succeeded it closes
//! with a fresh window, and the first failed probe (a slow probe counts as failed when
//! `slow_call` is set) opens it again for another `open_for`. FORCED_OPEN (isolation) refuses
//! everything until [`Breaker::release`] closes it with a fresh window; nothing else leaves it.
//!
//! Late results: every admitted call gets a [`BreakerPermit`] stamped with the breaker's
//! generation, which changes on every transition. An outcome whose permit is from another
//! generation is ignored: a slow call admitted while CLOSED that finishes after the breaker
//! opened says nothing about the probes of the next HALF_OPEN period, and must neither close
//! nor reopen it. Within its generation, each permit is used exactly once (it is consumed).

use std::collections::VecDeque;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use super::config::BreakerConfig;

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

/// One state change, with when and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Transition {
    pub at: Instant,
    pub from: BreakerState,
    pub to: BreakerState,
    pub cause: TransitionCause,
}

/// Admission of one call by the breaker; report its outcome with exactly one of
/// [`Breaker::on_success`], [`Breaker::on_failure`] or [`Breaker::on_neutral`].
#[derive(Debug, PartialEq, Eq)]
#[must_use = "report the call's outcome with the permit"]
pub struct BreakerPermit {
    generation: u64,
}

impl BreakerPermit {
    /// The breaker generation the call was admitted in.
    pub fn generation(&self) -> u64 {
        self.generation
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Phase {
    Closed,
    Open { until: Instant },
    HalfOpen { admitted: u32, succeeded: u32 },
    ForcedOpen,
}

impl Phase {
    fn state(self) -> BreakerState {
        match self {
            Phase::Closed => BreakerState::Closed,
            Phase::Open { .. } => BreakerState::Open,
            Phase::HalfOpen { .. } => BreakerState::HalfOpen,
            Phase::ForcedOpen => BreakerState::ForcedOpen,
        }
    }
}

/// One outcome in the CLOSED window.
#[derive(Debug, Clone, Copy)]
struct Outcome {
    failed: bool,
    slow: bool,
}

#[derive(Debug, Clone)]
pub struct Breaker {
    config: BreakerConfig,
    phase: Phase,
    generation: u64,
    window: VecDeque<Outcome>,
    failures: u32,
    slow: u32,
    transitions: Vec<Transition>,
    /// Planted defect: HALF_OPEN admits every call (see [`super::Defects`]).
    ignore_probe_limit: bool,
}

impl Breaker {
    /// A CLOSED breaker with an empty window. Expects a validated config.
    pub fn new(config: &BreakerConfig, _now: Instant) -> Breaker {
        Breaker {
            config: config.clone(),
            phase: Phase::Closed,
            generation: 0,
            window: VecDeque::with_capacity(config.window as usize),
            failures: 0,
            slow: 0,
            transitions: Vec::new(),
            ignore_probe_limit: false,
        }
    }

    /// Plants the defect of a breaker that ignores its probe limit.
    pub fn plant_ignore_probe_limit(&mut self, on: bool) {
        self.ignore_probe_limit = on;
    }

    /// The state as of the last call into the breaker (OPEN turns HALF_OPEN only when a
    /// call asks after `open_for`; see [`Breaker::refresh`]).
    pub fn state(&self) -> BreakerState {
        self.phase.state()
    }

    /// Applies the lazy OPEN → HALF_OPEN transition if `open_for` has elapsed by `now`.
    pub fn refresh(&mut self, now: Instant) -> BreakerState {
        if let Phase::Open { until } = self.phase
            && now >= until
        {
            self.go(
                now,
                Phase::HalfOpen {
                    admitted: 0,
                    succeeded: 0,
                },
                TransitionCause::OpenElapsed,
            );
        }
        self.state()
    }

    /// Whether a call at `now` would be admitted, without admitting it.
    pub fn peek(&mut self, now: Instant) -> Result<(), BreakerState> {
        match self.refresh(now) {
            BreakerState::Closed => Ok(()),
            BreakerState::HalfOpen => match self.phase {
                Phase::HalfOpen { admitted, .. }
                    if admitted < self.config.half_open_probes || self.ignore_probe_limit =>
                {
                    Ok(())
                }
                _ => Err(BreakerState::HalfOpen),
            },
            refused => Err(refused),
        }
    }

    /// Admits a call (in HALF_OPEN, as one of the period's probes), or refuses it with the
    /// state that refused it.
    pub fn try_acquire(&mut self, now: Instant) -> Result<BreakerPermit, BreakerState> {
        self.peek(now)?;
        if let Phase::HalfOpen { admitted, .. } = &mut self.phase {
            *admitted += 1;
        }
        Ok(BreakerPermit {
            generation: self.generation,
        })
    }

    /// The admitted call succeeded after `latency`.
    pub fn on_success(&mut self, now: Instant, latency: Duration, permit: BreakerPermit) {
        let slow = self.is_slow(latency);
        self.on_outcome(now, permit, Outcome { failed: false, slow });
    }

    /// The admitted call failed after `latency`.
    pub fn on_failure(&mut self, now: Instant, latency: Duration, permit: BreakerPermit) {
        let slow = self.is_slow(latency);
        self.on_outcome(now, permit, Outcome { failed: true, slow });
    }

    /// The admitted call ended in a way that says nothing about the agent's health (for
    /// example the agent rejected the request as invalid). It enters no window; in HALF_OPEN
    /// its probe slot is given back so another probe can decide.
    pub fn on_neutral(&mut self, _now: Instant, permit: BreakerPermit) {
        if permit.generation != self.generation {
            return;
        }
        if let Phase::HalfOpen { admitted, .. } = &mut self.phase {
            *admitted = admitted.saturating_sub(1);
        }
    }

    /// Isolates the agent: FORCED_OPEN until [`Breaker::release`].
    pub fn force_open(&mut self, now: Instant) {
        if self.phase != Phase::ForcedOpen {
            self.go(now, Phase::ForcedOpen, TransitionCause::Forced);
        }
    }

    /// Ends an isolation: FORCED_OPEN → CLOSED with a fresh window. No effect in other states.
    pub fn release(&mut self, now: Instant) {
        if self.phase == Phase::ForcedOpen {
            self.go(now, Phase::Closed, TransitionCause::Released);
        }
    }

    /// Every transition since the last call, oldest first.
    pub fn take_transitions(&mut self) -> Vec<Transition> {
        std::mem::take(&mut self.transitions)
    }

    /// Outcomes in the CLOSED window: `(calls, failures, slow)`.
    pub fn window_counts(&self) -> (u32, u32, u32) {
        (self.window.len() as u32, self.failures, self.slow)
    }

    /// Probes admitted in the current HALF_OPEN period (0 in other states).
    pub fn probes_admitted(&self) -> u32 {
        match self.phase {
            Phase::HalfOpen { admitted, .. } => admitted,
            _ => 0,
        }
    }

    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn is_slow(&self, latency: Duration) -> bool {
        self.config
            .slow_call
            .as_ref()
            .is_some_and(|s| latency >= s.threshold)
    }

    fn on_outcome(&mut self, now: Instant, permit: BreakerPermit, outcome: Outcome) {
        if permit.generation != self.generation {
            return;
        }
        match self.phase {
            Phase::Closed => self.record_closed(now, outcome),
            Phase::HalfOpen { admitted, succeeded } => {
                let failed = outcome.failed || outcome.slow;
                if failed {
                    self.open(now, TransitionCause::ProbeFailed);
                } else if succeeded + 1 >= self.config.half_open_probes {
                    self.go(now, Phase::Closed, TransitionCause::ProbesSucceeded);
                } else {
                    self.phase = Phase::HalfOpen {
                        admitted,
                        succeeded: succeeded + 1,
                    };
                }
            }
            // Same generation implies the state the permit was issued in: never OPEN.
            Phase::Open { .. } | Phase::ForcedOpen => {}
        }
    }

    fn record_closed(&mut self, now: Instant, outcome: Outcome) {
        if self.window.len() as u32 >= self.config.window
            && let Some(old) = self.window.pop_front()
        {
            self.failures -= u32::from(old.failed);
            self.slow -= u32::from(old.slow);
        }
        self.window.push_back(outcome);
        self.failures += u32::from(outcome.failed);
        self.slow += u32::from(outcome.slow);
        let calls = self.window.len() as u32;
        if calls < self.config.min_calls {
            return;
        }
        let rate = f64::from(self.failures) / f64::from(calls);
        if rate >= self.config.failure_rate {
            self.open(now, TransitionCause::FailureRate { rate, calls });
            return;
        }
        if let Some(s) = &self.config.slow_call {
            let rate = f64::from(self.slow) / f64::from(calls);
            if rate >= s.rate {
                self.open(now, TransitionCause::SlowCallRate { rate, calls });
            }
        }
    }

    fn open(&mut self, now: Instant, cause: TransitionCause) {
        let until = now.checked_add(self.config.open_for).unwrap_or(now);
        self.go(now, Phase::Open { until }, cause);
    }

    fn go(&mut self, now: Instant, to: Phase, cause: TransitionCause) {
        let from = self.phase.state();
        self.phase = to;
        self.generation += 1;
        if to == Phase::Closed {
            self.window.clear();
            self.failures = 0;
            self.slow = 0;
        }
        self.transitions.push(Transition {
            at: now,
            from,
            to: to.state(),
            cause,
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::resilience::config::SlowCallConfig;

    const MS: Duration = Duration::from_millis(1);

    fn cfg() -> BreakerConfig {
        BreakerConfig {
            failure_rate: 0.5,
            window: 4,
            min_calls: 2,
            open_for: Duration::from_secs(10),
            half_open_probes: 2,
            slow_call: None,
        }
    }

    fn call(b: &mut Breaker, now: Instant, ok: bool) {
        let p = b.try_acquire(now).unwrap();
        if ok {
            b.on_success(now, MS, p)
        } else {
            b.on_failure(now, MS, p)
        }
    }

    #[tokio::test(start_paused = true)]
    async fn opens_at_the_failure_rate_with_min_calls() {
        let t = Instant::now();
        let mut b = Breaker::new(&cfg(), t);
        call(&mut b, t, false);
        assert_eq!(b.state(), BreakerState::Closed, "1 call < min_calls");
        call(&mut b, t, true);
        assert_eq!(b.state(), BreakerState::Open, "1/2 ≥ 0.5");
        let tr = b.take_transitions();
        assert_eq!(tr.len(), 1);
        assert_eq!(tr[0].cause, TransitionCause::FailureRate { rate: 0.5, calls: 2 });
        assert_eq!(b.try_acquire(t + Duration::from_secs(9)), Err(BreakerState::Open));
    }

    #[tokio::test(start_paused = true)]
    async fn the_window_slides() {
        let t = Instant::now();
        let mut b = Breaker::new(
            &BreakerConfig {
                failure_rate: 0.75,
                ..cfg()
            },
            t,
        );
        for ok in [true, false, true, false, true, true, false, false] {
            call(&mut b, t, ok);
            assert_eq!(b.state(), BreakerState::Closed);
        }
        call(&mut b, t, false); // window: true, false, false, false (all calls: 5/9 failed)
        assert_eq!(b.state(), BreakerState::Open);
    }

    #[tokio::test(start_paused = true)]
    async fn half_open_admits_probes_then_closes_or_reopens() {
        let t = Instant::now();
        let mut b = Breaker::new(&cfg(), t);
        call(&mut b, t, false);
        call(&mut b, t, false);
        let t1 = t + Duration::from_secs(10);
        assert_eq!(b.refresh(t1), BreakerState::HalfOpen);
        let p1 = b.try_acquire(t1).unwrap();
        let p2 = b.try_acquire(t1).unwrap();
        assert_eq!(b.try_acquire(t1), Err(BreakerState::HalfOpen));
        b.on_success(t1, MS, p1);
        assert_eq!(b.state(), BreakerState::HalfOpen);
        b.on_success(t1, MS, p2);
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.window_counts(), (0, 0, 0));
        // Reopen on a probe failure, for a fresh open_for.
        call(&mut b, t1, false);
        call(&mut b, t1, false);
        let t2 = t1 + Duration::from_secs(10);
        let p = b.try_acquire(t2).unwrap();
        b.on_failure(t2, MS, p);
        assert_eq!(b.state(), BreakerState::Open);
        assert_eq!(
            b.try_acquire(t2 + Duration::from_secs(9)),
            Err(BreakerState::Open)
        );
        assert!(b.try_acquire(t2 + Duration::from_secs(10)).is_ok());
        let causes: Vec<_> = b.take_transitions().into_iter().map(|x| x.cause).collect();
        assert_eq!(
            causes[1..4],
            [
                TransitionCause::OpenElapsed,
                TransitionCause::ProbesSucceeded,
                TransitionCause::FailureRate { rate: 1.0, calls: 2 },
            ]
        );
        assert_eq!(
            causes[5..],
            [TransitionCause::ProbeFailed, TransitionCause::OpenElapsed]
        );
    }

    #[tokio::test(start_paused = true)]
    async fn late_results_from_an_earlier_generation_are_ignored() {
        let t = Instant::now();
        let mut b = Breaker::new(&cfg(), t);
        let slow = b.try_acquire(t).unwrap();
        call(&mut b, t, false);
        call(&mut b, t, false);
        let t1 = t + Duration::from_secs(10);
        let probe = b.try_acquire(t1).unwrap();
        b.on_failure(t1, MS, slow); // admitted while CLOSED: ignored
        assert_eq!(b.state(), BreakerState::HalfOpen);
        b.on_success(t1, MS, probe);
        assert_eq!(b.state(), BreakerState::HalfOpen, "one of two probes");
    }

    #[tokio::test(start_paused = true)]
    async fn neutral_outcomes_free_the_probe_slot() {
        let t = Instant::now();
        let mut b = Breaker::new(
            &BreakerConfig {
                half_open_probes: 1,
                ..cfg()
            },
            t,
        );
        call(&mut b, t, false);
        call(&mut b, t, false);
        let t1 = t + Duration::from_secs(10);
        let p = b.try_acquire(t1).unwrap();
        assert!(b.try_acquire(t1).is_err());
        b.on_neutral(t1, p);
        assert!(b.try_acquire(t1).is_ok());
    }

    #[tokio::test(start_paused = true)]
    async fn forced_open_holds_until_released() {
        let t = Instant::now();
        let mut b = Breaker::new(&cfg(), t);
        call(&mut b, t, false);
        b.force_open(t);
        assert_eq!(
            b.try_acquire(t + Duration::from_secs(3600)),
            Err(BreakerState::ForcedOpen)
        );
        b.release(t);
        assert_eq!(b.state(), BreakerState::Closed);
        assert_eq!(b.window_counts(), (0, 0, 0));
        b.release(t);
        let tr = b.take_transitions();
        assert_eq!(tr.len(), 2);
        assert_eq!(
            (tr[1].from, tr[1].to),
            (BreakerState::ForcedOpen, BreakerState::Closed)
        );
    }

    #[tokio::test(start_paused = true)]
    async fn slow_calls_open_it_too() {
        let t = Instant::now();
        let c = BreakerConfig {
            slow_call: Some(SlowCallConfig {
                threshold: Duration::from_secs(1),
                rate: 1.0,
            }),
            ..cfg()
        };
        let mut b = Breaker::new(&c, t);
        for _ in 0..2 {
            let p = b.try_acquire(t).unwrap();
            b.on_success(t, Duration::from_secs(2), p);
        }
        assert_eq!(b.state(), BreakerState::Open);
        assert!(matches!(
            b.take_transitions()[0].cause,
            TransitionCause::SlowCallRate { calls: 2, .. }
        ));
    }
}
