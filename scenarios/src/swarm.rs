//! Swarm strategies: whole scenarios whose fault schedule is drawn in two steps.
//!
//! Drawing every fault independently from every kind makes each case a thin mix of
//! everything, and the interesting corners (one kind, hard, for a long time) are rare.
//! Swarm testing draws the *swarm* first: which fault kinds are switched on for this case,
//! which agents they may hit and how intense they are; only then the faults themselves,
//! from that narrower space. Across many cases the search visits both gentle mixes and
//! concentrated storms.
//!
//! Faults last at least [`SwarmConfig::min_fault_duration`] so that a fault has time to be
//! detected (a fault that flaps on and off every few milliseconds tests nothing but noise);
//! they start after [`SwarmConfig::lead`], so the system has a steady state to be compared
//! with, and end [`SwarmConfig::quiet_tail`] before the workload does, so there is time to
//! judge the return to steady state. Every scenario produced is valid for the parser: faults
//! end within the run, only crashes target the orchestrator, error statuses are 5xx.
//!
//! The generated `[expect]` is empty: properties over swarm scenarios judge the invariants,
//! which hold for any scenario, not expectations written for one.

use std::time::Duration;

use gameday_orchestrator::domain::Stage;
use gameday_orchestrator::resilience::PolicyConfig;
use proptest::prelude::*;
use proptest::sample::subsequence;

use crate::model::{Expect, Fault, FaultKind, Scenario, Target, Workload};

/// A fault kind without its parameters: what a swarm switches on or off.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum SwarmKind {
    Throttle,
    Error,
    Latency,
    Hang,
    Malformed,
    Crash,
    Partition,
}

impl SwarmKind {
    pub const ALL: [SwarmKind; 7] = [
        SwarmKind::Throttle,
        SwarmKind::Error,
        SwarmKind::Latency,
        SwarmKind::Hang,
        SwarmKind::Malformed,
        SwarmKind::Crash,
        SwarmKind::Partition,
    ];
}

/// The scenario space a swarm search explores.
#[derive(Debug, Clone, PartialEq)]
pub struct SwarmConfig {
    /// Shortest and longest workload duration.
    pub min_duration: Duration,
    pub max_duration: Duration,
    /// At most this many faults per scenario (at least one is always drawn).
    pub max_faults: usize,
    /// Every fault lasts at least this long, so faults do not flap.
    pub min_fault_duration: Duration,
    /// And at most this long.
    pub max_fault_duration: Duration,
    /// No fault starts before this: the system first reaches a steady state to compare with.
    pub lead: Duration,
    /// Every fault ends at least this long before the workload stops, leaving time to
    /// judge the return to steady state.
    pub quiet_tail: Duration,
    /// The fault kinds a swarm may switch on (a non-empty subset of them each case).
    pub kinds: Vec<SwarmKind>,
    /// The agents faults may target (a non-empty subset of them each case).
    pub targets: Vec<Stage>,
    /// Whether a crash may also target the orchestrator.
    pub crash_orchestrator: bool,
    /// Workload rate range, trades per second.
    pub min_rate: f64,
    pub max_rate: f64,
    /// Added latency range for latency faults (jitter is drawn up to a quarter of the delay).
    pub max_delay: Duration,
}

impl Default for SwarmConfig {
    /// A few-minute run at a moderate rate with up to three faults of any kind: cheap enough
    /// to run many cases, long enough for a breaker to open, half-open and close.
    fn default() -> Self {
        SwarmConfig {
            min_duration: Duration::from_secs(150),
            max_duration: Duration::from_secs(240),
            max_faults: 3,
            min_fault_duration: Duration::from_secs(10),
            max_fault_duration: Duration::from_secs(90),
            lead: Duration::from_secs(30),
            quiet_tail: Duration::from_secs(60),
            kinds: SwarmKind::ALL.to_vec(),
            targets: Stage::ALL.to_vec(),
            crash_orchestrator: true,
            min_rate: 5.0,
            max_rate: 30.0,
            max_delay: Duration::from_secs(10),
        }
    }
}

impl SwarmConfig {
    /// Ten-minute runs, as a game day would last (the speed benchmark's space).
    pub fn ten_minutes() -> SwarmConfig {
        SwarmConfig {
            min_duration: Duration::from_secs(600),
            max_duration: Duration::from_secs(600),
            max_faults: 4,
            max_fault_duration: Duration::from_secs(180),
            ..SwarmConfig::default()
        }
    }

    /// The window in which faults may lie, for a run of `run`: `(earliest start, latest end)`.
    fn fault_window(&self, run: Duration) -> (Duration, Duration) {
        let end = run.saturating_sub(self.quiet_tail);
        (self.lead.min(end), end)
    }
}

/// What one case switches on: kinds, targets and intensity.
#[derive(Debug, Clone, PartialEq)]
pub struct Swarm {
    pub kinds: Vec<SwarmKind>,
    pub targets: Vec<Stage>,
    /// Scales the share of calls a fault affects: rates are drawn from
    /// `intensity / 2 ..= intensity`.
    pub intensity: f64,
}

/// Draws a swarm from the config's kinds and targets.
pub fn arb_swarm(config: &SwarmConfig) -> impl Strategy<Value = Swarm> + use<> {
    let kinds = config.kinds.clone();
    let targets = config.targets.clone();
    let nk = kinds.len().max(1);
    let nt = targets.len().max(1);
    (
        subsequence(kinds, 1..=nk),
        subsequence(targets, 1..=nt),
        1u32..=20,
    )
        .prop_map(|(kinds, targets, i)| Swarm {
            kinds,
            targets,
            intensity: f64::from(i) / 20.0,
        })
}

/// A share of calls in `intensity / 2 ..= intensity`, in hundredths (so files stay readable).
fn arb_rate(intensity: f64) -> impl Strategy<Value = f64> {
    let hi = (intensity * 100.0).round().clamp(1.0, 100.0) as u32;
    let lo = (hi / 2).max(1);
    (lo..=hi).prop_map(|r| f64::from(r) / 100.0)
}

/// One fault of the swarm's kinds, in whole seconds (readable files, and shrinking moves
/// by whole seconds too).
fn arb_swarm_fault(config: &SwarmConfig, swarm: &Swarm, run: Duration) -> BoxedStrategy<Fault> {
    let (earliest, latest_end) = config.fault_window(run);
    let min_len = config.min_fault_duration.as_secs().max(1);
    let max_len = config.max_fault_duration.as_secs().max(min_len);
    let first = earliest.as_secs();
    let last_start = latest_end.as_secs().saturating_sub(min_len).max(first);
    let latest_end = latest_end.as_secs().max(last_start + min_len);
    let max_delay_ms = (config.max_delay.as_millis() as u64).max(50);
    let intensity = swarm.intensity;
    let targets = swarm.targets.clone();
    let crash_orchestrator = config.crash_orchestrator;
    let kind =
        prop::sample::select(swarm.kinds.clone()).prop_flat_map(move |k| -> BoxedStrategy<FaultKind> {
            match k {
                SwarmKind::Throttle => (arb_rate(intensity), prop::option::of(1u64..=10))
                    .prop_map(|(rate, s)| FaultKind::Throttle {
                        rate,
                        retry_after: s.map(Duration::from_secs),
                    })
                    .boxed(),
                SwarmKind::Error => (arb_rate(intensity), prop::sample::select(vec![500u16, 502, 503]))
                    .prop_map(|(rate, status)| FaultKind::Error { rate, status })
                    .boxed(),
                SwarmKind::Latency => (50..=max_delay_ms)
                    .prop_flat_map(|d| (Just(d), 0..=d / 4))
                    .prop_map(|(d, j)| FaultKind::Latency {
                        delay: Duration::from_millis(d),
                        jitter: Duration::from_millis(j),
                    })
                    .boxed(),
                SwarmKind::Hang => arb_rate(intensity)
                    .prop_map(|rate| FaultKind::Hang { rate })
                    .boxed(),
                SwarmKind::Malformed => arb_rate(intensity)
                    .prop_map(|rate| FaultKind::Malformed { rate })
                    .boxed(),
                SwarmKind::Crash => Just(FaultKind::Crash).boxed(),
                SwarmKind::Partition => Just(FaultKind::Partition).boxed(),
            }
        });
    (kind, first..=last_start)
        .prop_flat_map(move |(kind, start)| {
            let agents = prop::sample::select(targets.clone()).prop_map(Target::Agent);
            let target = if kind == FaultKind::Crash && crash_orchestrator {
                prop_oneof![4 => agents, 1 => Just(Target::Orchestrator)].boxed()
            } else {
                agents.boxed()
            };
            let longest = max_len.min(latest_end - start).max(min_len);
            (Just(kind), target, Just(start), min_len..=longest)
        })
        .prop_map(|(kind, target, start, len)| Fault {
            kind,
            target,
            start: Duration::from_secs(start),
            duration: Duration::from_secs(len),
        })
        .boxed()
}

/// Swarm scenarios under the default policy.
pub fn arb_swarm_scenario(config: SwarmConfig) -> impl Strategy<Value = Scenario> {
    arb_swarm_scenario_with(config, Just(PolicyConfig::default()))
}

/// Swarm scenarios under policies drawn from `policy` (pin it with `Just`, or widen it).
pub fn arb_swarm_scenario_with(
    config: SwarmConfig,
    policy: impl Strategy<Value = PolicyConfig> + 'static,
) -> impl Strategy<Value = Scenario> {
    let lo = config.min_duration.as_secs().max(1);
    let hi = config.max_duration.as_secs().max(lo);
    let rate_lo = (config.min_rate * 10.0).round().max(1.0) as u32;
    let rate_hi = ((config.max_rate * 10.0).round() as u32).max(rate_lo);
    let swarm = arb_swarm(&config);
    (lo..=hi, swarm, rate_lo..=rate_hi, 0u32..=20, any::<u32>(), policy).prop_flat_map(
        move |(run_s, swarm, rate, mismatch, seed, policy)| {
            let run = Duration::from_secs(run_s);
            let faults = prop::collection::vec(
                arb_swarm_fault(&config, &swarm, run),
                1..=config.max_faults.max(1),
            );
            let workload = Workload {
                rate: f64::from(rate) / 10.0,
                mismatch_ratio: f64::from(mismatch) / 100.0,
            };
            (
                Just(run),
                Just(workload),
                Just(u64::from(seed)),
                Just(policy),
                faults,
            )
                .prop_map(|(duration, workload, seed, policy, mut faults)| {
                    faults.sort_by_key(|f| (f.start, f.duration));
                    Scenario {
                        name: "swarm".into(),
                        description: swarm_description(&faults),
                        seed,
                        duration,
                        workload,
                        policy,
                        faults,
                        expect: Expect::default(),
                    }
                })
        },
    )
}

/// A one-line summary of a schedule, for the file a failure is written to.
fn swarm_description(faults: &[Fault]) -> String {
    let parts: Vec<String> = faults
        .iter()
        .map(|f| {
            format!(
                "{} {} at {}s for {}s",
                f.kind.name(),
                f.target.name(),
                f.start.as_secs(),
                f.duration.as_secs()
            )
        })
        .collect();
    format!("generated: {}", parts.join("; "))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse, to_toml};
    use proptest::test_runner::{Config, TestRunner};

    #[test]
    fn swarm_scenarios_are_valid_and_keep_their_margins() {
        let config = SwarmConfig::default();
        let mut runner = TestRunner::new(Config {
            cases: 128,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&arb_swarm_scenario(config.clone()), |s| {
                let back = parse(&to_toml(&s), std::path::Path::new("swarm.toml"))
                    .map_err(|e| TestCaseError::fail(e.to_string()))?;
                prop_assert_eq!(&back, &s);
                prop_assert!(!s.faults.is_empty() && s.faults.len() <= config.max_faults);
                for f in &s.faults {
                    prop_assert!(f.duration >= config.min_fault_duration);
                    prop_assert!(f.start >= config.lead);
                    prop_assert!(f.end() + config.quiet_tail <= s.duration);
                }
                prop_assert_eq!(s.policy, PolicyConfig::default());
                Ok(())
            })
            .unwrap();
    }

    #[test]
    fn a_swarm_draws_only_its_kinds() {
        let config = SwarmConfig {
            kinds: vec![SwarmKind::Hang, SwarmKind::Malformed],
            ..SwarmConfig::default()
        };
        let mut runner = TestRunner::new(Config {
            cases: 64,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&arb_swarm_scenario(config), |s| {
                for f in &s.faults {
                    let allowed = matches!(f.kind, FaultKind::Hang { .. } | FaultKind::Malformed { .. });
                    prop_assert!(allowed, "unexpected kind {}", f.kind.name());
                    prop_assert!(f.kind.rate() > 0.0 && f.kind.rate() <= 1.0);
                }
                Ok(())
            })
            .unwrap();
    }
}
