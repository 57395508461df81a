//! Per-call decision cost of the resilience policy, with governor's rate limiter as baseline.
//!
//! Run: `cargo bench -p gameday-orchestrator --bench decision -- --warm-up-time 1 --measurement-time 3`.
//! Every limiter here is configured so it always admits, so each group measures the same
//! (admitting) path. Our machines take `now` as an argument; governor reads its clock inside
//! `check()`, so it is measured twice: with its `FakeRelativeClock` (no clock read, the fair
//! comparison) and with its default clock (quanta), next to ours with a tokio clock read.

use std::hint::black_box;
use std::num::NonZeroU32;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use gameday_orchestrator::agent::{AgentError, ErrorKind};
use gameday_orchestrator::domain::Stage;
use gameday_orchestrator::resilience::{
    Admission, AgentPolicy, Backoff, Failure, PolicyConfig, RateLimitConfig, RetryDecision, TokenBucket,
};
use governor::clock::FakeRelativeClock;
use governor::{Quota, RateLimiter};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;
use tokio::time::Instant;

fn always_admitting_quota() -> Quota {
    Quota::per_second(NonZeroU32::MAX).allow_burst(NonZeroU32::MAX)
}

fn always_admitting_bucket(now: Instant) -> TokenBucket {
    let config = RateLimitConfig {
        per_second: f64::from(u32::MAX),
        burst: u32::MAX,
        max_wait: Duration::ZERO,
    };
    TokenBucket::new(&config, now)
}

fn limiter(c: &mut Criterion) {
    let mut g = c.benchmark_group("limiter");
    let t0 = Instant::now();

    let mut ours = always_admitting_bucket(t0);
    g.bench_function("ours_try_acquire", |b| {
        b.iter(|| ours.try_acquire(black_box(t0)).is_ok())
    });

    let fake = RateLimiter::direct_with_clock(always_admitting_quota(), FakeRelativeClock::default());
    g.bench_function("governor_check_fake_clock", |b| {
        b.iter(|| black_box(&fake).check().is_ok())
    });

    let mut ours = always_admitting_bucket(t0);
    g.bench_function("ours_try_acquire_with_clock_read", |b| {
        b.iter(|| ours.try_acquire(Instant::now()).is_ok())
    });

    let quanta = RateLimiter::direct(always_admitting_quota());
    g.bench_function("governor_check_default_clock", |b| {
        b.iter(|| black_box(&quanta).check().is_ok())
    });
    g.finish();
}

fn policy(c: &mut Criterion) {
    let mut g = c.benchmark_group("policy");
    let mut config = PolicyConfig::default();
    config.rate_limit.per_second = 1e7;
    let step = Duration::from_micros(1);
    let mut rng = ChaCha8Rng::seed_from_u64(1);

    let t0 = Instant::now();
    let mut p = AgentPolicy::new(Stage::TradeExtraction, &config, t0).unwrap();
    let mut now = t0;
    g.bench_function("acquire_record_success", |b| {
        b.iter(|| {
            now += step;
            if let Admission::Ready(permit) = p.acquire(black_box(now)) {
                p.record(now, permit, Ok(()), Duration::from_millis(20));
            }
        })
    });

    // One call in 16 fails and asks for a retry with backoff (below the breaker threshold,
    // and the budget refills faster than the failures drain it).
    let mut p = AgentPolicy::new(Stage::TradeExtraction, &config, t0).unwrap();
    let mut now = t0;
    let mut i = 0u32;
    let error = AgentError::Unavailable { status: 503 };
    g.bench_function("decision_1_in_16_retried", |b| {
        b.iter(|| {
            now += step;
            i = i.wrapping_add(1);
            let mut backoff = Backoff::new(&p.config().retry);
            let Admission::Ready(permit) = p.acquire_with(black_box(now), &mut backoff) else {
                return None;
            };
            if i.is_multiple_of(16) {
                p.record(
                    now,
                    permit,
                    Err(ErrorKind::Unavailable),
                    Duration::from_millis(20),
                );
                match p.after_failure(now, 1, Failure::Agent(&error), &mut backoff, &mut rng) {
                    RetryDecision::Retry { delay } => Some(delay),
                    RetryDecision::GiveUp(_) => None,
                }
            } else {
                p.record(now, permit, Ok(()), Duration::from_millis(20));
                None
            }
        })
    });
    g.finish();
}

criterion_group!(benches, limiter, policy);
criterion_main!(benches);
