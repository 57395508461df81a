//! Reading a scenario file: TOML syntax, then the shape of every table, then the rules that
//! relate values to each other (faults inside the run, keys that fit the fault's kind,
//! a valid policy). Every failure names the file, line and column and what was expected.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use gameday_orchestrator::domain::Stage;
use gameday_orchestrator::resilience::{Jitter, PolicyConfig, SlowCallConfig};
use serde::Deserialize;

use crate::error::{ErrorKind, ScenarioError};
use crate::model::{Expect, Fault, FaultKind, Scenario, Target, Workload};
use crate::raw::{
    Dur, RawExpect, RawFault, RawFaultKind, RawJitter, RawPolicy, RawScenario, RawWorkload, Sp,
};

/// The seed used when a file sets none.
pub const DEFAULT_SEED: u64 = 42;
/// The highest workload rate a scenario may ask for, in trades per second. Every arrival of
/// a run is drawn up front and every trade is traced, so a slip of the keyboard (a rate of
/// 2 000 000) would otherwise exhaust memory instead of being reported; 10 000 trades/s is
/// far above what the orchestrator's agents serve.
pub const MAX_WORKLOAD_RATE: f64 = 10_000.0;

/// The rate of a fault that sets none: every call is affected.
pub const DEFAULT_FAULT_RATE: f64 = 1.0;
/// The status an `error` fault answers when it sets none.
pub const DEFAULT_ERROR_STATUS: u16 = 503;

/// Reads and parses a scenario file.
pub fn load(path: &Path) -> Result<Scenario, ScenarioError> {
    let source = std::fs::read_to_string(path).map_err(|e| ScenarioError::io(path, &e))?;
    parse(&source, path)
}

/// Parses scenario text; `path` is only used to locate errors.
pub fn parse(source: &str, path: &Path) -> Result<Scenario, ScenarioError> {
    let cx = Cx { source, path };
    let de = toml::de::Deserializer::parse(source).map_err(|e| cx.syntax(&e))?;
    let raw = RawScenario::deserialize(de).map_err(|e| cx.shape(&e))?;
    cx.scenario(raw)
}

/// The source being checked, so that any check can turn a span into a located error.
struct Cx<'a> {
    source: &'a str,
    path: &'a Path,
}

fn whole<T>(v: &Option<Sp<T>>) -> Option<Range<usize>> {
    v.as_ref().map(Sp::span)
}

fn share(v: f64) -> bool {
    (0.0..=1.0).contains(&v)
}

impl Cx<'_> {
    fn err(&self, span: Range<usize>, kind: ErrorKind, message: impl Into<String>) -> ScenarioError {
        ScenarioError::at(self.source, self.path, span, kind, message)
    }

    fn syntax(&self, e: &toml::de::Error) -> ScenarioError {
        let message = format!("invalid TOML: {}", one_line(e.message()));
        self.err(e.span().unwrap_or(0..0), ErrorKind::Syntax, message)
    }

    /// Maps serde's messages onto the file's vocabulary (keys, numbers, arrays).
    fn shape(&self, e: &toml::de::Error) -> ScenarioError {
        let raw = one_line(e.message());
        let duration = crate::raw::DURATION_EXPECTED;
        let (kind, message) = if raw.contains(duration) {
            // "invalid type: integer `5`, expected a duration ..." reads better turned round.
            let found = raw
                .strip_prefix("invalid type: ")
                .and_then(|r| r.split_once(", expected"));
            match found {
                Some((found, _)) => (
                    ErrorKind::BadDuration,
                    format!("expected {duration}, found {found}"),
                ),
                None => (ErrorKind::BadDuration, raw),
            }
        } else if raw.starts_with("unknown field") {
            let (key, allowed) = raw.split_once(", expected").unwrap_or((&raw, ""));
            let allowed = backticked(allowed).join(", ");
            (
                ErrorKind::UnknownKey,
                format!(
                    "unknown key{}; allowed keys here: {allowed}",
                    key.strip_prefix("unknown field").unwrap_or(key)
                ),
            )
        } else if let Some(rest) = raw.strip_prefix("missing field") {
            (ErrorKind::MissingKey, format!("missing key{rest}"))
        } else if let Some(rest) = raw.strip_prefix("unknown variant") {
            (ErrorKind::WrongType, format!("unknown value{rest}"))
        } else if raw.starts_with("invalid") {
            (ErrorKind::WrongType, plain_types(&raw))
        } else {
            (ErrorKind::WrongType, raw)
        };
        self.err(e.span().unwrap_or(0..0), kind, message)
    }

    fn scenario(&self, raw: RawScenario) -> Result<Scenario, ScenarioError> {
        let name = raw.name.as_ref().ok_or_else(|| {
            self.err(
                0..0,
                ErrorKind::MissingKey,
                "missing required key `name` (a short identifier of the scenario)",
            )
        })?;
        if name.get().trim().is_empty() {
            return Err(self.err(name.span(), ErrorKind::WrongType, "expected a non-empty name"));
        }
        let duration = raw.duration.as_ref().ok_or_else(|| {
            self.err(
                0..0,
                ErrorKind::MissingKey,
                "missing required key `duration` (how long the workload runs, e.g. \"10m\")",
            )
        })?;
        if duration.get().0.is_zero() {
            return Err(self.err(
                duration.span(),
                ErrorKind::OutOfRange,
                "expected a duration above zero",
            ));
        }
        let run = duration.get().0;
        let faults = raw
            .faults
            .iter()
            .flatten()
            .map(|f| self.fault(f, run))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Scenario {
            name: name.get().clone(),
            description: raw
                .description
                .as_ref()
                .map(|d| d.get().clone())
                .unwrap_or_default(),
            seed: raw.seed.as_ref().map_or(DEFAULT_SEED, |s| *s.get()),
            duration: run,
            workload: self.workload(raw.workload.as_ref())?,
            policy: self.policy(raw.policy.as_ref())?,
            expect: self.expect(raw.expect.as_ref(), faults.is_empty())?,
            faults,
        })
    }

    fn workload(&self, raw: Option<&Sp<RawWorkload>>) -> Result<Workload, ScenarioError> {
        let mut w = Workload::default();
        let Some(raw) = raw.map(Sp::get) else {
            return Ok(w);
        };
        if let Some(rate) = &raw.rate {
            w.rate = *rate.get();
            if !(w.rate.is_finite() && w.rate > 0.0 && w.rate <= MAX_WORKLOAD_RATE) {
                return Err(self.err(
                    rate.span(),
                    ErrorKind::OutOfRange,
                    format!(
                        "expected trades per second above zero and at most {MAX_WORKLOAD_RATE}, found {}",
                        w.rate
                    ),
                ));
            }
        }
        if let Some(ratio) = &raw.mismatch_ratio {
            w.mismatch_ratio = *ratio.get();
            if !share(w.mismatch_ratio) {
                return Err(self.err(
                    ratio.span(),
                    ErrorKind::OutOfRange,
                    format!("expected a share between 0 and 1, found {}", w.mismatch_ratio),
                ));
            }
        }
        Ok(w)
    }

    /// Overlays the keys present on the defaults, remembering where each came from so that
    /// a value `PolicyConfig::validate` refuses can be shown where it was written (or, when
    /// it is a default, at the table that made it matter).
    fn policy(&self, raw: Option<&Sp<RawPolicy>>) -> Result<PolicyConfig, ScenarioError> {
        let mut p = PolicyConfig::default();
        let mut spans: BTreeMap<&'static str, Range<usize>> = BTreeMap::new();
        fn set<T: Copy, U>(
            spans: &mut BTreeMap<&'static str, Range<usize>>,
            key: &'static str,
            v: &Option<Sp<T>>,
            slot: &mut U,
            f: impl Fn(T) -> U,
        ) {
            if let Some(v) = v {
                spans.insert(key, v.span());
                *slot = f(*v.get());
            }
        }
        let d = |d: Dur| d.0;
        if let Some(raw) = raw {
            spans.insert("", raw.span());
            let raw = raw.get();
            if let Some(r) = &raw.retry {
                spans.insert("retry", r.span());
                let r = r.get();
                set(
                    &mut spans,
                    "retry.max_attempts",
                    &r.max_attempts,
                    &mut p.retry.max_attempts,
                    |v| v,
                );
                set(
                    &mut spans,
                    "retry.base_delay",
                    &r.base_delay,
                    &mut p.retry.base_delay,
                    d,
                );
                set(
                    &mut spans,
                    "retry.max_delay",
                    &r.max_delay,
                    &mut p.retry.max_delay,
                    d,
                );
                set(&mut spans, "retry.jitter", &r.jitter, &mut p.retry.jitter, jitter);
                set(
                    &mut spans,
                    "retry.max_retry_after",
                    &r.max_retry_after,
                    &mut p.retry.max_retry_after,
                    d,
                );
            }
            if let Some(b) = &raw.breaker {
                spans.insert("breaker", b.span());
                let b = b.get();
                set(
                    &mut spans,
                    "breaker.failure_rate",
                    &b.failure_rate,
                    &mut p.breaker.failure_rate,
                    |v| v,
                );
                set(
                    &mut spans,
                    "breaker.window",
                    &b.window,
                    &mut p.breaker.window,
                    |v| v,
                );
                set(
                    &mut spans,
                    "breaker.min_calls",
                    &b.min_calls,
                    &mut p.breaker.min_calls,
                    |v| v,
                );
                set(
                    &mut spans,
                    "breaker.open_for",
                    &b.open_for,
                    &mut p.breaker.open_for,
                    d,
                );
                set(
                    &mut spans,
                    "breaker.half_open_probes",
                    &b.half_open_probes,
                    &mut p.breaker.half_open_probes,
                    |v| v,
                );
                if let Some(s) = &b.slow_call {
                    spans.insert("breaker.slow_call", s.span());
                    let threshold = s.get().threshold.as_ref().ok_or_else(|| {
                        self.err(s.span(), ErrorKind::MissingKey, "missing required key `threshold` in [policy.breaker.slow_call] (the duration from which a call is slow)")
                    })?;
                    let mut slow = SlowCallConfig {
                        threshold: threshold.get().0,
                        rate: DEFAULT_SLOW_CALL_RATE,
                    };
                    spans.insert("breaker.slow_call.threshold", threshold.span());
                    set(
                        &mut spans,
                        "breaker.slow_call.rate",
                        &s.get().rate,
                        &mut slow.rate,
                        |v| v,
                    );
                    p.breaker.slow_call = Some(slow);
                }
            }
            if let Some(l) = &raw.rate_limit {
                spans.insert("rate_limit", l.span());
                let l = l.get();
                set(
                    &mut spans,
                    "rate_limit.per_second",
                    &l.per_second,
                    &mut p.rate_limit.per_second,
                    |v| v,
                );
                set(
                    &mut spans,
                    "rate_limit.burst",
                    &l.burst,
                    &mut p.rate_limit.burst,
                    |v| v,
                );
                set(
                    &mut spans,
                    "rate_limit.max_wait",
                    &l.max_wait,
                    &mut p.rate_limit.max_wait,
                    d,
                );
            }
            if let Some(t) = &raw.timeout {
                spans.insert("timeout", t.span());
                set(&mut spans, "timeout.call", &t.get().call, &mut p.timeout.call, d);
            }
            if let Some(q) = &raw.budget {
                spans.insert("budget", q.span());
                let q = q.get();
                set(
                    &mut spans,
                    "budget.capacity",
                    &q.capacity,
                    &mut p.budget.capacity,
                    |v| v,
                );
                set(
                    &mut spans,
                    "budget.retry_cost",
                    &q.retry_cost,
                    &mut p.budget.retry_cost,
                    |v| v,
                );
                set(
                    &mut spans,
                    "budget.timeout_cost",
                    &q.timeout_cost,
                    &mut p.budget.timeout_cost,
                    |v| v,
                );
                set(
                    &mut spans,
                    "budget.success_refund",
                    &q.success_refund,
                    &mut p.budget.success_refund,
                    |v| v,
                );
            }
        }
        if let Err(e) = p.validate() {
            // One check covers both costs; point at the one that is zero.
            let field = if e.field == "budget.retry_cost" && p.budget.retry_cost != 0 {
                "budget.timeout_cost"
            } else {
                e.field
            };
            let span = locate(&spans, field);
            let message = format!(
                "invalid policy: `policy.{field}` is {}; expected {}",
                e.value, e.expected
            );
            return Err(self.err(span, ErrorKind::InvalidPolicy, message));
        }
        Ok(p)
    }

    fn fault(&self, raw: &Sp<RawFault>, run: Duration) -> Result<Fault, ScenarioError> {
        let table = raw.span();
        let f = raw.get();
        let missing = |key: &str, what: &str| {
            self.err(
                table.clone(),
                ErrorKind::MissingKey,
                format!("missing required key `{key}` in [[fault]] ({what})"),
            )
        };
        let kind_sp = f.kind.as_ref().ok_or_else(|| {
            let kinds: Vec<_> = RawFaultKind::ALL.iter().map(|k| k.name()).collect();
            missing("kind", &format!("one of {}", kinds.join(", ")))
        })?;
        let kind = *kind_sp.get();
        let target_sp = f
            .target
            .as_ref()
            .ok_or_else(|| missing("target", "an agent, or \"orchestrator\" for crash"))?;
        let start = f
            .start
            .as_ref()
            .ok_or_else(|| missing("start", "when the fault begins, e.g. \"2m\""))?;
        let duration = f
            .duration
            .as_ref()
            .ok_or_else(|| missing("duration", "how long the fault lasts, e.g. \"3m\""))?;

        // Keys that belong to other kinds, reported in file order.
        let extras = [
            ("rate", whole(&f.rate)),
            ("retry_after", whole(&f.retry_after)),
            ("status", whole(&f.status)),
            ("delay", whole(&f.delay)),
            ("jitter", whole(&f.jitter)),
        ];
        if let Some((key, span)) = extras
            .iter()
            .filter_map(|(k, s)| s.clone().map(|s| (*k, s)))
            .filter(|(k, _)| !kind.keys().contains(k))
            .min_by_key(|(_, s)| s.start)
        {
            let takes = match kind.keys() {
                [] => "no other keys".to_string(),
                keys => keys
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
            };
            return Err(self.err(
                span,
                ErrorKind::FaultMismatch,
                format!(
                    "`{key}` does not apply to a {} fault; a {} fault takes {takes}",
                    kind.name(),
                    kind.name()
                ),
            ));
        }

        let target = self.target(target_sp, kind)?;
        let rate = match &f.rate {
            Some(r) if !share(*r.get()) => {
                return Err(self.err(
                    r.span(),
                    ErrorKind::OutOfRange,
                    format!("expected a share of calls between 0 and 1, found {}", r.get()),
                ));
            }
            Some(r) => *r.get(),
            None => DEFAULT_FAULT_RATE,
        };
        let kind = match kind {
            RawFaultKind::Throttle => FaultKind::Throttle {
                rate,
                retry_after: f.retry_after.as_ref().map(|d| d.get().0),
            },
            RawFaultKind::Error => {
                let status = f.status.as_ref().map_or(DEFAULT_ERROR_STATUS, |s| *s.get());
                if let Some(s) = &f.status
                    && !allowed_status(status)
                {
                    return Err(self.err(s.span(), ErrorKind::OutOfRange, format!("expected an HTTP error status from 400 to 599 other than 429 (use a throttle fault for 429), found {status}")));
                }
                FaultKind::Error { rate, status }
            }
            RawFaultKind::Latency => {
                let delay = f.delay.as_ref().ok_or_else(|| {
                    self.err(
                        kind_sp.span(),
                        ErrorKind::FaultMismatch,
                        "a latency fault needs `delay` (the added delay, e.g. \"800ms\")",
                    )
                })?;
                let jitter = f.jitter.as_ref().map_or(Duration::ZERO, |j| j.get().0);
                if let Some(j) = &f.jitter
                    && jitter > delay.get().0
                {
                    return Err(self.err(
                        j.span(),
                        ErrorKind::OutOfRange,
                        format!(
                            "expected a jitter no larger than the delay ({}), found {}",
                            show(delay.get().0),
                            show(jitter)
                        ),
                    ));
                }
                FaultKind::Latency {
                    delay: delay.get().0,
                    jitter,
                }
            }
            RawFaultKind::Hang => FaultKind::Hang { rate },
            RawFaultKind::Malformed => FaultKind::Malformed { rate },
            RawFaultKind::Crash => FaultKind::Crash,
            RawFaultKind::Partition => FaultKind::Partition,
        };
        if duration.get().0.is_zero() {
            return Err(self.err(
                duration.span(),
                ErrorKind::OutOfRange,
                "expected a fault duration above zero",
            ));
        }
        let fault = Fault {
            kind,
            target,
            start: start.get().0,
            duration: duration.get().0,
        };
        if fault
            .start
            .checked_add(fault.duration)
            .is_none_or(|end| end > run)
        {
            return Err(self.err(start.span(), ErrorKind::FaultOutsideRun, format!(
                "the fault runs from {} to {}, past the end of the run at {}; expected it to end within `duration`",
                show(fault.start),
                fault.start.checked_add(fault.duration).map_or_else(|| "never".into(), show),
                show(run)
            )));
        }
        Ok(fault)
    }

    fn target(&self, raw: &Sp<String>, kind: RawFaultKind) -> Result<Target, ScenarioError> {
        let name = raw.get().as_str();
        let crash = kind == RawFaultKind::Crash;
        let mut valid: Vec<String> = Stage::ALL.iter().map(|s| format!("`{}`", s.name())).collect();
        if crash {
            valid.push("`orchestrator`".into());
        }
        match (Stage::from_name(name), name) {
            (Some(stage), _) => Ok(Target::Agent(stage)),
            (None, "orchestrator") if crash => Ok(Target::Orchestrator),
            (None, "orchestrator") => Err(self.err(
                raw.span(),
                ErrorKind::FaultMismatch,
                format!(
                    "a {} fault must target an agent ({}); only a crash may target `orchestrator`",
                    kind.name(),
                    valid.join(", ")
                ),
            )),
            (None, _) => Err(self.err(
                raw.span(),
                ErrorKind::UnknownTarget,
                format!("unknown target {name:?}; expected one of {}", valid.join(", ")),
            )),
        }
    }

    fn expect(&self, raw: Option<&Sp<RawExpect>>, no_faults: bool) -> Result<Expect, ScenarioError> {
        let mut x = Expect::default();
        let Some(raw) = raw.map(Sp::get) else {
            return Ok(x);
        };
        if let Some(list) = &raw.breaker_opens {
            let mut agents = Vec::new();
            for name in list.get() {
                let stage = Stage::from_name(name.get()).ok_or_else(|| {
                    let valid: Vec<_> = Stage::ALL.iter().map(|s| format!("`{}`", s.name())).collect();
                    self.err(
                        name.span(),
                        ErrorKind::UnknownAgent,
                        format!(
                            "unknown agent {:?}; expected one of {}",
                            name.get(),
                            valid.join(", ")
                        ),
                    )
                })?;
                agents.push(stage);
            }
            x.breaker_opens = Some(agents);
        }
        for (key, value) in [
            ("detect_within", &raw.detect_within),
            ("recover_within", &raw.recover_within),
        ] {
            if let Some(v) = value
                && no_faults
            {
                return Err(self.err(v.span(), ErrorKind::ExpectationWithoutFault, format!(
                    "`{key}` is measured from a fault, but the scenario has no [[fault]]; add one or remove this key"
                )));
            }
        }
        x.detect_within = raw.detect_within.as_ref().map(|d| d.get().0);
        x.recover_within = raw.recover_within.as_ref().map(|d| d.get().0);
        x.p99_latency = raw.p99_latency.as_ref().map(|d| d.get().0);
        if let Some(a) = &raw.max_amplification {
            let v = *a.get();
            if !(v.is_finite() && v >= 1.0) {
                return Err(self.err(
                    a.span(),
                    ErrorKind::OutOfRange,
                    format!("expected a ratio of at least 1 (calls made / calls needed), found {v}"),
                ));
            }
            x.max_amplification = Some(v);
        }
        if let Some(m) = &raw.min_matched_ratio {
            let v = *m.get();
            if !share(v) {
                return Err(self.err(
                    m.span(),
                    ErrorKind::OutOfRange,
                    format!("expected a share between 0 and 1, found {v}"),
                ));
            }
            x.min_matched_ratio = Some(v);
        }
        Ok(x)
    }
}

/// The slow-call share used when `[policy.breaker.slow_call]` sets only a threshold.
pub const DEFAULT_SLOW_CALL_RATE: f64 = 0.5;

fn jitter(j: RawJitter) -> Jitter {
    match j {
        RawJitter::None => Jitter::None,
        RawJitter::Full => Jitter::Full,
        RawJitter::Equal => Jitter::Equal,
        RawJitter::Decorrelated => Jitter::Decorrelated,
    }
}

/// 429 is a throttle, with its own fault kind; 1xx–3xx are not failures.
fn allowed_status(status: u16) -> bool {
    (400..=599).contains(&status) && status != 429
}

/// The span of a policy field path, else of its nearest enclosing table that was written.
fn locate(spans: &BTreeMap<&'static str, Range<usize>>, field: &str) -> Range<usize> {
    let mut path = field;
    loop {
        if let Some(span) = spans.get(path) {
            return span.clone();
        }
        match path.rfind('.') {
            Some(i) => path = &path[..i],
            None if !path.is_empty() => path = "",
            None => return 0..0,
        }
    }
}

fn show(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

/// The `quoted` words of a serde message, quotes kept.
fn backticked(s: &str) -> Vec<String> {
    s.split('`')
        .skip(1)
        .step_by(2)
        .map(|w| format!("`{w}`"))
        .collect()
}

fn one_line(s: &str) -> String {
    s.split('\n')
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

/// Serde names Rust types; the file speaks of numbers and arrays.
fn plain_types(message: &str) -> String {
    [
        ("expected u16", "expected a whole number from 0 to 65535"),
        ("expected u32", "expected a whole number from 0 to 4294967295"),
        (
            "expected u64",
            "expected a whole number from 0 to 9223372036854775807",
        ),
        ("expected f64", "expected a number"),
        ("expected a sequence", "expected an array"),
        ("expected a map", "expected a table"),
        ("invalid type: map", "invalid type: table"),
        ("invalid type: sequence", "invalid type: array"),
    ]
    .iter()
    .fold(message.to_string(), |m, (from, to)| m.replace(from, to))
}
