//! The checker: what must never happen (the invariants of DESIGN §8) and what the scenario
//! expects (`[expect]`), judged from the recorder, the journal and the agents' own books.
//!
//! Safety first, then liveness: every run is checked for lost and duplicated trades, for
//! side effects applied twice, for calls through an open breaker, for more probes than
//! HALF_OPEN allows, for calls above the rate limit and for backoff delays out of bounds;
//! then, after the last fault, for a return to steady state.

use std::collections::BTreeMap;
use std::time::Duration;

use gameday_orchestrator::domain::{IdempotencyKey, OutcomeKind, Stage, TradeId};
use gameday_orchestrator::resilience::{BreakerState, Jitter};
use gameday_scenario::{Scenario, Target};

use crate::recorder::Recorder;

/// One judged statement: an invariant or an expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct Check {
    pub name: String,
    pub expected: String,
    pub observed: String,
    pub pass: bool,
}

impl Check {
    fn new(name: &str, expected: impl Into<String>, observed: impl Into<String>, pass: bool) -> Check {
        Check {
            name: name.to_string(),
            expected: expected.into(),
            observed: observed.into(),
            pass,
        }
    }
}

/// Timing of one fault: when it started and ended, when its target's breaker opened after
/// the start (detection) and when the system was back to steady state after its end.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultTiming {
    pub index: usize,
    pub kind: &'static str,
    pub target: Target,
    pub start: Duration,
    pub end: Duration,
    pub detected_after: Option<Duration>,
    pub recovered_after: Option<Duration>,
}

/// Everything the checker reads about a finished run.
#[derive(Debug)]
pub struct RunFacts<'a> {
    pub scenario: &'a Scenario,
    pub recorder: &'a Recorder,
    /// Trades that arrived at the orchestrator, with their arrival time.
    pub submitted: &'a [(TradeId, Duration)],
    /// Terminal states from the durable journal.
    pub outcomes: &'a BTreeMap<TradeId, OutcomeKind>,
    /// How many times each agent applied its side effect per idempotency key.
    pub applied: &'a BTreeMap<IdempotencyKey, u32>,
    /// Agent calls the submitted trades need when nothing fails.
    pub needed_calls: u64,
    /// Simulated time at which the run stopped.
    pub end: Duration,
}

/// The checker's verdict on one run.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    pub invariants: Vec<Check>,
    pub expectations: Vec<Check>,
    pub faults: Vec<FaultTiming>,
    /// The slowest detection among the faults that were detected.
    pub mttd: Option<Duration>,
    /// The slowest recovery among the faults that recovered.
    pub mttr: Option<Duration>,
    pub amplification: f64,
    pub matched_ratio: f64,
}

impl Verdict {
    pub fn pass(&self) -> bool {
        self.invariants.iter().chain(&self.expectations).all(|c| c.pass)
    }
}

/// Throughput is measured over windows of this length when judging recovery.
pub const THROUGHPUT_WINDOW: Duration = Duration::from_secs(10);
/// Recovery means completions per window at or above this share of the pre-fault level.
pub const RECOVERY_SHARE: f64 = 0.9;

pub fn check(f: &RunFacts<'_>) -> Verdict {
    let mut invariants = vec![
        no_lost(f),
        no_duplicates(f),
        idempotent_side_effects(f),
        breaker_blocks(f),
        half_open_probes(f),
        rate_limit(f),
        backoff_bounds(f),
        retry_budget(f),
    ];

    let faults = fault_timings(f);
    invariants.push(liveness(f, &faults));

    let mttd = faults.iter().filter_map(|t| t.detected_after).max();
    let mttr = faults.iter().filter_map(|t| t.recovered_after).max();
    let calls: u64 = f.recorder.agents.iter().map(|a| a.calls).sum();
    let amplification = if f.needed_calls == 0 {
        1.0
    } else {
        calls as f64 / f.needed_calls as f64
    };
    let matched = f
        .outcomes
        .values()
        .filter(|o| **o == OutcomeKind::Matched)
        .count();
    let matched_ratio = if f.submitted.is_empty() {
        1.0
    } else {
        matched as f64 / f.submitted.len() as f64
    };

    let expectations = expectations(f, &faults, amplification, matched_ratio);
    Verdict {
        invariants,
        expectations,
        faults,
        mttd,
        mttr,
        amplification,
        matched_ratio,
    }
}

fn no_lost(f: &RunFacts<'_>) -> Check {
    let lost: Vec<TradeId> = f
        .submitted
        .iter()
        .map(|(t, _)| *t)
        .filter(|t| !f.outcomes.contains_key(t))
        .collect();
    Check::new(
        "no_lost_trades",
        "every submitted trade in exactly one terminal state",
        sample("lost", &lost),
        lost.is_empty(),
    )
}

fn no_duplicates(f: &RunFacts<'_>) -> Check {
    let dup: Vec<TradeId> = f
        .recorder
        .trades
        .iter()
        .filter(|(_, log)| log.finished.len() > 1)
        .map(|(t, _)| *t)
        .collect();
    Check::new(
        "no_duplicated_trades",
        "no trade finished twice",
        sample("duplicated", &dup),
        dup.is_empty(),
    )
}

fn idempotent_side_effects(f: &RunFacts<'_>) -> Check {
    let twice: Vec<String> = f
        .applied
        .iter()
        .filter(|(_, n)| **n > 1)
        .map(|(k, n)| format!("{k}×{n}"))
        .collect();
    Check::new(
        "idempotent_side_effects",
        "each idempotency key applied at most once",
        sample("applied twice", &twice),
        twice.is_empty(),
    )
}

/// The breaker state of each agent at each point of the trace, replayed from transitions.
fn breaker_state_at(f: &RunFacts<'_>, agent: Stage, seq: u64) -> BreakerState {
    f.recorder
        .transitions
        .iter()
        .rev()
        .find(|t| t.agent == agent && t.seq < seq)
        .map(|t| t.to)
        .unwrap_or(BreakerState::Closed)
}

fn breaker_blocks(f: &RunFacts<'_>) -> Check {
    let bad: Vec<String> = f
        .recorder
        .call_starts
        .iter()
        .filter(|(seq, _, agent)| {
            matches!(
                breaker_state_at(f, *agent, *seq),
                BreakerState::Open | BreakerState::ForcedOpen
            )
        })
        .map(|(_, at, agent)| format!("{agent}@{}ms", at.as_millis()))
        .collect();
    Check::new(
        "no_call_through_open_breaker",
        "0 calls while OPEN or FORCED_OPEN",
        sample("calls", &bad),
        bad.is_empty(),
    )
}

fn half_open_probes(f: &RunFacts<'_>) -> Check {
    let limit = f.scenario.policy.breaker.half_open_probes as usize;
    let mut worst = 0usize;
    let mut where_ = String::new();
    for agent in Stage::ALL {
        let ts: Vec<_> = f
            .recorder
            .transitions
            .iter()
            .filter(|t| t.agent == agent)
            .collect();
        for (i, t) in ts.iter().enumerate() {
            if t.to != BreakerState::HalfOpen {
                continue;
            }
            let until = ts.get(i + 1).map(|n| n.seq).unwrap_or(u64::MAX);
            let n = f
                .recorder
                .call_starts
                .iter()
                .filter(|(seq, _, a)| *a == agent && *seq > t.seq && *seq < until)
                .count();
            if n > worst {
                worst = n;
                where_ = format!(" ({agent} from {}ms)", t.at.as_millis());
            }
        }
    }
    Check::new(
        "half_open_probe_limit",
        format!("at most {limit} calls per HALF_OPEN period"),
        format!("at most {worst}{where_}"),
        worst <= limit,
    )
}

/// For sends at times t_0 ≤ … ≤ t_n, no window may hold more than `burst + rate × length`
/// sends: for all i ≤ j, `j - i + 1 ≤ burst + rate (t_j - t_i)`. Rewritten as
/// `(j - rate t_j) - (i - rate t_i) + 1 ≤ burst`, one pass keeping the minimum of the right term.
pub fn max_excess(starts: &[Duration], per_second: f64) -> f64 {
    let mut min_left = f64::INFINITY;
    let mut worst = f64::NEG_INFINITY;
    for (j, t) in starts.iter().enumerate() {
        let v = j as f64 - per_second * t.as_secs_f64();
        min_left = min_left.min(v);
        worst = worst.max(v - min_left + 1.0);
    }
    worst.max(0.0)
}

fn rate_limit(f: &RunFacts<'_>) -> Check {
    let rl = &f.scenario.policy.rate_limit;
    let mut worst = (0.0f64, Stage::PdfAdapter);
    for agent in Stage::ALL {
        let e = max_excess(&f.recorder.agents[agent.index()].starts, rl.per_second);
        if e > worst.0 {
            worst = (e, agent);
        }
    }
    Check::new(
        "rate_limit_respected",
        format!(
            "no window of length t with more than {} + {}·t calls to one agent",
            rl.burst, rl.per_second
        ),
        format!("largest burst {:.0} ({})", worst.0, worst.1),
        worst.0 <= rl.burst as f64 + 1e-6,
    )
}

fn backoff_bounds(f: &RunFacts<'_>) -> Check {
    let r = &f.scenario.policy.retry;
    let cap = r.max_delay.max(r.max_retry_after);
    let exact = r.jitter == Jitter::None;
    let bad: Vec<String> = f
        .recorder
        .retries
        .iter()
        .filter(|x| {
            // Retry-After may lengthen a delay up to its own cap; without jitter and without
            // Retry-After, the delay is exactly the capped exponential.
            let over = x.delay > cap;
            let wrong_exact = exact
                && x.cause != Some(gameday_orchestrator::agent::ErrorKind::Throttled)
                && x.delay != exponential(r.base_delay, r.max_delay, x.attempt);
            over || wrong_exact
        })
        .map(|x| format!("{}#{} {}ms", x.agent, x.attempt, x.delay.as_millis()))
        .collect();
    Check::new(
        "backoff_within_bounds",
        format!(
            "every delay within its strategy's bounds and ≤ {}ms",
            cap.as_millis()
        ),
        sample("out of bounds", &bad),
        bad.is_empty(),
    )
}

fn exponential(base: Duration, cap: Duration, retry: u32) -> Duration {
    let shift = retry.saturating_sub(1).min(63);
    let nanos = (base.as_nanos()).saturating_mul(1u128 << shift);
    Duration::from_nanos(nanos.min(cap.as_nanos()).min(u64::MAX as u128) as u64)
}

fn retry_budget(f: &RunFacts<'_>) -> Check {
    let over: u64 = f.recorder.budgets.iter().map(|b| b.overdrawn).sum();
    let first = f.recorder.budgets.iter().find_map(|b| b.first_overdraft.clone());
    Check::new(
        "retry_budget_respected",
        "no retry without the budget tokens it costs",
        match first {
            Some(first) => format!("{over} retries over budget (first {first})"),
            None => "0 retries over budget".into(),
        },
        over == 0,
    )
}

/// Completions in `[from, from + THROUGHPUT_WINDOW)`.
fn completions(f: &RunFacts<'_>, from: Duration) -> usize {
    let to = from + THROUGHPUT_WINDOW;
    f.recorder
        .trades
        .values()
        .filter_map(|l| l.finished.first())
        .filter(|(at, _)| *at >= from && *at < to)
        .count()
}

fn fault_timings(f: &RunFacts<'_>) -> Vec<FaultTiming> {
    let first_start = f.scenario.faults.iter().map(|x| x.start).min().unwrap_or(f.end);
    // The pre-fault level: completions per window before the first fault, or the offered
    // load when the run starts faulty.
    let before = first_start
        .saturating_sub(Duration::from_secs(60))
        .max(Duration::from_secs(5));
    let pre_windows = first_start.saturating_sub(before).as_secs_f64() / THROUGHPUT_WINDOW.as_secs_f64();
    let offered = f.scenario.workload.rate * THROUGHPUT_WINDOW.as_secs_f64();
    let baseline = if pre_windows >= 1.0 {
        let n = f
            .recorder
            .trades
            .values()
            .filter_map(|l| l.finished.first())
            .filter(|(at, _)| *at >= before && *at < first_start)
            .count();
        (n as f64 / pre_windows).min(offered)
    } else {
        offered
    };
    let target = RECOVERY_SHARE * baseline;
    let step = Duration::from_millis(100);
    let workload_end = f.scenario.duration;

    f.scenario
        .faults
        .iter()
        .enumerate()
        .map(|(index, fault)| {
            let agent = fault.target.agent();
            let detected_after = agent.and_then(|a| {
                f.recorder
                    .transitions
                    .iter()
                    .find(|t| t.agent == a && t.to == BreakerState::Open && t.at >= fault.start)
                    .map(|t| t.at - fault.start)
            });
            let end = fault.end();
            // Recovery: the first instant after the fault's end at which no breaker is
            // open and the next window completes at least the target share of trades.
            let mut t = end;
            let mut recovered_after = None;
            while t + THROUGHPUT_WINDOW <= workload_end.max(end) + THROUGHPUT_WINDOW && t <= f.end {
                let closed = Stage::ALL.iter().all(|a| admits_calls(f, *a, t));
                if closed && t + THROUGHPUT_WINDOW <= workload_end && completions(f, t) as f64 >= target {
                    recovered_after = Some(t - end);
                    break;
                }
                if closed && t + THROUGHPUT_WINDOW > workload_end {
                    // The workload stops before a whole window fits: recovery is judged on
                    // the breakers alone and on every trade having finished.
                    recovered_after = Some(t - end);
                    break;
                }
                t += step;
            }
            FaultTiming {
                index,
                kind: fault.kind.name(),
                target: fault.target,
                start: fault.start,
                end,
                detected_after,
                recovered_after,
            }
        })
        .collect()
}

/// Whether `agent`'s breaker would let the next call through at `at`: it is CLOSED, or it
/// has gone idle in a state that admits a probe. A breaker only leaves OPEN when a call
/// comes along after `open_for` (the transition is lazy), and only closes after successful
/// probes; an agent that gets no more traffic once a fault is over (exception-management
/// when nothing fails) keeps its breaker OPEN or HALF_OPEN forever without anything being
/// wrong. So, besides CLOSED, steady state accepts an OPEN breaker whose `open_for` has
/// elapsed with no call since (any call would have half-opened it), and a HALF_OPEN one with
/// a probe slot free. A breaker that keeps reopening under traffic, or is FORCED_OPEN, is
/// still not steady.
fn admits_calls(f: &RunFacts<'_>, agent: Stage, at: Duration) -> bool {
    let last = f
        .recorder
        .transitions
        .iter()
        .rev()
        .find(|t| t.agent == agent && t.at <= at);
    let Some(last) = last else { return true };
    match last.to {
        BreakerState::Closed => true,
        BreakerState::Open => at >= last.at + f.scenario.policy.breaker.open_for,
        BreakerState::HalfOpen => {
            // A free probe slot: fewer calls since it half-opened than it admits (had they
            // all been admitted and succeeded, it would have closed).
            let limit = f.scenario.policy.breaker.half_open_probes as usize;
            let starts = &f.recorder.call_starts;
            let first = starts.partition_point(|(seq, _, _)| *seq <= last.seq);
            let probes = starts[first..]
                .iter()
                .take_while(|(_, start, _)| *start <= at)
                .filter(|(_, _, a)| *a == agent)
                .take(limit)
                .count();
            probes < limit
        }
        BreakerState::ForcedOpen => false,
    }
}

fn liveness(f: &RunFacts<'_>, faults: &[FaultTiming]) -> Check {
    let open_at_end: Vec<&str> = Stage::ALL
        .iter()
        .filter(|a| !admits_calls(f, **a, f.end))
        .map(|a| a.name())
        .collect();
    let unfinished = f
        .submitted
        .iter()
        .filter(|(t, _)| !f.outcomes.contains_key(t))
        .count();
    let unrecovered: Vec<usize> = faults
        .iter()
        .filter(|t| t.recovered_after.is_none())
        .map(|t| t.index)
        .collect();
    let pass = open_at_end.is_empty() && unfinished == 0 && unrecovered.is_empty();
    Check::new(
        "steady_state_after_faults",
        "after the last fault: every breaker CLOSED (or idle and ready to probe), every trade finished, throughput back",
        format!(
            "open breakers {:?}, unfinished trades {unfinished}, faults without recovery {:?}",
            open_at_end, unrecovered
        ),
        pass,
    )
}

fn expectations(
    f: &RunFacts<'_>,
    faults: &[FaultTiming],
    amplification: f64,
    matched_ratio: f64,
) -> Vec<Check> {
    let e = &f.scenario.expect;
    let mut out = Vec::new();
    if let Some(agents) = &e.breaker_opens {
        let opened: Vec<&str> = Stage::ALL
            .iter()
            .filter(|a| f.recorder.agents[a.index()].breaker_opens > 0)
            .map(|a| a.name())
            .collect();
        let mut want: Vec<&str> = agents.iter().map(|a| a.name()).collect();
        want.sort_by_key(|n| Stage::from_name(n));
        out.push(Check::new(
            "breaker_opens",
            format!("{want:?}"),
            format!("{opened:?}"),
            opened == want,
        ));
    }
    // Detection is judged on the faults aimed at agents whose breaker is expected to open (or
    // at every agent when no such list is given); recovery on every fault.
    let judged = |t: &&FaultTiming| match (t.target, &e.breaker_opens) {
        (Target::Agent(a), Some(list)) => list.contains(&a),
        (Target::Agent(_), None) => true,
        (Target::Orchestrator, _) => false,
    };
    if let Some(limit) = e.detect_within {
        let worst = worst_of(faults.iter().filter(judged).map(|t| t.detected_after));
        out.push(Check::new(
            "detect_within",
            format!("≤ {}", fmt_ms(limit)),
            worst.map(fmt_ms).unwrap_or_else(|| "not detected".into()),
            worst.is_some_and(|w| w <= limit),
        ));
    }
    if let Some(limit) = e.recover_within {
        let worst = worst_of(faults.iter().map(|t| t.recovered_after));
        out.push(Check::new(
            "recover_within",
            format!("≤ {}", fmt_ms(limit)),
            worst.map(fmt_ms).unwrap_or_else(|| "not recovered".into()),
            worst.is_some_and(|w| w <= limit),
        ));
    }
    if let Some(limit) = e.p99_latency {
        let p99 = Duration::from_micros(f.recorder.end_to_end_us.value_at_quantile(0.99));
        out.push(Check::new(
            "p99_latency",
            format!("≤ {}", fmt_ms(limit)),
            fmt_ms(p99),
            p99 <= limit,
        ));
    }
    if let Some(limit) = e.max_amplification {
        out.push(Check::new(
            "max_amplification",
            format!("≤ {limit:.2}"),
            format!("{amplification:.2}"),
            amplification <= limit,
        ));
    }
    if let Some(min) = e.min_matched_ratio {
        out.push(Check::new(
            "min_matched_ratio",
            format!("≥ {min:.3}"),
            format!("{matched_ratio:.3}"),
            matched_ratio >= min,
        ));
    }
    out
}

/// The longest of the durations, or `None` if any is missing (a fault never detected or never
/// recovered from fails the expectation whatever the others did).
fn worst_of(durations: impl Iterator<Item = Option<Duration>>) -> Option<Duration> {
    durations
        .into_iter()
        .try_fold(Duration::ZERO, |worst, d| d.map(|d| worst.max(d)))
}

pub(crate) fn fmt_ms(d: Duration) -> String {
    format!("{}ms", d.as_millis())
}

fn sample<T: std::fmt::Display>(what: &str, items: &[T]) -> String {
    if items.is_empty() {
        return format!("0 {what}");
    }
    let shown: Vec<String> = items.iter().take(5).map(|x| x.to_string()).collect();
    let more = if items.len() > 5 { ", …" } else { "" };
    format!("{} {what} ({}{more})", items.len(), shown.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(v: &[u64]) -> Vec<Duration> {
        v.iter().map(|m| Duration::from_millis(*m)).collect()
    }

    #[test]
    fn excess_counts_the_largest_burst() {
        // Ten sends at the same instant: a burst of ten whatever the rate.
        assert_eq!(max_excess(&ms(&[0; 10]), 1.0), 10.0);
        // One send per second at one per second: never more than one at once.
        assert!(max_excess(&ms(&[0, 1000, 2000, 3000]), 1.0) <= 1.0 + 1e-9);
        // Spaced sends then a clump of three.
        assert!((max_excess(&ms(&[0, 5000, 5000, 5000]), 1.0) - 3.0).abs() < 1e-9);
    }

    #[test]
    fn exponential_caps() {
        let b = Duration::from_millis(100);
        let c = Duration::from_secs(1);
        assert_eq!(exponential(b, c, 1), b);
        assert_eq!(exponential(b, c, 3), Duration::from_millis(400));
        assert_eq!(exponential(b, c, 60), c);
    }
}
