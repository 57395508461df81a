//! The scenario file as written: serde types that keep the byte span of every key's value,
//! so that checks made after deserialization can still point at the offending text.
//!
//! Every key is optional here (defaults and required keys are decided in `parse`), and every
//! table refuses keys it does not define. The JSON Schema for editors is derived from these
//! same types, so the schema cannot drift from what the parser accepts.

use std::borrow::Cow;
use std::ops::Range;
use std::time::Duration;

use gameday_orchestrator::domain::Stage;
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A value together with the byte range of the source it was read from.
#[derive(Debug, Clone)]
pub(crate) struct Sp<T>(toml::Spanned<T>);

impl<T> Sp<T> {
    pub(crate) fn get(&self) -> &T {
        self.0.get_ref()
    }

    pub(crate) fn span(&self) -> Range<usize> {
        self.0.span()
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Sp<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        toml::Spanned::<T>::deserialize(d).map(Sp)
    }
}

/// The span is invisible in the file, so the schema is the inner value's.
impl<T: JsonSchema> JsonSchema for Sp<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

/// What a duration looks like, for messages and the schema.
pub(crate) const DURATION_EXPECTED: &str = r#"a duration such as "250ms" or "2m""#;

/// A duration written as a humantime string: `"250ms"`, `"30s"`, `"2m"`, `"1h30m"`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Dur(pub Duration);

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Dur;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(DURATION_EXPECTED)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Dur, E> {
                humantime::parse_duration(v)
                    .map(Dur)
                    .map_err(|_| E::custom(format!("expected {DURATION_EXPECTED}, found {v:?}")))
            }
        }
        d.deserialize_str(V)
    }
}

impl JsonSchema for Dur {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A duration: numbers with units (ns, us, ms, s, m, h, d), e.g. \"250ms\", \"30s\", \"2m\", \"1h30m\".",
            "pattern": r"^\s*[0-9]+\s*[a-zA-Zµ]+(\s*[0-9]+\s*[a-zA-Zµ]+)*\s*$",
            "examples": ["250ms", "30s", "2m", "1h30m"]
        })
    }
}

/// A whole scenario file.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "gameday scenario (format v1)")]
pub(crate) struct RawScenario {
    /// Short identifier of the scenario, shown in reports.
    pub name: Option<Sp<String>>,
    /// What the scenario rehearses, in a sentence.
    pub description: Option<Sp<String>>,
    /// The default seed of the run (0 to 2^63-1); `--seed` overrides it.
    pub seed: Option<Sp<u64>>,
    /// How long the workload submits trades; the run then drains.
    pub duration: Option<Sp<Dur>>,
    pub workload: Option<Sp<RawWorkload>>,
    pub policy: Option<Sp<RawPolicy>>,
    /// The faults, each active from `start` for `duration`.
    #[serde(rename = "fault")]
    pub faults: Option<Vec<Sp<RawFault>>>,
    pub expect: Option<Sp<RawExpect>>,
}

/// The trades submitted.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Workload")]
pub(crate) struct RawWorkload {
    /// Trades per second, Poisson arrivals (default 20).
    pub rate: Option<Sp<f64>>,
    /// Share of trades whose counterparty confirmation disagrees, 0 to 1 (default 0.1).
    pub mismatch_ratio: Option<Sp<f64>>,
}

/// The resilience policy applied to every agent; each table and key optional.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Policy")]
pub(crate) struct RawPolicy {
    pub retry: Option<Sp<RawRetry>>,
    pub breaker: Option<Sp<RawBreaker>>,
    pub rate_limit: Option<Sp<RawRateLimit>>,
    pub timeout: Option<Sp<RawTimeout>>,
    pub budget: Option<Sp<RawBudget>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Retry")]
pub(crate) struct RawRetry {
    /// Attempts in all, the first call included (default 4).
    pub max_attempts: Option<Sp<u32>>,
    /// Base of the exponential backoff (default "100ms").
    pub base_delay: Option<Sp<Dur>>,
    /// Cap on one backoff delay (default "10s").
    pub max_delay: Option<Sp<Dur>>,
    /// How delays are spread (default "full").
    pub jitter: Option<Sp<RawJitter>>,
    /// Cap on an agent's Retry-After (default "30s").
    pub max_retry_after: Option<Sp<Dur>>,
}

#[derive(Debug, Clone, Copy, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Jitter")]
pub(crate) enum RawJitter {
    None,
    Full,
    Equal,
    Decorrelated,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Breaker")]
pub(crate) struct RawBreaker {
    /// Share of failed calls in the window that opens the breaker, in (0, 1] (default 0.5).
    pub failure_rate: Option<Sp<f64>>,
    /// Calls the failure rate is computed over (default 20).
    pub window: Option<Sp<u32>>,
    /// Calls needed before any verdict, at most `window` (default 10).
    pub min_calls: Option<Sp<u32>>,
    /// How long the breaker stays open before probing (default "30s").
    pub open_for: Option<Sp<Dur>>,
    /// Trial calls in half-open; all must succeed to close (default 3).
    pub half_open_probes: Option<Sp<u32>>,
    /// Count slow successes like failures (off unless this table is present).
    pub slow_call: Option<Sp<RawSlowCall>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "SlowCall")]
pub(crate) struct RawSlowCall {
    /// A call at least this long is slow (required).
    pub threshold: Option<Sp<Dur>>,
    /// Share of slow calls in the window that opens the breaker, in (0, 1] (default 0.5).
    pub rate: Option<Sp<f64>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "RateLimit")]
pub(crate) struct RawRateLimit {
    /// Tokens added per second (default 50).
    pub per_second: Option<Sp<f64>>,
    /// Largest burst admitted at once (default 100).
    pub burst: Option<Sp<u32>>,
    /// Longest wait for a token before the limiter rejects the call (default "1s").
    pub max_wait: Option<Sp<Dur>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Timeout")]
pub(crate) struct RawTimeout {
    /// Upper bound on one agent call (default "5s").
    pub call: Option<Sp<Dur>>,
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Budget")]
pub(crate) struct RawBudget {
    /// Retry budget tokens (default 500).
    pub capacity: Option<Sp<u32>>,
    /// Tokens a retry costs (default 5).
    pub retry_cost: Option<Sp<u32>>,
    /// Tokens a retry after a timeout costs (default 10).
    pub timeout_cost: Option<Sp<u32>>,
    /// Tokens a first-try success refunds (default 1).
    pub success_refund: Option<Sp<u32>>,
}

/// One fault on the timeline. Which keys apply depends on `kind`.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Fault")]
pub(crate) struct RawFault {
    pub kind: Option<Sp<RawFaultKind>>,
    /// An agent, or "orchestrator" (crash only).
    #[serde(default)]
    #[schemars(schema_with = "target_schema")]
    pub target: Option<Sp<String>>,
    /// When the fault begins, from the start of the run.
    pub start: Option<Sp<Dur>>,
    /// How long the fault lasts.
    pub duration: Option<Sp<Dur>>,
    /// Share of calls affected, 0 to 1 (throttle, error, hang, malformed; default 1).
    pub rate: Option<Sp<f64>>,
    /// Retry-After sent with each 429 (throttle only; default none).
    pub retry_after: Option<Sp<Dur>>,
    /// HTTP status answered, 400–599 except 429 (error only; default 503).
    pub status: Option<Sp<u16>>,
    /// Added delay (latency only; required).
    pub delay: Option<Sp<Dur>>,
    /// Spread of the delay, at most `delay` (latency only; default "0s").
    pub jitter: Option<Sp<Dur>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "FaultKind")]
pub(crate) enum RawFaultKind {
    Throttle,
    Error,
    Latency,
    Hang,
    Malformed,
    Crash,
    Partition,
}

impl RawFaultKind {
    pub(crate) const ALL: [RawFaultKind; 7] = [
        RawFaultKind::Throttle,
        RawFaultKind::Error,
        RawFaultKind::Latency,
        RawFaultKind::Hang,
        RawFaultKind::Malformed,
        RawFaultKind::Crash,
        RawFaultKind::Partition,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            RawFaultKind::Throttle => "throttle",
            RawFaultKind::Error => "error",
            RawFaultKind::Latency => "latency",
            RawFaultKind::Hang => "hang",
            RawFaultKind::Malformed => "malformed",
            RawFaultKind::Crash => "crash",
            RawFaultKind::Partition => "partition",
        }
    }

    /// The kind-specific keys this kind takes, beyond kind/target/start/duration.
    pub(crate) fn keys(self) -> &'static [&'static str] {
        match self {
            RawFaultKind::Throttle => &["rate", "retry_after"],
            RawFaultKind::Error => &["rate", "status"],
            RawFaultKind::Latency => &["delay", "jitter"],
            RawFaultKind::Hang | RawFaultKind::Malformed => &["rate"],
            RawFaultKind::Crash | RawFaultKind::Partition => &[],
        }
    }
}

/// Expected outcome; each key optional.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(rename = "Expect")]
pub(crate) struct RawExpect {
    /// These agents' breakers must open at least once, and no other agent's.
    #[serde(default)]
    #[schemars(schema_with = "agents_schema")]
    pub breaker_opens: Option<Sp<Vec<Sp<String>>>>,
    /// MTTD bound: fault start → the target's breaker opens.
    pub detect_within: Option<Sp<Dur>>,
    /// MTTR bound: fault end → breaker closed and throughput back to 90 % of before.
    pub recover_within: Option<Sp<Dur>>,
    /// Bound on the end-to-end p99 latency per trade.
    pub p99_latency: Option<Sp<Dur>>,
    /// Bound on agent calls made / agent calls needed without faults (at least 1).
    pub max_amplification: Option<Sp<f64>>,
    /// Least share of trades that must end matched, 0 to 1.
    pub min_matched_ratio: Option<Sp<f64>>,
}

fn agent_names() -> Vec<&'static str> {
    Stage::ALL.iter().map(|s| s.name()).collect()
}

fn target_schema(_: &mut SchemaGenerator) -> Schema {
    let mut names = agent_names();
    names.push("orchestrator");
    json_schema!({ "type": "string", "enum": names, "description": "An agent, or \"orchestrator\" (crash only)." })
}

fn agents_schema(_: &mut SchemaGenerator) -> Schema {
    json_schema!({
        "type": "array",
        "items": { "type": "string", "enum": agent_names() },
        "description": "These agents' breakers must open at least once, and no other agent's."
    })
}
