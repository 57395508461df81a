//! Property tests of the resilience machines: each is driven by random inputs and compared
//! with a naive reference model or with the bounds its documentation states.
//!
//! Case counts default to a CI-friendly number; set `GAMEDAY_PROPTEST_CASES` for more.

use std::time::Duration;

use gameday_orchestrator::agent::{AgentError, ErrorKind};
use gameday_orchestrator::domain::Stage;
use gameday_orchestrator::event::{Event, GiveUp};
use gameday_orchestrator::resilience::{
    Admission, AgentPolicy, Backoff, Breaker, BreakerConfig, BreakerPermit, BreakerState, BudgetConfig,
    Failure, Jitter, PolicyConfig, RateLimitConfig, RetryBudget, RetryConfig, RetryDecision, SlowCallConfig,
    TokenBucket, TransitionCause,
};
use proptest::prelude::*;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

fn cases(default: u32) -> ProptestConfig {
    let n = std::env::var("GAMEDAY_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default);
    ProptestConfig {
        cases: n,
        ..ProptestConfig::default()
    }
}

fn jitter() -> impl Strategy<Value = Jitter> {
    prop::sample::select(Jitter::ALL.to_vec())
}

// ---------------------------------------------------------------- backoff

/// `min(cap, base * 2^(n-1))`, computed independently with checked arithmetic.
fn reference_exp(base: Duration, cap: Duration, retry: u32) -> Duration {
    if base.is_zero() {
        return Duration::ZERO;
    }
    let mut d = base;
    for _ in 1..retry.max(1) {
        match d.checked_mul(2) {
            Some(x) if x < cap => d = x,
            _ => return cap,
        }
    }
    d.min(cap)
}

fn retry_number() -> impl Strategy<Value = u32> {
    prop_oneof![4 => 1u32..40, 1 => 40u32..200, 1 => Just(u32::MAX)]
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn every_delay_lies_within_its_strategy_bounds(
        jitter in jitter(),
        base_ms in 0u64..2_000,
        extra_ms in 0u64..60_000,
        max_ra_ms in 0u64..60_000,
        seed in any::<u64>(),
        steps in prop::collection::vec((retry_number(), prop::option::of(0u64..120_000)), 1..30),
    ) {
        let base = Duration::from_millis(if jitter == Jitter::Decorrelated { base_ms.max(1) } else { base_ms });
        let config = RetryConfig {
            max_attempts: 5,
            base_delay: base,
            max_delay: base + Duration::from_millis(extra_ms),
            jitter,
            max_retry_after: Duration::from_millis(max_ra_ms),
        };
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut backoff = Backoff::new(&config);
        for (retry, ra_ms) in steps {
            let retry_after = ra_ms.map(Duration::from_millis);
            let prev = backoff.previous();
            let d = backoff.next_delay(retry, retry_after, &mut rng);
            let floor = retry_after.map_or(Duration::ZERO, |ra| ra.min(config.max_retry_after));
            // Retry-After honoured, and capped.
            prop_assert!(d >= floor);
            prop_assert!(d <= config.max_delay.max(floor));
            let exp = reference_exp(config.base_delay, config.max_delay, retry);
            let strategy_hi = match jitter {
                _ if base.is_zero() => Duration::ZERO,
                Jitter::None | Jitter::Full | Jitter::Equal => exp,
                Jitter::Decorrelated => (prev * 3).min(config.max_delay),
            };
            let strategy_lo = match jitter {
                _ if base.is_zero() => Duration::ZERO,
                Jitter::None => exp,
                Jitter::Full => Duration::ZERO,
                Jitter::Equal => exp / 2,
                Jitter::Decorrelated => base.min(config.max_delay),
            };
            prop_assert!(d >= strategy_lo.max(floor), "{d:?} below {strategy_lo:?}");
            prop_assert!(d <= strategy_hi.max(floor), "{d:?} above {strategy_hi:?}");
            // The published helper states the same bounds.
            let (lo, hi) = Backoff::bounds_with_retry_after(&config, retry, prev, retry_after);
            prop_assert_eq!((lo, hi), (strategy_lo.max(floor), strategy_hi.max(floor)));
        }
    }
}

// ---------------------------------------------------------------- breaker

/// A naive breaker: keeps every outcome since the last close and looks at the last `window`.
struct RefBreaker {
    c: BreakerConfig,
    state: BreakerState,
    open_until: Option<Instant>,
    history: Vec<(bool, bool)>,
    admitted: u32,
    succeeded: u32,
    epoch: u64,
}

impl RefBreaker {
    fn new(c: &BreakerConfig) -> Self {
        RefBreaker {
            c: c.clone(),
            state: BreakerState::Closed,
            open_until: None,
            history: vec![],
            admitted: 0,
            succeeded: 0,
            epoch: 0,
        }
    }
    fn set(&mut self, s: BreakerState) {
        self.state = s;
        self.epoch += 1;
        self.admitted = 0;
        self.succeeded = 0;
        if s == BreakerState::Closed {
            self.history.clear();
        }
    }
    fn open(&mut self, now: Instant) {
        self.open_until = Some(now + self.c.open_for);
        self.set(BreakerState::Open);
    }
    fn acquire(&mut self, now: Instant) -> Option<u64> {
        if self.state == BreakerState::Open && now >= self.open_until.unwrap() {
            self.set(BreakerState::HalfOpen);
        }
        match self.state {
            BreakerState::Closed => Some(self.epoch),
            BreakerState::HalfOpen if self.admitted < self.c.half_open_probes => {
                self.admitted += 1;
                Some(self.epoch)
            }
            _ => None,
        }
    }
    fn finish(&mut self, now: Instant, epoch: u64, failed: bool, latency: Duration) {
        if epoch != self.epoch {
            return;
        }
        let slow = self.c.slow_call.as_ref().is_some_and(|s| latency >= s.threshold);
        match self.state {
            BreakerState::Closed => {
                self.history.push((failed, slow));
                let w = &self.history[self.history.len().saturating_sub(self.c.window as usize)..];
                let calls = w.len() as f64;
                if w.len() < self.c.min_calls as usize {
                    return;
                }
                let f = w.iter().filter(|o| o.0).count() as f64;
                let s = w.iter().filter(|o| o.1).count() as f64;
                if f / calls >= self.c.failure_rate
                    || self.c.slow_call.as_ref().is_some_and(|sc| s / calls >= sc.rate)
                {
                    self.open(now);
                }
            }
            BreakerState::HalfOpen => {
                if failed || slow {
                    self.open(now);
                } else {
                    self.succeeded += 1;
                    if self.succeeded == self.c.half_open_probes {
                        self.set(BreakerState::Closed);
                    }
                }
            }
            _ => {}
        }
    }
}

#[derive(Debug, Clone)]
enum BOp {
    /// Advance the clock, then make a call that ends at once.
    Call {
        advance_ms: u64,
        failed: bool,
        latency_ms: u64,
    },
    /// Admit a call and keep it in flight.
    Hold {
        advance_ms: u64,
    },
    /// Finish the in-flight call at this index (modulo), late.
    Finish {
        index: usize,
        failed: bool,
        latency_ms: u64,
    },
    Force,
    Release,
}

fn bop() -> impl Strategy<Value = BOp> {
    prop_oneof![
        12 => (0u64..3_000, any::<bool>(), 0u64..400).prop_map(|(advance_ms, failed, latency_ms)| BOp::Call { advance_ms, failed, latency_ms }),
        3 => (0u64..3_000).prop_map(|advance_ms| BOp::Hold { advance_ms }),
        3 => (any::<usize>(), any::<bool>(), 0u64..400).prop_map(|(index, failed, latency_ms)| BOp::Finish { index, failed, latency_ms }),
        1 => Just(BOp::Force),
        1 => Just(BOp::Release),
    ]
}

fn breaker_config() -> impl Strategy<Value = BreakerConfig> {
    (
        1u32..12,
        1u32..=100,
        1u64..20,
        1u32..5,
        prop::option::of((1u64..400, 1u32..=100)),
    )
        .prop_flat_map(|(window, rate_pct, open_s, probes, slow)| {
            (1..=window).prop_map(move |min_calls| BreakerConfig {
                failure_rate: f64::from(rate_pct) / 100.0,
                window,
                min_calls,
                open_for: Duration::from_secs(open_s),
                half_open_probes: probes,
                slow_call: slow.map(|(ms, pct)| SlowCallConfig {
                    threshold: Duration::from_millis(ms),
                    rate: f64::from(pct) / 100.0,
                }),
            })
        })
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn breaker_matches_the_naive_model(config in breaker_config(), ops in prop::collection::vec(bop(), 1..120)) {
        let t0 = Instant::now();
        let mut now = t0;
        let mut b = Breaker::new(&config, now);
        let mut r = RefBreaker::new(&config);
        let mut held: Vec<(BreakerPermit, u64)> = vec![];
        let mut transitions = vec![];
        for op in ops {
            let before = b.state();
            match op {
                BOp::Call { advance_ms, failed, latency_ms } => {
                    now += Duration::from_millis(advance_ms);
                    let got = b.try_acquire(now);
                    let want = r.acquire(now);
                    prop_assert_eq!(got.is_ok(), want.is_some(), "admission differs at {:?}", now - t0);
                    if let (Ok(p), Some(_)) = (got, want) {
                        let latency = Duration::from_millis(latency_ms);
                        let e = r.epoch;
                        if failed { b.on_failure(now, latency, p) } else { b.on_success(now, latency, p) }
                        r.finish(now, e, failed, latency);
                    }
                }
                BOp::Hold { advance_ms } => {
                    now += Duration::from_millis(advance_ms);
                    let got = b.try_acquire(now);
                    let want = r.acquire(now);
                    prop_assert_eq!(got.is_ok(), want.is_some());
                    if let (Ok(p), Some(e)) = (got, want) {
                        held.push((p, e));
                    }
                }
                BOp::Finish { index, failed, latency_ms } => {
                    if !held.is_empty() {
                        let (p, e) = held.remove(index % held.len());
                        let latency = Duration::from_millis(latency_ms);
                        if failed { b.on_failure(now, latency, p) } else { b.on_success(now, latency, p) }
                        r.finish(now, e, failed, latency);
                    }
                }
                BOp::Force => {
                    b.force_open(now);
                    if r.state != BreakerState::ForcedOpen { r.set(BreakerState::ForcedOpen) }
                }
                BOp::Release => {
                    b.release(now);
                    if r.state == BreakerState::ForcedOpen { r.set(BreakerState::Closed) }
                }
            }
            prop_assert_eq!(b.state(), r.state);
            prop_assert!(b.probes_admitted() <= config.half_open_probes);
            // FORCED_OPEN is left only by an explicit release.
            if before == BreakerState::ForcedOpen && !matches!(op, BOp::Release) {
                prop_assert_eq!(b.state(), BreakerState::ForcedOpen);
            }
            transitions.extend(b.take_transitions());
        }
        // Transitions chain, and each has the cause its edge allows.
        let mut state = BreakerState::Closed;
        for t in &transitions {
            prop_assert_eq!(t.from, state);
            let ok = match (t.from, t.to, t.cause) {
                (BreakerState::Closed, BreakerState::Open, TransitionCause::FailureRate { rate, calls }) => rate >= config.failure_rate && calls >= config.min_calls && calls <= config.window,
                (BreakerState::Closed, BreakerState::Open, TransitionCause::SlowCallRate { calls, .. }) => config.slow_call.is_some() && calls >= config.min_calls,
                (BreakerState::Open, BreakerState::HalfOpen, TransitionCause::OpenElapsed) => true,
                (BreakerState::HalfOpen, BreakerState::Closed, TransitionCause::ProbesSucceeded) => true,
                (BreakerState::HalfOpen, BreakerState::Open, TransitionCause::ProbeFailed) => true,
                (_, BreakerState::ForcedOpen, TransitionCause::Forced) => t.from != BreakerState::ForcedOpen,
                (BreakerState::ForcedOpen, BreakerState::Closed, TransitionCause::Released) => true,
                _ => false,
            };
            prop_assert!(ok, "unexpected transition {:?}", t);
            state = t.to;
        }
    }
}

// ---------------------------------------------------------------- bucket

/// Checks `count ≤ burst + per_second · t` for every pair of admitted instants.
fn assert_rate_bound(times: &mut [Duration], per_second: f64, burst: u32) -> Result<(), TestCaseError> {
    times.sort();
    for i in 0..times.len() {
        for j in i..times.len() {
            let count = (j - i + 1) as f64;
            let t = (times[j] - times[i]).as_secs_f64();
            let bound = f64::from(burst) + per_second * t;
            prop_assert!(count <= bound + 1e-6, "{count} calls in {t}s > {bound}");
        }
    }
    Ok(())
}

#[derive(Debug, Clone)]
enum QOp {
    Try { advance_us: u64 },
    Reserve { advance_us: u64, max_wait_ms: u64 },
}

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn bucket_never_exceeds_burst_plus_rate(
        per_second in prop_oneof![0.5f64..10.0, 10.0f64..2_000.0],
        burst in 1u32..20,
        ops in prop::collection::vec(prop_oneof![
            (0u64..200_000).prop_map(|advance_us| QOp::Try { advance_us }),
            (0u64..200_000, 0u64..3_000).prop_map(|(advance_us, max_wait_ms)| QOp::Reserve { advance_us, max_wait_ms }),
        ], 1..150),
    ) {
        let t0 = Instant::now();
        let mut now = t0;
        let config = RateLimitConfig { per_second, burst, max_wait: Duration::ZERO };
        let mut bucket = TokenBucket::new(&config, t0);
        let mut admitted = vec![];
        for op in ops {
            match op {
                QOp::Try { advance_us } => {
                    now += Duration::from_micros(advance_us);
                    match bucket.try_acquire(now) {
                        Ok(()) => admitted.push(now - t0),
                        Err(wait) => {
                            prop_assert!(wait > Duration::ZERO);
                            prop_assert_eq!(bucket.next_token_at(now), now + wait);
                        }
                    }
                }
                QOp::Reserve { advance_us, max_wait_ms } => {
                    now += Duration::from_micros(advance_us);
                    let max_wait = Duration::from_millis(max_wait_ms);
                    let expected = bucket.next_token_at(now) - now;
                    match bucket.reserve(now, max_wait) {
                        Ok(wait) => {
                            prop_assert_eq!(wait, expected);
                            prop_assert!(wait <= max_wait);
                            admitted.push(now + wait - t0);
                        }
                        Err(wait) => {
                            prop_assert_eq!(wait, expected);
                            prop_assert!(wait > max_wait);
                        }
                    }
                }
            }
        }
        assert_rate_bound(&mut admitted, per_second, burst)?;
    }

    /// Liveness: a refused caller that comes back after the wait it was told gets its token.
    #[test]
    fn bucket_wait_is_exact(per_second in 0.5f64..5_000.0, burst in 1u32..10, n in 1usize..50) {
        let t0 = Instant::now();
        let mut bucket = TokenBucket::new(&RateLimitConfig { per_second, burst, max_wait: Duration::ZERO }, t0);
        let mut now = t0;
        for _ in 0..n {
            if let Err(wait) = bucket.try_acquire(now) {
                now += wait;
                prop_assert_eq!(bucket.try_acquire(now), Ok(()));
            }
        }
    }
}

// ---------------------------------------------------------------- budget

proptest! {
    #![proptest_config(cases(256))]

    #[test]
    fn budget_stays_within_zero_and_capacity(
        capacity in 1u32..200,
        retry_cost in 1u32..20,
        timeout_cost in 1u32..40,
        success_refund in 0u32..5,
        ops in prop::collection::vec((any::<bool>(), any::<bool>(), any::<usize>()), 1..200),
    ) {
        let config = BudgetConfig { capacity, retry_cost, timeout_cost, success_refund };
        let mut budget = RetryBudget::new(&config);
        let mut model: i64 = i64::from(capacity);
        let mut tokens = vec![];
        for (acquire, timeout, pick) in ops {
            if acquire {
                let cost = i64::from(if timeout { timeout_cost } else { retry_cost });
                match budget.try_acquire_retry(timeout) {
                    Some(t) => {
                        prop_assert!(model >= cost);
                        model -= cost;
                        tokens.push(t);
                    }
                    None => prop_assert!(model < cost, "refused with {model} ≥ {cost}"),
                }
            } else {
                let token = if tokens.is_empty() || pick % 3 == 0 { None } else { Some(tokens.remove(pick % tokens.len())) };
                let refund = token.as_ref().map_or(i64::from(success_refund), |t| i64::from(t.cost()));
                budget.on_success(token);
                model = (model + refund).min(i64::from(capacity));
            }
            prop_assert_eq!(i64::from(budget.available()), model);
            prop_assert!(budget.available() <= capacity);
        }
    }
}

// ---------------------------------------------------------------- agent policy

#[derive(Debug, Clone)]
enum POp {
    /// Advance the clock, then run one step of sequence `seq`.
    Step {
        seq: usize,
        advance_ms: u64,
        outcome: u8,
    },
    Force {
        advance_ms: u64,
    },
    Release {
        advance_ms: u64,
    },
}

/// Where one call sequence (one trade at one stage) stands.
#[derive(Debug)]
enum Seq {
    Idle { attempt: u32 },
    Waiting { attempt: u32, until: Instant },
    Done,
}

fn policy_config() -> impl Strategy<Value = PolicyConfig> {
    (
        breaker_config(),
        jitter(),
        1u32..6,
        0.5f64..50.0,
        1u32..6,
        1u64..500,
        5u32..60,
    )
        .prop_map(
            |(breaker, jitter, max_attempts, per_second, burst, max_wait_ms, capacity)| PolicyConfig {
                breaker,
                retry: RetryConfig {
                    jitter,
                    max_attempts,
                    base_delay: Duration::from_millis(50),
                    max_delay: Duration::from_secs(2),
                    ..RetryConfig::default()
                },
                rate_limit: RateLimitConfig {
                    per_second,
                    burst,
                    max_wait: Duration::from_millis(max_wait_ms),
                },
                budget: BudgetConfig {
                    capacity,
                    retry_cost: 5,
                    timeout_cost: 10,
                    success_refund: 1,
                },
                ..PolicyConfig::default()
            },
        )
}

fn agent_error(outcome: u8) -> Option<AgentError> {
    match outcome % 8 {
        0..=2 => None,
        3 => Some(AgentError::Unavailable { status: 503 }),
        4 => Some(AgentError::Timeout),
        5 => Some(AgentError::Throttled {
            retry_after: Some(Duration::from_millis(u64::from(outcome) * 20)),
        }),
        6 => Some(AgentError::Rejected {
            status: 400,
            reason: "bad".into(),
        }),
        _ => Some(AgentError::Connect("reset".into())),
    }
}

/// Drains the policy's events; each breaker transition starts a new HALF_OPEN count.
fn drain(policy: &mut AgentPolicy, half_open_admissions: &mut u32) {
    for (_, e) in policy.take_events() {
        if matches!(e, Event::BreakerTransition { .. }) {
            *half_open_admissions = 0;
        }
    }
}

proptest! {
    #![proptest_config(cases(128))]

    #[test]
    fn agent_policy_keeps_every_bound(
        config in policy_config(),
        seed in any::<u64>(),
        ops in prop::collection::vec(prop_oneof![
            20 => (0usize..6, 0u64..400, any::<u8>()).prop_map(|(seq, advance_ms, outcome)| POp::Step { seq, advance_ms, outcome }),
            1 => (0u64..400).prop_map(|advance_ms| POp::Force { advance_ms }),
            1 => (0u64..400).prop_map(|advance_ms| POp::Release { advance_ms }),
        ], 1..200),
    ) {
        let t0 = Instant::now();
        let mut now = t0;
        let mut rng = ChaCha8Rng::seed_from_u64(seed);
        let mut policy = AgentPolicy::new(Stage::TradeExtraction, &config, t0).unwrap();
        let mut seqs: Vec<(Seq, Backoff)> = (0..6).map(|_| (Seq::Idle { attempt: 1 }, Backoff::new(&config.retry))).collect();
        let mut admitted_at: Vec<Duration> = vec![];
        let mut half_open_admissions = 0u32;
        for op in ops {
            match op {
                POp::Force { advance_ms } => { now += Duration::from_millis(advance_ms); policy.force_open(now); }
                POp::Release { advance_ms } => { now += Duration::from_millis(advance_ms); policy.release(now); }
                POp::Step { seq, advance_ms, outcome } => {
                    now += Duration::from_millis(advance_ms);
                    let (state, backoff) = &mut seqs[seq];
                    // Obtain a permit or a failure for this step.
                    let (attempt, got) = match *state {
                        Seq::Done => { *state = Seq::Idle { attempt: 1 }; *backoff = Backoff::new(&config.retry); continue; }
                        Seq::Waiting { attempt, until } => {
                            now = now.max(until);
                            let r = policy.start_with(now, backoff);
                            drain(&mut policy, &mut half_open_admissions);
                            if r.is_ok() && policy.breaker_state() == BreakerState::HalfOpen { half_open_admissions += 1; }
                            (attempt, r.map_err(|_| Failure::RejectedByBreaker))
                        }
                        Seq::Idle { attempt } => {
                            let used = admitted_at.len();
                            let admission = policy.acquire_with(now, backoff);
                            drain(&mut policy, &mut half_open_admissions);
                            match admission {
                                Admission::Ready(p) => {
                                    admitted_at.push(now - t0);
                                    if policy.breaker_state() == BreakerState::HalfOpen { half_open_admissions += 1; }
                                    (attempt, Ok(p))
                                }
                                Admission::Wait(w) => {
                                    prop_assert!(w > Duration::ZERO && w <= config.rate_limit.max_wait);
                                    admitted_at.push(now + w - t0);
                                    *state = Seq::Waiting { attempt, until: now + w };
                                    continue;
                                }
                                Admission::RejectedByBreaker(s) => {
                                    prop_assert_ne!(s, BreakerState::Closed);
                                    prop_assert_eq!(admitted_at.len(), used);
                                    (attempt, Err(Failure::RejectedByBreaker))
                                }
                                Admission::RejectedByLimiter => (attempt, Err(Failure::RejectedByLimiter)),
                            }
                        }
                    };
                    let error = agent_error(outcome);
                    let failure_owned;
                    let failure = match got {
                        Ok(permit) => {
                            prop_assert!(matches!(policy.breaker_state(), BreakerState::Closed | BreakerState::HalfOpen));
                            prop_assert!(policy.breaker().probes_admitted() <= config.breaker.half_open_probes);
                            let latency = Duration::from_millis(u64::from(outcome));
                            // A neutral outcome hands its probe slot back (documented rule).
                            let neutral = error.as_ref().is_some_and(|e| !e.kind().counts_against_breaker());
                            if neutral && policy.breaker_state() == BreakerState::HalfOpen {
                                half_open_admissions -= 1;
                            }
                            policy.record(now, permit, error.as_ref().map_or(Ok(()), |e| Err(e.kind())), latency);
                            match &error {
                                None => { *state = Seq::Done; continue; }
                                Some(e) => { failure_owned = e.clone(); Failure::Agent(&failure_owned) }
                            }
                        }
                        Err(f) => f,
                    };
                    let budget_before = policy.budget().available();
                    let prev = backoff.previous();
                    match policy.after_failure(now, attempt, failure, backoff, &mut rng) {
                        RetryDecision::Retry { delay } => {
                            prop_assert!(attempt < config.retry.max_attempts);
                            let ra = match failure { Failure::Agent(e) => e.retry_after(), _ => None };
                            let (lo, hi) = Backoff::bounds_with_retry_after(&config.retry, attempt, prev, ra);
                            prop_assert!(lo <= delay && delay <= hi);
                            match failure {
                                Failure::Agent(e) => {
                                    let cost = if e.kind() == ErrorKind::Timeout { 10 } else { 5 };
                                    prop_assert_eq!(policy.budget().available(), budget_before - cost);
                                }
                                _ => prop_assert_eq!(policy.budget().available(), budget_before),
                            }
                            now += delay;
                            *state = Seq::Idle { attempt: attempt + 1 };
                        }
                        RetryDecision::GiveUp(why) => {
                            let expect = match failure {
                                Failure::Agent(e) if !e.kind().is_retryable() => GiveUp::NotRetryable,
                                _ if attempt >= config.retry.max_attempts => GiveUp::AttemptsExhausted,
                                _ => GiveUp::BudgetExhausted,
                            };
                            prop_assert_eq!(why, expect);
                            if why == GiveUp::BudgetExhausted {
                                prop_assert!(budget_before < 10);
                            }
                            *state = Seq::Done;
                        }
                    }
                }
            }
            prop_assert!(half_open_admissions <= config.breaker.half_open_probes);
            prop_assert!(policy.budget().available() <= config.budget.capacity);
            drain(&mut policy, &mut half_open_admissions);
        }
        assert_rate_bound(&mut admitted_at, config.rate_limit.per_second, config.rate_limit.burst)?;
    }
}
