//! Policy configuration for the resilience controls around each agent call, with the
//! documented defaults and the validation that rejects impossible values up front.
//!
//! Defaults are chosen for a trade pipeline whose agents answer in tens to hundreds of
//! milliseconds and whose trades may wait minutes but must never be lost:
//!
//! | setting | default | why |
//! |---|---|---|
//! | `retry.max_attempts` | 4 | one call and three retries ride out a blip without tripling load |
//! | `retry.base_delay` | 100 ms | about one agent round trip |
//! | `retry.max_delay` | 10 s | a trade can wait; an agent recovering from overload should not be hammered |
//! | `retry.jitter` | full | spreads retries best under contention (see docs/benchmarks.md) |
//! | `retry.max_retry_after` | 30 s | an agent's `Retry-After` is honoured up to this cap |
//! | `breaker.failure_rate` | 0.5 | half the recent calls failing is an outage, not noise |
//! | `breaker.window` | 20 calls | count-based, so decisions do not depend on traffic rate |
//! | `breaker.min_calls` | 10 | no verdict on too few calls |
//! | `breaker.open_for` | 30 s | long enough for an agent to restart |
//! | `breaker.half_open_probes` | 3 | three successes in a row to trust the agent again |
//! | `breaker.slow_call` | off | when set, slow successes count like failures |
//! | `rate_limit.per_second` | 50 | the agents' provisioned concurrency |
//! | `rate_limit.burst` | 100 | two seconds of headroom |
//! | `rate_limit.max_wait` | 1 s | waiting longer than this for a token is rejection |
//! | `timeout.call` | 5 s | ten times the slowest healthy call |
//! | `budget.capacity` | 500 | the AWS SDKs' retry quota |
//! | `budget.retry_cost` | 5 | |
//! | `budget.timeout_cost` | 10 | a timeout costs more: it held a connection for the whole timeout |
//! | `budget.success_refund` | 1 | a first-try success refills slowly |

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// How a retry delay is spread around the exponential curve.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Jitter {
    /// Exponential backoff without jitter: `min(max_delay, base_delay * 2^n)`.
    None,
    /// Uniform in `[0, min(max_delay, base_delay * 2^n)]`.
    #[default]
    Full,
    /// Half the exponential delay plus a uniform share of the other half.
    Equal,
    /// Uniform in `[base_delay, previous_delay * 3]`, capped by `max_delay`.
    Decorrelated,
}

impl Jitter {
    pub const ALL: [Jitter; 4] = [Jitter::None, Jitter::Full, Jitter::Equal, Jitter::Decorrelated];

    pub const fn name(self) -> &'static str {
        match self {
            Jitter::None => "none",
            Jitter::Full => "full",
            Jitter::Equal => "equal",
            Jitter::Decorrelated => "decorrelated",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RetryConfig {
    /// Attempts in all, the first call included. 1 means never retry.
    pub max_attempts: u32,
    /// Zero means retry at once (no backoff).
    pub base_delay: Duration,
    pub max_delay: Duration,
    pub jitter: Jitter,
    /// Cap on a `Retry-After` an agent sends.
    pub max_retry_after: Duration,
}

impl Default for RetryConfig {
    fn default() -> Self {
        RetryConfig {
            max_attempts: 4,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(10),
            jitter: Jitter::Full,
            max_retry_after: Duration::from_secs(30),
        }
    }
}

/// Slow successes counted like failures (off by default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlowCallConfig {
    /// A call that takes at least this long is slow.
    pub threshold: Duration,
    /// The share of slow calls in the window that opens the breaker.
    pub rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BreakerConfig {
    /// The share of failed calls in the window at which the breaker opens (0 < rate ≤ 1).
    pub failure_rate: f64,
    /// Number of most recent calls the failure rate is computed over.
    pub window: u32,
    /// No verdict until the window holds at least this many calls (≤ `window`).
    pub min_calls: u32,
    /// How long the breaker stays OPEN before it lets probes through.
    pub open_for: Duration,
    /// Trial calls admitted in HALF_OPEN; all must succeed to close.
    pub half_open_probes: u32,
    pub slow_call: Option<SlowCallConfig>,
}

impl Default for BreakerConfig {
    fn default() -> Self {
        BreakerConfig {
            failure_rate: 0.5,
            window: 20,
            min_calls: 10,
            open_for: Duration::from_secs(30),
            half_open_probes: 3,
            slow_call: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RateLimitConfig {
    /// Tokens added per second (> 0).
    pub per_second: f64,
    /// Bucket capacity: the largest burst admitted at once (≥ 1).
    pub burst: u32,
    /// A call waits at most this long for a token, then is rejected by the limiter.
    pub max_wait: Duration,
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        RateLimitConfig {
            per_second: 50.0,
            burst: 100,
            max_wait: Duration::from_secs(1),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeoutConfig {
    /// Upper bound on one agent call, from send to complete answer.
    pub call: Duration,
}

impl Default for TimeoutConfig {
    fn default() -> Self {
        TimeoutConfig {
            call: Duration::from_secs(5),
        }
    }
}

/// The retry budget, a token bucket in the manner of the AWS SDKs' retry quota.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BudgetConfig {
    pub capacity: u32,
    pub retry_cost: u32,
    pub timeout_cost: u32,
    pub success_refund: u32,
}

impl Default for BudgetConfig {
    fn default() -> Self {
        BudgetConfig {
            capacity: 500,
            retry_cost: 5,
            timeout_cost: 10,
            success_refund: 1,
        }
    }
}

/// Everything that governs calls to one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct PolicyConfig {
    pub retry: RetryConfig,
    pub breaker: BreakerConfig,
    pub rate_limit: RateLimitConfig,
    pub timeout: TimeoutConfig,
    pub budget: BudgetConfig,
}

/// An impossible policy value, named by its field path (`breaker.failure_rate`).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("invalid policy: `{field}` = {value}: {expected}")]
pub struct PolicyError {
    pub field: &'static str,
    pub value: String,
    pub expected: &'static str,
}

fn err(field: &'static str, value: impl std::fmt::Debug, expected: &'static str) -> PolicyError {
    PolicyError {
        field,
        value: format!("{value:?}"),
        expected,
    }
}

impl PolicyConfig {
    /// Checks every field; the first impossible value is returned with its field path.
    /// Nothing is clamped: a value either holds as given or is refused.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let r = &self.retry;
        if r.max_attempts == 0 {
            return Err(err(
                "retry.max_attempts",
                r.max_attempts,
                "at least 1 (the first call counts)",
            ));
        }
        if r.max_delay < r.base_delay {
            return Err(err("retry.max_delay", r.max_delay, "not below retry.base_delay"));
        }
        if r.jitter == Jitter::Decorrelated && r.base_delay.is_zero() {
            return Err(err(
                "retry.base_delay",
                r.base_delay,
                "above zero for decorrelated jitter",
            ));
        }
        let b = &self.breaker;
        if !(b.failure_rate > 0.0 && b.failure_rate <= 1.0) {
            return Err(err("breaker.failure_rate", b.failure_rate, "a share in (0, 1]"));
        }
        if b.window == 0 {
            return Err(err("breaker.window", b.window, "at least 1 call"));
        }
        if b.min_calls == 0 || b.min_calls > b.window {
            return Err(err(
                "breaker.min_calls",
                b.min_calls,
                "between 1 and breaker.window",
            ));
        }
        if b.open_for.is_zero() {
            return Err(err("breaker.open_for", b.open_for, "a duration above zero"));
        }
        if b.half_open_probes == 0 {
            return Err(err("breaker.half_open_probes", b.half_open_probes, "at least 1"));
        }
        if let Some(s) = &b.slow_call {
            if !(s.rate > 0.0 && s.rate <= 1.0) {
                return Err(err("breaker.slow_call.rate", s.rate, "a share in (0, 1]"));
            }
            if s.threshold.is_zero() {
                return Err(err(
                    "breaker.slow_call.threshold",
                    s.threshold,
                    "a duration above zero",
                ));
            }
        }
        let l = &self.rate_limit;
        if !(l.per_second.is_finite() && l.per_second > 0.0) {
            return Err(err("rate_limit.per_second", l.per_second, "a rate above zero"));
        }
        if l.burst == 0 {
            return Err(err("rate_limit.burst", l.burst, "at least 1"));
        }
        if self.timeout.call.is_zero() {
            return Err(err("timeout.call", self.timeout.call, "a duration above zero"));
        }
        let q = &self.budget;
        if q.capacity == 0 {
            return Err(err("budget.capacity", q.capacity, "at least 1"));
        }
        if q.retry_cost == 0 || q.timeout_cost == 0 {
            return Err(err(
                "budget.retry_cost",
                q.retry_cost.min(q.timeout_cost),
                "costs above zero",
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_are_valid() {
        PolicyConfig::default().validate().unwrap();
    }

    #[test]
    fn each_impossible_value_is_named() {
        type Mutation = fn(&mut PolicyConfig);
        let cases: Vec<(Mutation, &str)> = vec![
            (|p| p.retry.max_attempts = 0, "retry.max_attempts"),
            (
                |p| p.retry.max_delay = Duration::from_millis(1),
                "retry.max_delay",
            ),
            (|p| p.breaker.failure_rate = 1.5, "breaker.failure_rate"),
            (|p| p.breaker.failure_rate = 0.0, "breaker.failure_rate"),
            (|p| p.breaker.failure_rate = f64::NAN, "breaker.failure_rate"),
            (|p| p.breaker.min_calls = 50, "breaker.min_calls"),
            (|p| p.breaker.half_open_probes = 0, "breaker.half_open_probes"),
            (|p| p.rate_limit.per_second = 0.0, "rate_limit.per_second"),
            (|p| p.rate_limit.per_second = -3.0, "rate_limit.per_second"),
            (|p| p.rate_limit.burst = 0, "rate_limit.burst"),
            (|p| p.timeout.call = Duration::ZERO, "timeout.call"),
        ];
        for (mutate, field) in cases {
            let mut p = PolicyConfig::default();
            mutate(&mut p);
            let e = p.validate().unwrap_err();
            assert_eq!(e.field, field);
            assert!(e.to_string().contains(field), "{e}");
        }
    }
}
