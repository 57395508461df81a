//! Proptest strategies that generate valid scenarios, for round-trip tests here and for
//! swarm testing of the simulation elsewhere.
//!
//! Each part has its own strategy (`arb_workload`, `arb_policy`, `arb_fault`, `arb_expect`)
//! so a caller can pin some parts and vary the rest. Durations are whole milliseconds,
//! the resolution scenario files are written in.

use std::time::Duration;

use gameday_orchestrator::domain::Stage;
use gameday_orchestrator::resilience::{
    BreakerConfig, BudgetConfig, Jitter, PolicyConfig, RateLimitConfig, RetryConfig, SlowCallConfig,
    TimeoutConfig,
};
use proptest::prelude::*;
use proptest::sample::subsequence;

use crate::model::{Expect, Fault, FaultKind, Scenario, Target, Workload};

/// Proptest cases to run: `GAMEDAY_PROPTEST_CASES` when set to a number, else `default`.
/// Keeps CI quick while allowing long searches on demand.
pub fn proptest_cases(default: u32) -> u32 {
    std::env::var("GAMEDAY_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

/// A duration of whole milliseconds in `lo..=hi`.
pub fn arb_duration_ms(lo: u64, hi: u64) -> impl Strategy<Value = Duration> + Clone {
    (lo..=hi).prop_map(Duration::from_millis)
}

pub fn arb_stage() -> impl Strategy<Value = Stage> + Clone {
    prop::sample::select(Stage::ALL.to_vec())
}

/// A valid scenario: run of 1 s to 2 h, 0 to 4 faults inside it.
pub fn arb_scenario() -> impl Strategy<Value = Scenario> {
    arb_duration_ms(1_000, 7_200_000).prop_flat_map(|run| {
        let faults = prop::collection::vec(arb_fault(run), 0..=4);
        (
            "[a-z][a-z0-9-]{0,24}",
            "(?s).{0,40}",
            0..=i64::MAX as u64,
            arb_workload(),
            arb_policy(),
            faults,
        )
            .prop_flat_map(move |(name, description, seed, workload, policy, faults)| {
                let has_faults = !faults.is_empty();
                arb_expect(has_faults).prop_map(move |expect| Scenario {
                    name: name.clone(),
                    description: description.clone(),
                    seed,
                    duration: run,
                    workload: workload.clone(),
                    policy: policy.clone(),
                    faults: faults.clone(),
                    expect,
                })
            })
    })
}

pub fn arb_workload() -> impl Strategy<Value = Workload> {
    (0.1f64..500.0, 0.0f64..=1.0).prop_map(|(rate, mismatch_ratio)| Workload { rate, mismatch_ratio })
}

/// A policy that `PolicyConfig::validate` accepts.
pub fn arb_policy() -> impl Strategy<Value = PolicyConfig> {
    let retry = (
        1u32..=10,
        arb_duration_ms(1, 1_000),
        arb_duration_ms(0, 30_000),
        prop::sample::select(Jitter::ALL.to_vec()),
        arb_duration_ms(0, 60_000),
    )
        .prop_map(
            |(max_attempts, base_delay, extra, jitter, max_retry_after)| RetryConfig {
                max_attempts,
                base_delay,
                max_delay: base_delay + extra,
                jitter,
                max_retry_after,
            },
        );
    let slow = (arb_duration_ms(1, 10_000), 0.01f64..=1.0)
        .prop_map(|(threshold, rate)| SlowCallConfig { threshold, rate });
    let breaker = (1u32..=100)
        .prop_flat_map(move |window| {
            (
                0.01f64..=1.0,
                Just(window),
                1..=window,
                arb_duration_ms(1, 120_000),
                1u32..=10,
                prop::option::of(slow.clone()),
            )
        })
        .prop_map(
            |(failure_rate, window, min_calls, open_for, half_open_probes, slow_call)| BreakerConfig {
                failure_rate,
                window,
                min_calls,
                open_for,
                half_open_probes,
                slow_call,
            },
        );
    let rate_limit = (0.1f64..1_000.0, 1u32..=1_000, arb_duration_ms(0, 10_000)).prop_map(
        |(per_second, burst, max_wait)| RateLimitConfig {
            per_second,
            burst,
            max_wait,
        },
    );
    let timeout = arb_duration_ms(1, 30_000).prop_map(|call| TimeoutConfig { call });
    let budget = (1u32..=1_000, 1u32..=20, 1u32..=20, 0u32..=5).prop_map(
        |(capacity, retry_cost, timeout_cost, success_refund)| BudgetConfig {
            capacity,
            retry_cost,
            timeout_cost,
            success_refund,
        },
    );
    (retry, breaker, rate_limit, timeout, budget).prop_map(|(retry, breaker, rate_limit, timeout, budget)| {
        PolicyConfig {
            retry,
            breaker,
            rate_limit,
            timeout,
            budget,
        }
    })
}

/// Any fault kind with valid parameters.
pub fn arb_fault_kind() -> impl Strategy<Value = FaultKind> {
    let rate = || 0.0f64..=1.0;
    let status = (400u16..=599).prop_filter("429 is a throttle", |s| *s != 429);
    let latency = arb_duration_ms(0, 10_000)
        .prop_flat_map(|delay| (Just(delay), arb_duration_ms(0, delay.as_millis() as u64)))
        .prop_map(|(delay, jitter)| FaultKind::Latency { delay, jitter });
    prop_oneof![
        (rate(), prop::option::of(arb_duration_ms(0, 60_000)))
            .prop_map(|(rate, retry_after)| FaultKind::Throttle { rate, retry_after }),
        (rate(), status).prop_map(|(rate, status)| FaultKind::Error { rate, status }),
        latency,
        rate().prop_map(|rate| FaultKind::Hang { rate }),
        rate().prop_map(|rate| FaultKind::Malformed { rate }),
        Just(FaultKind::Crash),
        Just(FaultKind::Partition),
    ]
}

/// A fault that starts and ends within a run of `run` (at least 1 ms long).
pub fn arb_fault(run: Duration) -> impl Strategy<Value = Fault> {
    let run_ms = (run.as_millis() as u64).max(1);
    (arb_fault_kind(), 0..run_ms)
        .prop_flat_map(move |(kind, start)| {
            let target = match kind {
                FaultKind::Crash => prop_oneof![
                    4 => arb_stage().prop_map(Target::Agent),
                    1 => Just(Target::Orchestrator),
                ]
                .boxed(),
                _ => arb_stage().prop_map(Target::Agent).boxed(),
            };
            (Just(kind), target, Just(start), 1..=run_ms - start)
        })
        .prop_map(|(kind, target, start, length)| Fault {
            kind,
            target,
            start: Duration::from_millis(start),
            duration: Duration::from_millis(length),
        })
}

/// Expectations; `detect_within` and `recover_within` only when there are faults to time.
pub fn arb_expect(has_faults: bool) -> impl Strategy<Value = Expect> {
    let timed =
        move || prop::option::of(arb_duration_ms(1, 600_000)).prop_map(move |d| d.filter(|_| has_faults));
    (
        prop::option::of(subsequence(Stage::ALL.to_vec(), 0..=4)),
        timed(),
        timed(),
        prop::option::of(arb_duration_ms(1, 600_000)),
        prop::option::of(1.0f64..10.0),
        prop::option::of(0.0f64..=1.0),
    )
        .prop_map(
            |(
                breaker_opens,
                detect_within,
                recover_within,
                p99_latency,
                max_amplification,
                min_matched_ratio,
            )| {
                Expect {
                    breaker_opens,
                    detect_within,
                    recover_within,
                    p99_latency,
                    max_amplification,
                    min_matched_ratio,
                }
            },
        )
}
