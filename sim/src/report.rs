//! The report of one run (DESIGN §5): text for people, JSON for machines.

use std::fmt::Write as _;

use gameday_orchestrator::agent::ErrorKind;
use gameday_orchestrator::domain::{OutcomeKind, Stage};
use serde::Serialize;

use crate::checker::{Check, Verdict};
use crate::recorder::Recorder;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Report {
    pub scenario: String,
    /// The scenario file the run came from, when it came from one.
    pub file: Option<String>,
    pub seed: u64,
    pub trace_hash: String,
    pub trace_lines: u64,
    pub verdict: &'static str,
    /// Simulated time the run covered, workload and drain, in milliseconds.
    pub simulated_ms: u64,
    pub trades: Trades,
    pub agents: std::collections::BTreeMap<String, AgentReport>,
    pub breaker_transitions: Vec<TransitionReport>,
    pub faults: Vec<FaultReport>,
    pub mttd_ms: Option<u64>,
    pub mttr_ms: Option<u64>,
    pub end_to_end_ms: Percentiles,
    pub amplification: f64,
    pub matched_ratio: f64,
    pub invariants: Vec<CheckReport>,
    pub expectations: Vec<CheckReport>,
    /// The exact command that replays this run.
    pub replay: String,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Trades {
    pub submitted: u64,
    pub matched: u64,
    pub exception: u64,
    pub dead_letter: u64,
    pub lost: u64,
    pub duplicated: u64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AgentReport {
    pub calls: u64,
    pub ok: u64,
    pub throttled: u64,
    pub errors: u64,
    pub timeouts: u64,
    pub retries: u64,
    pub rejected_by_breaker: u64,
    pub rejected_by_limiter: u64,
    pub breaker_opens: u64,
    /// Failed calls per error class (`protocol` counts malformed answers).
    pub errors_by_kind: std::collections::BTreeMap<&'static str, u64>,
    /// Fault effects the agent's host applied (throttle, error, hang, malformed), as counted
    /// on the agent's side: set against `errors_by_kind` they show what the client saw of them.
    pub injected: std::collections::BTreeMap<&'static str, u64>,
    pub latency_ms: Percentiles,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Percentiles {
    pub p50: f64,
    pub p99: f64,
    pub max: f64,
}

impl Percentiles {
    pub fn of(h: &hdrhistogram::Histogram<u64>) -> Percentiles {
        if h.is_empty() {
            return Percentiles::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Percentiles {
            p50: ms(h.value_at_quantile(0.5)),
            p99: ms(h.value_at_quantile(0.99)),
            max: ms(h.max()),
        }
    }
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct TransitionReport {
    pub at_ms: u64,
    pub agent: &'static str,
    pub from: &'static str,
    pub to: &'static str,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FaultReport {
    pub kind: &'static str,
    pub target: &'static str,
    pub start_ms: u64,
    pub end_ms: u64,
    pub detected_after_ms: Option<u64>,
    pub recovered_after_ms: Option<u64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CheckReport {
    pub name: String,
    pub expected: String,
    pub observed: String,
    pub pass: bool,
}

impl From<&Check> for CheckReport {
    fn from(c: &Check) -> Self {
        CheckReport {
            name: c.name.clone(),
            expected: c.expected.clone(),
            observed: c.observed.clone(),
            pass: c.pass,
        }
    }
}

/// Inputs the report is built from besides the recorder and the verdict.
#[derive(Debug, Clone)]
pub struct RunInfo {
    pub scenario: String,
    pub file: Option<String>,
    pub seed: u64,
    pub simulated_ms: u64,
    pub trades: Trades,
    pub replay: String,
}

impl Report {
    pub fn build(info: RunInfo, recorder: &Recorder, verdict: &Verdict) -> Report {
        let agents = Stage::ALL
            .iter()
            .map(|s| {
                let a = &recorder.agents[s.index()];
                let errors_by_kind = ErrorKind::ALL
                    .iter()
                    .filter_map(|k| a.by_kind.get(k).map(|n| (k.name(), *n)))
                    .collect();
                (
                    s.name().to_string(),
                    AgentReport {
                        calls: a.calls,
                        ok: a.ok,
                        throttled: a.throttled,
                        errors: a.errors,
                        timeouts: a.timeouts,
                        retries: a.retries,
                        rejected_by_breaker: a.rejected_by_breaker,
                        rejected_by_limiter: a.rejected_by_limiter,
                        breaker_opens: a.breaker_opens,
                        errors_by_kind,
                        injected: recorder
                            .injected
                            .iter()
                            .filter(|((agent, _), _)| agent == s)
                            .map(|((_, effect), n)| (*effect, *n))
                            .collect(),
                        latency_ms: Percentiles::of(&a.latency_us),
                    },
                )
            })
            .collect();
        Report {
            scenario: info.scenario,
            file: info.file,
            seed: info.seed,
            trace_hash: recorder.trace_hash(),
            trace_lines: recorder.line_count(),
            verdict: if verdict.pass() { "pass" } else { "fail" },
            simulated_ms: info.simulated_ms,
            trades: info.trades,
            agents,
            breaker_transitions: recorder
                .transitions
                .iter()
                .map(|t| TransitionReport {
                    at_ms: t.at.as_millis() as u64,
                    agent: t.agent.name(),
                    from: t.from.name(),
                    to: t.to.name(),
                })
                .collect(),
            faults: verdict
                .faults
                .iter()
                .map(|t| FaultReport {
                    kind: t.kind,
                    target: t.target.name(),
                    start_ms: t.start.as_millis() as u64,
                    end_ms: t.end.as_millis() as u64,
                    detected_after_ms: t.detected_after.map(|d| d.as_millis() as u64),
                    recovered_after_ms: t.recovered_after.map(|d| d.as_millis() as u64),
                })
                .collect(),
            mttd_ms: verdict.mttd.map(|d| d.as_millis() as u64),
            mttr_ms: verdict.mttr.map(|d| d.as_millis() as u64),
            end_to_end_ms: Percentiles::of(&recorder.end_to_end_us),
            amplification: round3(verdict.amplification),
            matched_ratio: round3(verdict.matched_ratio),
            invariants: verdict.invariants.iter().map(CheckReport::from).collect(),
            expectations: verdict.expectations.iter().map(CheckReport::from).collect(),
            replay: info.replay,
        }
    }

    pub fn passed(&self) -> bool {
        self.verdict == "pass"
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("reports serialize")
    }

    /// The report for people: the verdict first, then what failed, then the numbers.
    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let mark = if self.passed() { "PASS" } else { "FAIL" };
        let _ = writeln!(
            s,
            "{mark} {}  (seed {}, trace {})",
            self.scenario, self.seed, self.trace_hash
        );
        let t = &self.trades;
        let _ = writeln!(
            s,
            "  trades: {} submitted, {} matched, {} exception, {} dead letter, {} lost, {} duplicated",
            t.submitted, t.matched, t.exception, t.dead_letter, t.lost, t.duplicated
        );
        let _ = writeln!(
            s,
            "  end to end: p50 {}ms p99 {}ms max {}ms; amplification {:.2}; matched {:.1}%",
            self.end_to_end_ms.p50,
            self.end_to_end_ms.p99,
            self.end_to_end_ms.max,
            self.amplification,
            self.matched_ratio * 100.0
        );
        if self.mttd_ms.is_some() || self.mttr_ms.is_some() {
            let f = |v: Option<u64>| v.map(|v| format!("{v}ms")).unwrap_or_else(|| "-".into());
            let _ = writeln!(s, "  MTTD {}  MTTR {}", f(self.mttd_ms), f(self.mttr_ms));
        }
        let _ = writeln!(
            s,
            "  {:<22} {:>6} {:>6} {:>5} {:>5} {:>5} {:>6} {:>6} {:>6} {:>5} {:>9}",
            "agent", "calls", "ok", "thr", "err", "t/o", "retry", "rej-b", "rej-l", "opens", "p99 ms"
        );
        for (name, a) in Stage::ALL
            .iter()
            .filter_map(|s| self.agents.get(s.name()).map(|a| (s.name(), a)))
        {
            let _ = writeln!(
                s,
                "  {:<22} {:>6} {:>6} {:>5} {:>5} {:>5} {:>6} {:>6} {:>6} {:>5} {:>9}",
                name,
                a.calls,
                a.ok,
                a.throttled,
                a.errors,
                a.timeouts,
                a.retries,
                a.rejected_by_breaker,
                a.rejected_by_limiter,
                a.breaker_opens,
                a.latency_ms.p99
            );
        }
        for c in self.invariants.iter().chain(&self.expectations) {
            let mark = if c.pass { "ok  " } else { "FAIL" };
            let _ = writeln!(
                s,
                "  {mark} {:<30} expected {}, observed {}",
                c.name, c.expected, c.observed
            );
        }
        let _ = writeln!(s, "  replay: {}", self.replay);
        s
    }
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

/// Counts terminal states.
pub fn count_outcomes<'a>(outcomes: impl IntoIterator<Item = &'a OutcomeKind>) -> (u64, u64, u64) {
    let (mut m, mut e, mut d) = (0, 0, 0);
    for o in outcomes {
        match o {
            OutcomeKind::Matched => m += 1,
            OutcomeKind::Exception => e += 1,
            OutcomeKind::DeadLetter => d += 1,
        }
    }
    (m, e, d)
}
