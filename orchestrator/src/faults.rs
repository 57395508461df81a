//! Agent-level fault semantics, shared by every place a fault is injected.
//!
//! The simulation's agent hosts and the orchestrator's fault-flag decorator (driven by
//! Parameter Store flags on a real game day) both decide what happens to a call with
//! [`decide`], so a throttle at rate 0.5 means the same thing in both worlds.

use std::time::Duration;

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};

use crate::domain::IdempotencyKey;

/// A fault as it is switched on for one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AgentFault {
    /// Answer 429 to `rate` of calls, with `Retry-After` when set.
    Throttle {
        rate: f64,
        #[serde(
            default,
            with = "crate::duration_text::option",
            skip_serializing_if = "Option::is_none"
        )]
        retry_after: Option<Duration>,
    },
    /// Answer `status` to `rate` of calls.
    Error { rate: f64, status: u16 },
    /// Delay every call by `delay` ± `jitter` (uniform).
    Latency {
        #[serde(with = "crate::duration_text")]
        delay: Duration,
        #[serde(with = "crate::duration_text")]
        jitter: Duration,
    },
    /// Never answer `rate` of calls.
    Hang { rate: f64 },
    /// Answer `rate` of calls with a body that is not a valid answer.
    Malformed { rate: f64 },
}

/// What happens to one call after its delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "effect", rename_all = "snake_case")]
pub enum Effect {
    Pass,
    Throttle { retry_after: Option<Duration> },
    Error { status: u16 },
    Hang,
    Malformed,
}

/// The decision for one call: wait `delay`, then apply `effect`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    pub delay: Duration,
    pub effect: Effect,
}

impl Verdict {
    pub const PASS: Verdict = Verdict {
        delay: Duration::ZERO,
        effect: Effect::Pass,
    };
}

/// Decides the fate of one call under the faults active for its agent.
///
/// Latency faults add up. Among the other faults, in the order given, the first whose draw
/// falls under its rate wins. Every fault draws exactly once whether or not an earlier one
/// already won, so the number of draws depends only on the active faults: seeding `rng` per
/// call (run seed, idempotency key, attempt) then gives each call the same fate wherever it
/// is decided.
pub fn decide(active: &[AgentFault], rng: &mut impl Rng) -> Verdict {
    let mut verdict = Verdict::PASS;
    for fault in active {
        let draw: f64 = rng.random();
        let hit = |rate: f64| draw < rate;
        let effect = match *fault {
            AgentFault::Latency { delay, jitter } => {
                let span = jitter.as_nanos().min(u64::MAX as u128 / 2) as u64;
                let offset = (draw * (2 * span) as f64) as u64;
                let nanos = (delay.as_nanos() as u64)
                    .saturating_add(offset)
                    .saturating_sub(span);
                verdict.delay = verdict.delay.saturating_add(Duration::from_nanos(nanos));
                continue;
            }
            AgentFault::Throttle { rate, retry_after } if hit(rate) => Effect::Throttle { retry_after },
            AgentFault::Error { rate, status } if hit(rate) => Effect::Error { status },
            AgentFault::Hang { rate } if hit(rate) => Effect::Hang,
            AgentFault::Malformed { rate } if hit(rate) => Effect::Malformed,
            _ => continue,
        };
        if verdict.effect == Effect::Pass {
            verdict.effect = effect;
        }
    }
    verdict
}

/// The RNG that decides one call's fate: seeded from the run's seed, the call's idempotency
/// key and its attempt number, and nothing else.
///
/// The simulation's agent hosts and the orchestrator's fault-flag decorator both seed
/// [`decide`] with this, so a given call meets the same fate in both worlds, whatever order
/// calls arrive in. The 32-byte seed lays the four inputs side by side, so distinct inputs
/// never share a stream.
pub fn call_rng(seed: u64, key: IdempotencyKey, attempt: u32) -> ChaCha8Rng {
    let mut bytes = [0u8; 32];
    bytes[0..8].copy_from_slice(&seed.to_le_bytes());
    bytes[8..16].copy_from_slice(&key.trade.0.to_le_bytes());
    bytes[16..20].copy_from_slice(&(key.stage.index() as u32).to_le_bytes());
    bytes[20..24].copy_from_slice(&attempt.to_le_bytes());
    ChaCha8Rng::from_seed(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Stage, TradeId};

    #[test]
    fn no_fault_passes() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        assert_eq!(decide(&[], &mut rng), Verdict::PASS);
    }

    #[test]
    fn rate_one_always_hits_and_rate_share_is_respected() {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let always = [AgentFault::Error {
            rate: 1.0,
            status: 503,
        }];
        for _ in 0..100 {
            assert_eq!(decide(&always, &mut rng).effect, Effect::Error { status: 503 });
        }
        let half = [AgentFault::Throttle {
            rate: 0.5,
            retry_after: None,
        }];
        let hits = (0..10_000)
            .filter(|_| decide(&half, &mut rng).effect != Effect::Pass)
            .count();
        assert!((4_700..5_300).contains(&hits), "{hits}");
    }

    #[test]
    fn latency_stays_within_jitter_and_combines_with_effects() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        let faults = [
            AgentFault::Latency {
                delay: Duration::from_millis(800),
                jitter: Duration::from_millis(200),
            },
            AgentFault::Hang { rate: 1.0 },
        ];
        for _ in 0..1000 {
            let v = decide(&faults, &mut rng);
            assert!(v.delay >= Duration::from_millis(600) && v.delay <= Duration::from_millis(1000));
            assert_eq!(v.effect, Effect::Hang);
        }
    }

    #[test]
    fn same_seed_same_verdicts() {
        let faults = [
            AgentFault::Malformed { rate: 0.3 },
            AgentFault::Error {
                rate: 0.3,
                status: 500,
            },
        ];
        let run = |seed| {
            let mut rng = ChaCha8Rng::seed_from_u64(seed);
            (0..50).map(|_| decide(&faults, &mut rng)).collect::<Vec<_>>()
        };
        assert_eq!(run(9), run(9));
        assert_ne!(run(9), run(10));
    }

    #[test]
    fn call_rng_depends_on_every_input() {
        let key = IdempotencyKey {
            trade: TradeId(5),
            stage: Stage::TradeMatching,
        };
        let first = |seed, key, attempt| call_rng(seed, key, attempt).next_u64();
        use rand_core::RngCore;
        let base = first(1, key, 1);
        assert_eq!(base, first(1, key, 1));
        assert_ne!(base, first(2, key, 1));
        assert_ne!(base, first(1, key, 2));
        assert_ne!(
            base,
            first(
                1,
                IdempotencyKey {
                    trade: TradeId(6),
                    ..key
                },
                1
            )
        );
        assert_ne!(
            base,
            first(
                1,
                IdempotencyKey {
                    stage: Stage::PdfAdapter,
                    ..key
                },
                1
            )
        );
    }

    #[test]
    fn flags_read_as_people_write_them() {
        let f = AgentFault::Throttle {
            rate: 0.5,
            retry_after: Some(Duration::from_secs(1)),
        };
        let text = serde_json::to_string(&f).unwrap();
        assert_eq!(text, r#"{"kind":"throttle","rate":0.5,"retry_after":"1s"}"#);
        assert_eq!(serde_json::from_str::<AgentFault>(&text).unwrap(), f);
        let l: AgentFault =
            serde_json::from_str(r#"{"kind":"latency","delay":"800ms","jitter":"1m 30s"}"#).unwrap();
        assert_eq!(
            l,
            AgentFault::Latency {
                delay: Duration::from_millis(800),
                jitter: Duration::from_secs(90)
            }
        );
        let none: AgentFault = serde_json::from_str(r#"{"kind":"throttle","rate":1.0}"#).unwrap();
        assert_eq!(
            none,
            AgentFault::Throttle {
                rate: 1.0,
                retry_after: None
            }
        );
        let bad = serde_json::from_str::<AgentFault>(r#"{"kind":"latency","delay":"soon","jitter":"0s"}"#);
        assert!(bad.unwrap_err().to_string().contains("expected a duration"));
    }
}
