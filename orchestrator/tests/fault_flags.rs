//! The fault-flag decorator against the simulation's fault semantics: for the same flag, seed,
//! idempotency key and attempt, the decorator produces what the simulation's agent host would
//! (via `decide` + `call_rng`, then the HTTP wire), and it honours enablement, TTL and expiry.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use gameday_orchestrator::agent::{AgentClient, AgentError, AgentInput, AgentOutput, AgentRequest};
use gameday_orchestrator::config::MemoryConfigSource;
use gameday_orchestrator::domain::{IdempotencyKey, NormalisedText, Stage, TradeDocument, TradeId};
use gameday_orchestrator::fault_flags::{FaultFlag, FaultFlagClient, FaultFlagConfig, ManualWallClock};
use gameday_orchestrator::faults::{AgentFault, Effect, call_rng, decide};
use gameday_orchestrator::http::wire::classify;
use tokio::time::Instant;

const NOW_MS: u64 = 1_700_000_000_000;
const CALL_TIMEOUT: Duration = Duration::from_secs(5);

/// The agent itself: always answers (with the PDF adapter's kind of output), counting calls.
#[derive(Default)]
struct Echo {
    calls: Cell<u32>,
}

impl AgentClient for Echo {
    async fn invoke(&self, request: AgentRequest) -> Result<AgentOutput, AgentError> {
        self.calls.set(self.calls.get() + 1);
        Ok(AgentOutput::Text(NormalisedText {
            trade: request.key.trade,
            text: "ok".into(),
        }))
    }
}

fn request(trade: u64, stage: Stage, attempt: u32) -> AgentRequest {
    let key = IdempotencyKey {
        trade: TradeId(trade),
        stage,
    };
    AgentRequest {
        key,
        correlation_id: format!("c-{trade}"),
        attempt,
        input: AgentInput::Document(TradeDocument {
            trade: TradeId(trade),
            correlation_id: format!("c-{trade}"),
            bytes: vec![1, 2, 3],
        }),
    }
}

fn config(enabled: bool, seed: u64) -> FaultFlagConfig {
    FaultFlagConfig {
        enabled,
        prefix: "/gameday/faults/".into(),
        ttl: Duration::from_secs(5),
        seed,
    }
}

fn flag(fault: AgentFault, expires_at: u64) -> String {
    serde_json::to_string(&FaultFlag { fault, expires_at }).unwrap()
}

/// What the caller observed: the error class (or `ok`) and how long it took.
#[derive(Debug, PartialEq)]
struct Observed {
    outcome: Result<(), (String, Option<Duration>)>,
    elapsed: Duration,
}

async fn observe(client: &impl AgentClient, req: AgentRequest) -> Observed {
    let start = Instant::now();
    let result = match tokio::time::timeout(CALL_TIMEOUT, client.invoke(req)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err((e.kind().name().to_string(), e.retry_after())),
        Err(_) => Err(("timeout".to_string(), None)),
    };
    Observed {
        outcome: result,
        elapsed: start.elapsed(),
    }
}

/// The simulation's side: the agent host decides with the same seeded RNG and answers over
/// HTTP (429 with `Retry-After` in whole seconds, the status, or a body that is not an
/// answer); the caller classifies that answer with the HTTP client's own classifier.
fn simulated(fault: &AgentFault, seed: u64, req: &AgentRequest) -> Observed {
    let mut rng = call_rng(seed, req.key, req.attempt);
    let verdict = decide(std::slice::from_ref(fault), &mut rng);
    // Tokio timers fire on whole milliseconds.
    let delay = Duration::from_millis(verdict.delay.as_nanos().div_ceil(1_000_000) as u64);
    let mut headers = http::HeaderMap::new();
    let ok_body = serde_json::to_vec(&AgentOutput::Text(NormalisedText {
        trade: req.key.trade,
        text: "ok".into(),
    }))
    .unwrap();
    let (status, body): (u16, Vec<u8>) = match verdict.effect {
        Effect::Pass => (200, ok_body),
        Effect::Throttle { retry_after } => {
            if let Some(d) = retry_after {
                let secs = d.as_secs() + u64::from(d.subsec_nanos() > 0);
                headers.insert(http::header::RETRY_AFTER, secs.into());
            }
            (429, Vec::new())
        }
        Effect::Error { status } => (status, Vec::new()),
        Effect::Hang => {
            return Observed {
                outcome: Err(("timeout".into(), None)),
                elapsed: delay + CALL_TIMEOUT,
            };
        }
        Effect::Malformed => (200, b"{\"garbage\":".to_vec()),
    };
    let status = http::StatusCode::from_u16(status).unwrap();
    let outcome = match classify(status, &headers, &body, req.stage()) {
        Ok(_) => Ok(()),
        Err(e) => Err((e.kind().name().to_string(), e.retry_after())),
    };
    Observed {
        outcome,
        elapsed: delay,
    }
}

fn faults() -> Vec<AgentFault> {
    vec![
        AgentFault::Throttle {
            rate: 0.5,
            retry_after: Some(Duration::from_millis(1500)),
        },
        AgentFault::Throttle {
            rate: 0.9,
            retry_after: None,
        },
        AgentFault::Error {
            rate: 0.4,
            status: 503,
        },
        AgentFault::Error {
            rate: 1.0,
            status: 500,
        },
        AgentFault::Error {
            rate: 0.7,
            status: 504,
        },
        AgentFault::Error {
            rate: 0.5,
            status: 403,
        },
        AgentFault::Error {
            rate: 0.5,
            status: 418,
        },
        AgentFault::Latency {
            delay: Duration::from_millis(800),
            jitter: Duration::from_millis(200),
        },
        AgentFault::Hang { rate: 0.3 },
        AgentFault::Malformed { rate: 0.6 },
    ]
}

#[tokio::test(start_paused = true)]
async fn same_flag_same_behaviour_as_the_simulation() {
    for fault in faults() {
        for seed in [1u64, 42, 9_001] {
            let source = MemoryConfigSource::new();
            source.set(
                "/gameday/faults/pdf-adapter",
                flag(fault.clone(), NOW_MS + 60_000),
            );
            let clock = ManualWallClock::new(NOW_MS);
            let echo = Echo::default();
            let client = FaultFlagClient::new(&echo, &source, &clock, config(true, seed));
            let mut hits = 0;
            for trade in 0..40u64 {
                for attempt in 1..=2 {
                    let req = request(trade, Stage::PdfAdapter, attempt);
                    let expected = simulated(&fault, seed, &req);
                    let observed = observe(&client, req).await;
                    assert_eq!(
                        observed, expected,
                        "{fault:?} seed {seed} trade {trade} attempt {attempt}"
                    );
                    hits += usize::from(observed.outcome.is_err() || !observed.elapsed.is_zero());
                }
            }
            // The comparison has teeth: every fault here affects some of the 80 calls.
            assert!(hits > 0, "{fault:?} never fired");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn disabled_decorator_reads_nothing_and_injects_nothing() {
    let source = MemoryConfigSource::new();
    source.set(
        "/gameday/faults/pdf-adapter",
        flag(
            AgentFault::Error {
                rate: 1.0,
                status: 503,
            },
            NOW_MS + 60_000,
        ),
    );
    let clock = ManualWallClock::new(NOW_MS);
    let echo = Echo::default();
    let client = FaultFlagClient::new(&echo, &source, &clock, config(false, 1));
    for trade in 0..10 {
        assert!(client.invoke(request(trade, Stage::PdfAdapter, 1)).await.is_ok());
    }
    assert_eq!(source.reads(), 0);
    assert_eq!(echo.calls.get(), 10);
}

#[tokio::test(start_paused = true)]
async fn flags_are_cached_for_the_ttl_then_reread() {
    let source = MemoryConfigSource::new();
    let clock = ManualWallClock::new(NOW_MS);
    let echo = Echo::default();
    let client = FaultFlagClient::new(&echo, &source, &clock, config(true, 1));
    assert!(client.invoke(request(1, Stage::TradeMatching, 1)).await.is_ok());
    source.set(
        "/gameday/faults/trade-matching",
        flag(
            AgentFault::Error {
                rate: 1.0,
                status: 503,
            },
            NOW_MS + 600_000,
        ),
    );
    // Still within the TTL: the cached "no flag" holds.
    tokio::time::advance(Duration::from_secs(4)).await;
    assert!(client.invoke(request(2, Stage::TradeMatching, 1)).await.is_ok());
    assert_eq!(source.reads(), 1);
    tokio::time::advance(Duration::from_secs(2)).await;
    let err = client
        .invoke(request(3, Stage::TradeMatching, 1))
        .await
        .unwrap_err();
    assert_eq!(err, AgentError::Unavailable { status: 503 });
    assert_eq!(source.reads(), 2);
    // Flags are per agent: another agent is read separately and unaffected.
    assert!(client.invoke(request(3, Stage::PdfAdapter, 1)).await.is_ok());
    assert_eq!(source.reads(), 3);
}

#[tokio::test(start_paused = true)]
async fn expired_and_unreadable_flags_inject_nothing() {
    let source = MemoryConfigSource::new();
    source.set(
        "/gameday/faults/trade-matching",
        flag(AgentFault::Malformed { rate: 1.0 }, NOW_MS + 1_000),
    );
    source.set("/gameday/faults/pdf-adapter", "{not json");
    let clock = Arc::new(ManualWallClock::new(NOW_MS));
    let echo = Echo::default();
    let client = FaultFlagClient::new(&echo, &source, clock.clone(), config(true, 1));
    assert!(matches!(
        client.invoke(request(1, Stage::TradeMatching, 1)).await,
        Err(AgentError::Protocol(_))
    ));
    clock.advance(Duration::from_millis(1_000));
    assert!(client.invoke(request(2, Stage::TradeMatching, 1)).await.is_ok());
    assert!(client.invoke(request(2, Stage::PdfAdapter, 1)).await.is_ok());
}

#[tokio::test(start_paused = true)]
async fn hang_pends_until_the_callers_timeout() {
    let source = MemoryConfigSource::new();
    source.set(
        "/gameday/faults/exception-management",
        flag(AgentFault::Hang { rate: 1.0 }, NOW_MS + 600_000),
    );
    let clock = ManualWallClock::new(NOW_MS);
    let echo = Echo::default();
    let client = FaultFlagClient::new(&echo, &source, &clock, config(true, 1));
    let observed = observe(&client, request(1, Stage::ExceptionManagement, 1)).await;
    assert_eq!(observed.outcome, Err(("timeout".into(), None)));
    assert_eq!(observed.elapsed, CALL_TIMEOUT);
    assert_eq!(echo.calls.get(), 0);
}
