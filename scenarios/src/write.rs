//! Writing a scenario back in the v1 format, every key explicit, so that a generated or
//! edited scenario can be saved, read by a person, and parsed back to the same value.
//!
//! Optional expectations that are unset are left out (the format has no "null"). A seed above
//! 2^63-1 cannot be written as a TOML integer; it is written as is, and parsing it back
//! reports the out-of-range value rather than silently changing the seed.

use std::fmt::Write as _;
use std::time::Duration;

use gameday_orchestrator::resilience::PolicyConfig;

use crate::model::{Expect, Fault, FaultKind, Scenario};

/// The scenario as a v1 TOML document.
pub fn to_toml(s: &Scenario) -> String {
    let mut out = String::new();
    key(&mut out, "name", string(&s.name));
    key(&mut out, "description", string(&s.description));
    key(&mut out, "seed", s.seed.to_string());
    key(&mut out, "duration", duration(s.duration));

    out.push_str("\n[workload]\n");
    key(&mut out, "rate", float(s.workload.rate));
    key(&mut out, "mismatch_ratio", float(s.workload.mismatch_ratio));

    policy(&mut out, &s.policy);
    for f in &s.faults {
        fault(&mut out, f);
    }
    expect(&mut out, &s.expect);
    out
}

fn policy(out: &mut String, p: &PolicyConfig) {
    let r = &p.retry;
    out.push_str("\n[policy.retry]\n");
    key(out, "max_attempts", r.max_attempts.to_string());
    key(out, "base_delay", duration(r.base_delay));
    key(out, "max_delay", duration(r.max_delay));
    key(out, "jitter", string(r.jitter.name()));
    key(out, "max_retry_after", duration(r.max_retry_after));

    let b = &p.breaker;
    out.push_str("\n[policy.breaker]\n");
    key(out, "failure_rate", float(b.failure_rate));
    key(out, "window", b.window.to_string());
    key(out, "min_calls", b.min_calls.to_string());
    key(out, "open_for", duration(b.open_for));
    key(out, "half_open_probes", b.half_open_probes.to_string());
    if let Some(slow) = &b.slow_call {
        out.push_str("\n[policy.breaker.slow_call]\n");
        key(out, "threshold", duration(slow.threshold));
        key(out, "rate", float(slow.rate));
    }

    let l = &p.rate_limit;
    out.push_str("\n[policy.rate_limit]\n");
    key(out, "per_second", float(l.per_second));
    key(out, "burst", l.burst.to_string());
    key(out, "max_wait", duration(l.max_wait));

    out.push_str("\n[policy.timeout]\n");
    key(out, "call", duration(p.timeout.call));

    let q = &p.budget;
    out.push_str("\n[policy.budget]\n");
    key(out, "capacity", q.capacity.to_string());
    key(out, "retry_cost", q.retry_cost.to_string());
    key(out, "timeout_cost", q.timeout_cost.to_string());
    key(out, "success_refund", q.success_refund.to_string());
}

fn fault(out: &mut String, f: &Fault) {
    out.push_str("\n[[fault]]\n");
    key(out, "kind", string(f.kind.name()));
    key(out, "target", string(f.target.name()));
    key(out, "start", duration(f.start));
    key(out, "duration", duration(f.duration));
    match &f.kind {
        FaultKind::Throttle { rate, retry_after } => {
            key(out, "rate", float(*rate));
            if let Some(after) = retry_after {
                key(out, "retry_after", duration(*after));
            }
        }
        FaultKind::Error { rate, status } => {
            key(out, "rate", float(*rate));
            key(out, "status", status.to_string());
        }
        FaultKind::Latency { delay, jitter } => {
            key(out, "delay", duration(*delay));
            key(out, "jitter", duration(*jitter));
        }
        FaultKind::Hang { rate } | FaultKind::Malformed { rate } => key(out, "rate", float(*rate)),
        FaultKind::Crash | FaultKind::Partition => {}
    }
}

fn expect(out: &mut String, x: &Expect) {
    out.push_str("\n[expect]\n");
    if let Some(agents) = &x.breaker_opens {
        let names: Vec<String> = agents.iter().map(|a| string(a.name())).collect();
        key(out, "breaker_opens", format!("[{}]", names.join(", ")));
    }
    let durations = [
        ("detect_within", x.detect_within),
        ("recover_within", x.recover_within),
        ("p99_latency", x.p99_latency),
    ];
    for (name, value) in durations {
        if let Some(d) = value {
            key(out, name, duration(d));
        }
    }
    if let Some(a) = x.max_amplification {
        key(out, "max_amplification", float(a));
    }
    if let Some(m) = x.min_matched_ratio {
        key(out, "min_matched_ratio", float(m));
    }
}

fn key(out: &mut String, name: &str, value: String) {
    let _ = writeln!(out, "{name} = {value}");
}

/// A TOML string literal, escaped by the toml crate.
fn string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// A TOML float that reads back as exactly the same `f64`.
fn float(v: f64) -> String {
    toml::Value::Float(v).to_string()
}

fn duration(d: Duration) -> String {
    string(&format_duration(d))
}

/// A duration as scenario files write it (`"1h 30m"`, `"250ms"`), without quotes.
pub fn format_duration(d: Duration) -> String {
    humantime::format_duration(d).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_keep_nanoseconds_and_floats_keep_every_bit() {
        assert_eq!(duration(Duration::new(5400, 7)), "\"1h 30m 7ns\"");
        assert_eq!(
            humantime::parse_duration("1h 30m 7ns").unwrap(),
            Duration::new(5400, 7)
        );
        for v in [0.1, 20.0, 1e-7, 1.0 / 3.0, 123456789.125] {
            let back: f64 = format!("v = {}", float(v)).parse::<toml::Table>().unwrap()["v"]
                .as_float()
                .unwrap();
            assert_eq!(back.to_bits(), v.to_bits(), "{v}");
        }
    }

    #[test]
    fn strings_are_escaped() {
        for text in ["a \"b\"\n", "'''\"\"\"", "tab\there \\ \u{1}", "ünï"] {
            let doc = format!("v = {}", string(text));
            let back = doc.parse::<toml::Table>().unwrap();
            assert_eq!(back["v"].as_str(), Some(text), "{doc}");
        }
    }
}
