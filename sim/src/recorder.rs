//! The recorder: an ordered event log of a run plus the measurements the checker and the
//! report need.
//!
//! Every line of the trace is `<time in ms with µs> <source> <what>`, written in the order
//! things happened in simulated time. Nothing in a line depends on memory addresses, hash
//! order or the wall clock, so the same scenario and seed give the same bytes, and the
//! trace hash (SHA-256 of the lines) identifies a run.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::time::Duration;

use gameday_orchestrator::agent::ErrorKind;
use gameday_orchestrator::domain::{IdempotencyKey, OutcomeKind, Stage, TradeId};
use gameday_orchestrator::event::Event;
use gameday_orchestrator::resilience::BreakerState;
use gameday_orchestrator::resilience::BudgetConfig;
use hdrhistogram::Histogram;
use sha2::{Digest, Sha256};

/// Counters and latencies of calls to one agent, as seen by the orchestrator.
#[derive(Debug, Clone)]
pub struct AgentStats {
    pub calls: u64,
    pub ok: u64,
    pub throttled: u64,
    /// Failed calls other than throttling and timeouts.
    pub errors: u64,
    pub timeouts: u64,
    pub retries: u64,
    pub rejected_by_breaker: u64,
    pub rejected_by_limiter: u64,
    pub breaker_opens: u64,
    pub by_kind: BTreeMap<ErrorKind, u64>,
    /// Latency of answered calls (any outcome), microseconds.
    pub latency_us: Histogram<u64>,
    /// When each call was sent (for the rate-limit invariant).
    pub starts: Vec<Duration>,
}

impl Default for AgentStats {
    fn default() -> Self {
        AgentStats {
            calls: 0,
            ok: 0,
            throttled: 0,
            errors: 0,
            timeouts: 0,
            retries: 0,
            rejected_by_breaker: 0,
            rejected_by_limiter: 0,
            breaker_opens: 0,
            by_kind: BTreeMap::new(),
            latency_us: new_histogram(),
            starts: Vec::new(),
        }
    }
}

pub(crate) fn new_histogram() -> Histogram<u64> {
    // One microsecond to one day at three significant figures.
    Histogram::new_with_bounds(1, 86_400_000_000, 3).expect("static histogram bounds are valid")
}

/// One breaker transition as the report lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionRecord {
    /// Position in the trace, to order events that share an instant.
    pub seq: u64,
    pub at: Duration,
    pub agent: Stage,
    pub from: BreakerState,
    pub to: BreakerState,
}

/// One retry the pipeline scheduled.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryRecord {
    pub at: Duration,
    pub agent: Stage,
    /// The attempt that failed (the retry is attempt + 1).
    pub attempt: u32,
    pub delay: Duration,
    pub cause: Option<ErrorKind>,
}

/// What became of one trade.
#[derive(Debug, Clone, Default)]
pub struct TradeRecordLog {
    pub submitted: Option<Duration>,
    /// Every terminal outcome the orchestrator reported (one, when all is well).
    pub finished: Vec<(Duration, OutcomeKind)>,
}

/// Replays the retry budget of one agent from the events, to check that no retry was made
/// without the tokens it costs. Mirrors the rules of the AWS-style retry quota: a retry after
/// a failed call costs `retry_cost` (`timeout_cost` after a timeout); a success refunds the
/// cost of the retry that made it, or `success_refund` when it needed none.
#[derive(Debug, Clone)]
pub struct BudgetModel {
    config: BudgetConfig,
    tokens: i64,
    pending: BTreeMap<IdempotencyKey, u32>,
    /// Retries made without enough tokens, with the first one's description.
    pub overdrawn: u64,
    pub first_overdraft: Option<String>,
}

impl BudgetModel {
    pub fn new(config: &BudgetConfig) -> BudgetModel {
        BudgetModel {
            config: config.clone(),
            tokens: config.capacity as i64,
            pending: BTreeMap::new(),
            overdrawn: 0,
            first_overdraft: None,
        }
    }

    fn reset(&mut self) {
        self.tokens = self.config.capacity as i64;
        self.pending.clear();
    }

    fn retry(&mut self, at: Duration, key: IdempotencyKey, cause: ErrorKind) {
        let cost = if cause == ErrorKind::Timeout {
            self.config.timeout_cost
        } else {
            self.config.retry_cost
        };
        if self.tokens < cost as i64 {
            self.overdrawn += 1;
            self.first_overdraft.get_or_insert_with(|| {
                format!(
                    "{key} at {}ms with {} tokens left",
                    at.as_millis(),
                    self.tokens.max(0)
                )
            });
        } else {
            self.tokens -= cost as i64;
        }
        self.pending.insert(key, cost);
    }

    fn finished(&mut self, key: IdempotencyKey, ok: bool) {
        let pending = self.pending.remove(&key);
        if ok {
            let refund = pending.unwrap_or(self.config.success_refund);
            self.tokens = (self.tokens + refund as i64).min(self.config.capacity as i64);
        }
    }
}

/// The recorder of one run.
#[derive(Debug)]
pub struct Recorder {
    keep_lines: bool,
    lines: Vec<String>,
    hasher: Sha256,
    line_count: u64,
    pub agents: [AgentStats; 4],
    pub transitions: Vec<TransitionRecord>,
    pub retries: Vec<RetryRecord>,
    pub trades: BTreeMap<TradeId, TradeRecordLog>,
    /// `(seq, at, agent)` of every call sent, checked against breaker transitions.
    pub call_starts: Vec<(u64, Duration, Stage)>,
    pub end_to_end_us: Histogram<u64>,
    /// Calls whose answer the recorder saw with an error kind, counted per agent side.
    pub injected: BTreeMap<(Stage, &'static str), u64>,
    /// Trades that reached a terminal state at least once.
    pub finished: u64,
    /// The retry budget of each agent, replayed from the events.
    pub budgets: [BudgetModel; 4],
}

impl Recorder {
    /// `keep_lines`: hold the trace text in memory (for `--trace`); the hash is kept always.
    pub fn new(keep_lines: bool, budget: &BudgetConfig) -> Recorder {
        Recorder {
            keep_lines,
            lines: Vec::new(),
            hasher: Sha256::new(),
            line_count: 0,
            agents: Default::default(),
            transitions: Vec::new(),
            retries: Vec::new(),
            trades: BTreeMap::new(),
            call_starts: Vec::new(),
            end_to_end_us: new_histogram(),
            injected: BTreeMap::new(),
            finished: 0,
            budgets: std::array::from_fn(|_| BudgetModel::new(budget)),
        }
    }

    /// Appends one trace line.
    pub fn line(&mut self, at: Duration, source: &str, what: std::fmt::Arguments<'_>) {
        let mut s = String::with_capacity(64);
        let us = at.as_micros();
        let _ = write!(s, "{:>6}.{:03} {source} {what}", us / 1000, us % 1000);
        self.hasher.update(s.as_bytes());
        self.hasher.update(b"\n");
        self.line_count += 1;
        if self.keep_lines {
            self.lines.push(s);
        }
    }

    /// Records an orchestrator event at simulated time `at`.
    pub fn event(&mut self, at: Duration, event: &Event) {
        match event {
            Event::Submitted { trade } => {
                self.trades.entry(*trade).or_default().submitted.get_or_insert(at);
                self.line(at, "orch", format_args!("submitted {trade}"));
            }
            Event::Resumed { trade, stage } => {
                self.line(at, "orch", format_args!("resumed {trade} at {stage}"));
            }
            Event::LimiterWait { key, attempt, wait } => {
                self.line(
                    at,
                    "orch",
                    format_args!("limiter-wait {key}#{attempt} {}us", wait.as_micros()),
                );
            }
            Event::RejectedByLimiter { key, attempt } => {
                self.agents[key.stage.index()].rejected_by_limiter += 1;
                self.line(at, "orch", format_args!("rejected-by-limiter {key}#{attempt}"));
            }
            Event::RejectedByBreaker { key, attempt, state } => {
                self.agents[key.stage.index()].rejected_by_breaker += 1;
                self.line(
                    at,
                    "orch",
                    format_args!("rejected-by-breaker {key}#{attempt} {}", state.name()),
                );
            }
            Event::CallStarted { key, attempt } => {
                let a = &mut self.agents[key.stage.index()];
                a.calls += 1;
                a.starts.push(at);
                self.call_starts.push((self.line_count, at, key.stage));
                self.line(at, "orch", format_args!("call {key}#{attempt}"));
            }
            Event::CallFinished {
                key,
                attempt,
                error,
                latency,
            } => {
                let a = &mut self.agents[key.stage.index()];
                let us = (latency.as_micros() as u64).max(1);
                let _ = a.latency_us.record(us.min(a.latency_us.high()));
                match error {
                    None => a.ok += 1,
                    Some(ErrorKind::Throttled) => a.throttled += 1,
                    Some(ErrorKind::Timeout) => a.timeouts += 1,
                    Some(_) => a.errors += 1,
                }
                if let Some(kind) = error {
                    *a.by_kind.entry(*kind).or_default() += 1;
                }
                self.budgets[key.stage.index()].finished(*key, error.is_none());
                let what = error.map(ErrorKind::name).unwrap_or("ok");
                self.line(
                    at,
                    "orch",
                    format_args!("answer {key}#{attempt} {what} {}us", latency.as_micros()),
                );
            }
            Event::RetryScheduled {
                key,
                attempt,
                delay,
                cause,
            } => {
                self.agents[key.stage.index()].retries += 1;
                if let Some(kind) = cause {
                    self.budgets[key.stage.index()].retry(at, *key, *kind);
                }
                self.retries.push(RetryRecord {
                    at,
                    agent: key.stage,
                    attempt: *attempt,
                    delay: *delay,
                    cause: *cause,
                });
                let cause = cause.map(ErrorKind::name).unwrap_or("rejected");
                self.line(
                    at,
                    "orch",
                    format_args!("retry {key}#{attempt} in {}us after {cause}", delay.as_micros()),
                );
            }
            Event::GaveUp { key, attempt, why } => {
                self.line(at, "orch", format_args!("gave-up {key}#{attempt} {why:?}"));
            }
            Event::BreakerTransition {
                agent,
                from,
                to,
                cause,
            } => {
                if matches!(to, BreakerState::Open) {
                    self.agents[agent.index()].breaker_opens += 1;
                }
                self.transitions.push(TransitionRecord {
                    seq: self.line_count,
                    at,
                    agent: *agent,
                    from: *from,
                    to: *to,
                });
                self.line(
                    at,
                    "orch",
                    format_args!("breaker {agent} {} -> {} ({cause:?})", from.name(), to.name()),
                );
            }
            Event::Finished { trade, outcome } => {
                let log = self.trades.entry(*trade).or_default();
                if log.finished.is_empty() {
                    self.finished += 1;
                }
                log.finished.push((at, *outcome));
                if let Some(sub) = log.submitted {
                    let us = (at.saturating_sub(sub).as_micros() as u64).max(1);
                    let _ = self.end_to_end_us.record(us.min(self.end_to_end_us.high()));
                }
                self.line(at, "orch", format_args!("finished {trade} {}", outcome.name()));
            }
            // Events added to the core later are traced by their debug form.
            #[allow(unreachable_patterns)]
            other => self.line(at, "orch", format_args!("{other:?}")),
        }
    }

    /// Counts a fault effect an agent host applied (for the report's agent-side view).
    pub fn injected(&mut self, at: Duration, agent: Stage, effect: &'static str, key: &str) {
        *self.injected.entry((agent, effect)).or_default() += 1;
        self.line(at, agent.name(), format_args!("inject {effect} {key}"));
    }

    /// The orchestrator (re)started: its policies, and so its budgets, start afresh.
    pub fn boot(&mut self, at: Duration, boot: u32) {
        for b in &mut self.budgets {
            b.reset();
        }
        if boot > 1 {
            self.line(at, "orch", format_args!("boot {boot}"));
            // Breakers live in the orchestrator's memory: a new boot starts every one CLOSED.
            // Record that as a transition, or the checker would go on replaying the state
            // the crashed process left behind and see calls "through an open breaker".
            for agent in Stage::ALL {
                let last = self
                    .transitions
                    .iter()
                    .rev()
                    .find(|t| t.agent == agent)
                    .map(|t| t.to);
                if let Some(from) = last.filter(|s| *s != BreakerState::Closed) {
                    self.transitions.push(TransitionRecord {
                        seq: self.line_count,
                        at,
                        agent,
                        from,
                        to: BreakerState::Closed,
                    });
                    self.line(
                        at,
                        "orch",
                        format_args!(
                            "breaker {agent} {} -> {} (restart)",
                            from.name(),
                            BreakerState::Closed.name()
                        ),
                    );
                }
            }
        }
    }

    pub fn line_count(&self) -> u64 {
        self.line_count
    }

    /// The trace text, one event per line, when lines were kept.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// SHA-256 of the trace lines, hex, truncated to 16 bytes: stable across runs and builds.
    pub fn trace_hash(&self) -> String {
        let digest = self.hasher.clone().finalize();
        digest[..16].iter().map(|b| format!("{b:02x}")).collect()
    }
}
