//! Properties of the pipeline under an agent that fails arbitrarily.
//!
//! A proptest-generated fate sequence decides each agent call in arrival order: answer,
//! fail with one of the error classes, answer with the wrong output type, or hang past the
//! timeout. A batch of trades runs concurrently on a `LocalSet` under tokio's paused clock.
//! Whatever the fates, every trade ends exactly once, the journal agrees with what `submit`
//! returned, no stage is called again once its output is journaled, and every started call
//! is reported finished. A second property crashes the orchestrator at an arbitrary moment
//! and resumes from the journal: still nothing is lost, finished twice or called again.
//!
//! Case count: `GAMEDAY_PROPTEST_CASES` (default 256).

use std::cell::{Cell, RefCell};
use std::collections::BTreeMap;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use gameday_orchestrator::agent::{
    AgentClient, AgentError, AgentInput, AgentOutput, AgentRequest, ErrorKind,
};
use gameday_orchestrator::domain::{
    Date, ExceptionCase, Field, IdempotencyKey, MatchResult, NormalisedText, Outcome, Severity, Side, Stage,
    TradeDocument, TradeId, TradeRecord,
};
use gameday_orchestrator::event::{Event, Observer};
use gameday_orchestrator::journal::{Journal, MemoryJournal};
use gameday_orchestrator::pipeline::{Pipeline, PipelineConfig};
use gameday_orchestrator::resilience::{Jitter, PolicyConfig};
use proptest::prelude::*;
use tokio::time::Instant;

fn cases() -> u32 {
    std::env::var("GAMEDAY_PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

/// What one agent call does.
#[derive(Debug, Clone, Copy)]
enum Fate {
    Answer,
    Fail(ErrorKind),
    WrongType,
    Hang,
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        3 => Just(Fate::Answer),
        4 => proptest::sample::select(ErrorKind::ALL.to_vec()).prop_map(Fate::Fail),
        1 => Just(Fate::WrongType),
        1 => Just(Fate::Hang),
    ]
}

fn error_of(kind: ErrorKind) -> AgentError {
    match kind {
        ErrorKind::Throttled => AgentError::Throttled {
            retry_after: Some(Duration::from_millis(300)),
        },
        ErrorKind::Unavailable => AgentError::Unavailable { status: 503 },
        ErrorKind::Timeout => AgentError::Timeout,
        ErrorKind::Connect => AgentError::Connect("refused".into()),
        ErrorKind::Protocol => AgentError::Protocol("garbage".into()),
        ErrorKind::AccessDenied => AgentError::AccessDenied { status: 403 },
        ErrorKind::Rejected => AgentError::Rejected {
            status: 400,
            reason: "bad".into(),
        },
    }
}

/// Answers from the fate sequence (then correctly once it runs out), and checks at each
/// call that the journal does not already hold this stage's output.
struct FatefulAgent {
    fates: Vec<Fate>,
    next: Cell<usize>,
    mismatched: Vec<u64>,
    journal: Arc<MemoryJournal>,
    latency: Duration,
    invoked: RefCell<Vec<(IdempotencyKey, u32)>>,
    violations: RefCell<Vec<String>>,
}

impl FatefulAgent {
    fn answer(&self, input: &AgentInput) -> AgentOutput {
        let d = Date {
            year: 2025,
            month: 6,
            day: 30,
        };
        match input {
            AgentInput::Document(doc) => AgentOutput::Text(NormalisedText {
                trade: doc.trade,
                text: String::from_utf8_lossy(&doc.bytes).into_owned(),
            }),
            AgentInput::Text(t) => AgentOutput::Record(TradeRecord {
                trade: t.trade,
                side: Side::Buy,
                counterparty: "CP".into(),
                instrument: "IRS".into(),
                notional_minor: 500_000,
                currency: "GBP".into(),
                trade_date: d,
                settlement_date: d,
            }),
            AgentInput::Record(r) if self.mismatched.contains(&r.trade.0) => {
                AgentOutput::Match(MatchResult::Mismatched {
                    fields: vec![Field::Counterparty],
                })
            }
            AgentInput::Record(_) => AgentOutput::Match(MatchResult::Matched),
            AgentInput::Exception(req) => AgentOutput::Case(ExceptionCase {
                trade: req.trade,
                reason: req.reason.clone(),
                severity: Severity::High,
                queue: "desk".into(),
            }),
        }
    }
}

impl AgentClient for FatefulAgent {
    async fn invoke(&self, request: AgentRequest) -> Result<AgentOutput, AgentError> {
        let key = request.key;
        self.invoked.borrow_mut().push((key, request.attempt));
        let journaled = self.journal.outcome(key.trade).is_some()
            || self
                .journal
                .entry(key.trade)
                .is_some_and(|e| e.outputs.contains_key(&key.stage));
        if journaled {
            self.violations.borrow_mut().push(format!(
                "{key} attempt {} after its output was journaled",
                request.attempt
            ));
        }
        let i = self.next.get();
        self.next.set(i + 1);
        let fate = self.fates.get(i).copied().unwrap_or(Fate::Answer);
        tokio::time::sleep(self.latency).await;
        match fate {
            Fate::Answer => Ok(self.answer(&request.input)),
            Fate::Fail(kind) => Err(error_of(kind)),
            // A text is the wrong type for every stage but the first; there, a match result is.
            Fate::WrongType if key.stage == Stage::PdfAdapter => {
                Ok(AgentOutput::Match(MatchResult::Unmatched))
            }
            Fate::WrongType => Ok(AgentOutput::Text(NormalisedText {
                trade: key.trade,
                text: String::new(),
            })),
            Fate::Hang => std::future::pending().await,
        }
    }
}

#[derive(Default)]
struct Log(RefCell<Vec<(Instant, Event)>>);

impl Observer for Log {
    fn on_event(&self, at: Instant, event: &Event) {
        self.0.borrow_mut().push((at, event.clone()));
    }
}

#[derive(Debug, Clone)]
struct Case {
    fates: Vec<Fate>,
    trades: u64,
    mismatched: Vec<u64>,
    max_attempts: u32,
    jitter: Jitter,
    small_breaker: bool,
    seed: u64,
}

fn case() -> impl Strategy<Value = Case> {
    (
        proptest::collection::vec(fate(), 0..80),
        1u64..10,
        proptest::collection::vec(1u64..10, 0..4),
        1u32..5,
        proptest::sample::select(Jitter::ALL.to_vec()),
        any::<bool>(),
        any::<u64>(),
    )
        .prop_map(
            |(fates, trades, mismatched, max_attempts, jitter, small_breaker, seed)| Case {
                fates,
                trades,
                mismatched,
                max_attempts,
                jitter,
                small_breaker,
                seed,
            },
        )
}

fn policy(case: &Case) -> PolicyConfig {
    let mut p = PolicyConfig::default();
    p.retry.max_attempts = case.max_attempts;
    p.retry.jitter = case.jitter;
    p.retry.max_delay = Duration::from_secs(2);
    p.timeout.call = Duration::from_millis(500);
    if case.small_breaker {
        p.breaker.window = 4;
        p.breaker.min_calls = 2;
        p.breaker.open_for = Duration::from_secs(1);
        p.breaker.half_open_probes = 1;
    }
    p
}

struct Run {
    returned: BTreeMap<TradeId, Outcome>,
    journal: Arc<MemoryJournal>,
    agent: Rc<FatefulAgent>,
    events: Vec<(Instant, Event)>,
}

fn run(case: &Case) -> Run {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    let journal = Arc::new(MemoryJournal::new());
    let agent = Rc::new(FatefulAgent {
        fates: case.fates.clone(),
        next: Cell::new(0),
        mismatched: case.mismatched.clone(),
        journal: journal.clone(),
        latency: Duration::from_millis(20),
        invoked: RefCell::default(),
        violations: RefCell::default(),
    });
    let log = Rc::new(Log::default());
    let returned = rt.block_on(async {
        let pipeline = Rc::new(
            Pipeline::new(
                PipelineConfig::uniform(policy(case), case.seed),
                agent.clone(),
                journal.clone(),
                log.clone(),
                Instant::now(),
            )
            .expect("valid policy"),
        );
        let local = tokio::task::LocalSet::new();
        let handles: Vec<_> = (1..=case.trades)
            .map(|t| {
                let p = pipeline.clone();
                let doc = TradeDocument {
                    trade: TradeId(t),
                    correlation_id: format!("c{t}"),
                    bytes: b"trade".to_vec(),
                };
                local.spawn_local(async move { (TradeId(t), p.submit(doc).await) })
            })
            .collect();
        local
            .run_until(async {
                let mut out = BTreeMap::new();
                for h in handles {
                    let (t, o) = h.await.expect("trade task");
                    assert!(out.insert(t, o).is_none());
                }
                out
            })
            .await
    });
    let events = log.0.borrow().clone();
    Run {
        returned,
        journal,
        agent,
        events,
    }
}

/// A run that crashes after `crash_after` and resumes every unfinished trade in a new
/// pipeline over the same journal. Events of the two lives are kept apart.
struct CrashRun {
    journal: Arc<MemoryJournal>,
    agent: Rc<FatefulAgent>,
    first: Vec<(Instant, Event)>,
    second: Vec<(Instant, Event)>,
    resumed: BTreeMap<TradeId, Outcome>,
    pending_at_crash: usize,
}

fn crash_run(case: &Case, crash_after: Duration) -> CrashRun {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    let journal = Arc::new(MemoryJournal::new());
    let agent = Rc::new(FatefulAgent {
        fates: case.fates.clone(),
        next: Cell::new(0),
        mismatched: case.mismatched.clone(),
        journal: journal.clone(),
        latency: Duration::from_millis(20),
        invoked: RefCell::default(),
        violations: RefCell::default(),
    });
    let (log1, log2) = (Rc::new(Log::default()), Rc::new(Log::default()));
    let config = PipelineConfig::uniform(policy(case), case.seed);
    let (resumed, pending_at_crash) = rt.block_on(async {
        let first = Rc::new(
            Pipeline::new(
                config.clone(),
                agent.clone(),
                journal.clone(),
                log1.clone(),
                Instant::now(),
            )
            .expect("valid policy"),
        );
        let local = tokio::task::LocalSet::new();
        for t in 1..=case.trades {
            let p = first.clone();
            let doc = TradeDocument {
                trade: TradeId(t),
                correlation_id: format!("c{t}"),
                bytes: b"trade".to_vec(),
            };
            local.spawn_local(async move { p.submit(doc).await });
        }
        local.run_until(tokio::time::sleep(crash_after)).await;
        drop(local);
        drop(first);

        let second = Rc::new(
            Pipeline::new(
                config,
                agent.clone(),
                journal.clone(),
                log2.clone(),
                Instant::now(),
            )
            .expect("valid policy"),
        );
        let pending = second.unfinished();
        let count = pending.len();
        let local = tokio::task::LocalSet::new();
        let handles: Vec<_> = pending
            .into_iter()
            .map(|entry| {
                let p = second.clone();
                local.spawn_local(async move { (entry.trade(), p.resume(entry).await) })
            })
            .collect();
        let out = local
            .run_until(async {
                let mut out = BTreeMap::new();
                for h in handles {
                    let (t, o) = h.await.expect("resume task");
                    out.insert(t, o);
                }
                out
            })
            .await;
        (out, count)
    });
    let first = log1.0.borrow().clone();
    let second = log2.0.borrow().clone();
    CrashRun {
        journal,
        agent,
        first,
        second,
        resumed,
        pending_at_crash,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), ..ProptestConfig::default() })]

    #[test]
    fn every_trade_ends_exactly_once_whatever_the_agents_do(case in case()) {
        let r = run(&case);

        // One outcome per trade, and the journal holds exactly what submit returned.
        let ids: Vec<u64> = r.returned.keys().map(|t| t.0).collect();
        prop_assert_eq!(ids, (1..=case.trades).collect::<Vec<_>>());
        prop_assert_eq!(r.journal.outcomes(), r.returned.clone().into_iter().collect::<Vec<_>>());
        prop_assert!(r.journal.unfinished().is_empty());
        let mut finished: BTreeMap<TradeId, u32> = BTreeMap::new();
        for (_, e) in &r.events {
            if let Event::Finished { trade, outcome } = e {
                *finished.entry(*trade).or_default() += 1;
                prop_assert_eq!(*outcome, r.returned[trade].kind());
            }
        }
        prop_assert!(finished.values().all(|n| *n == 1), "{:?}", finished);
        prop_assert_eq!(finished.len() as u64, case.trades);

        // A dead letter keeps its document; a matched trade was matched by the agent.
        for (t, o) in &r.returned {
            if let Outcome::DeadLetter { document, .. } = o {
                prop_assert_eq!(document.trade, *t);
            }
            if *o == Outcome::Matched {
                prop_assert!(!case.mismatched.contains(&t.0));
            }
        }

        // No stage was called once its output was journaled.
        let violations = r.agent.violations.borrow();
        prop_assert!(violations.is_empty(), "{:?}", *violations);

        // CallStarted and CallFinished pair up, one each per (key, attempt), in that order,
        // and match what reached the agent.
        let mut open: BTreeMap<(IdempotencyKey, u32), Instant> = BTreeMap::new();
        let mut started = Vec::new();
        for (at, e) in &r.events {
            match e {
                Event::CallStarted { key, attempt } => {
                    prop_assert!(open.insert((*key, *attempt), *at).is_none(), "started twice");
                    started.push((*key, *attempt));
                }
                Event::CallFinished { key, attempt, latency, .. } => {
                    let since = open.remove(&(*key, *attempt));
                    prop_assert!(since.is_some(), "finished without start: {} {}", key, attempt);
                    prop_assert_eq!(*at - since.unwrap_or(*at), *latency);
                }
                _ => {}
            }
        }
        prop_assert!(open.is_empty(), "unfinished calls: {:?}", open);
        prop_assert_eq!(started, r.agent.invoked.borrow().clone());

        // Attempt numbers count up from 1 per key without gaps or repeats.
        let mut attempts: BTreeMap<IdempotencyKey, Vec<u32>> = BTreeMap::new();
        for (_, e) in &r.events {
            let attempt = match e {
                Event::CallStarted { key, attempt }
                | Event::RejectedByBreaker { key, attempt, .. }
                | Event::RejectedByLimiter { key, attempt } => Some((*key, *attempt)),
                _ => None,
            };
            if let Some((key, a)) = attempt {
                attempts.entry(key).or_default().push(a);
            }
        }
        for (key, seq) in attempts {
            prop_assert_eq!(seq.clone(), (1..=seq.len() as u32).collect::<Vec<_>>(), "{}", key);
            prop_assert!(seq.len() as u32 <= case.max_attempts, "{}: {:?}", key, seq);
        }
    }

    #[test]
    fn the_same_case_runs_the_same_way(case in case()) {
        let a = run(&case);
        let b = run(&case);
        prop_assert_eq!(&a.returned, &b.returned);
        prop_assert_eq!(a.events.len(), b.events.len());
        let strip = |r: &Run| r.events.iter().map(|(_, e)| format!("{e:?}")).collect::<Vec<_>>();
        prop_assert_eq!(strip(&a), strip(&b));
    }

    #[test]
    fn a_crash_at_any_moment_loses_and_duplicates_nothing(case in case(), crash_ms in 1u64..1500) {
        let r = crash_run(&case, Duration::from_millis(crash_ms));

        let outcomes = r.journal.outcomes();
        prop_assert_eq!(outcomes.iter().map(|(t, _)| t.0).collect::<Vec<_>>(), (1..=case.trades).collect::<Vec<_>>());
        prop_assert!(r.journal.unfinished().is_empty());
        prop_assert_eq!(r.resumed.len(), r.pending_at_crash);
        for (t, o) in &r.resumed {
            prop_assert_eq!(r.journal.outcome(*t), Some(o.clone()));
        }
        let mut finished: BTreeMap<TradeId, u32> = BTreeMap::new();
        for (_, e) in r.first.iter().chain(&r.second) {
            if let Event::Finished { trade, .. } = e {
                *finished.entry(*trade).or_default() += 1;
            }
        }
        prop_assert_eq!(finished.len() as u64, case.trades);
        prop_assert!(finished.values().all(|n| *n == 1), "{:?}", finished);
        let resumed_events = r.second.iter().filter(|(_, e)| matches!(e, Event::Resumed { .. })).count();
        prop_assert_eq!(resumed_events, r.pending_at_crash);

        let violations = r.agent.violations.borrow();
        prop_assert!(violations.is_empty(), "{:?}", *violations);

        // The resumed life pairs every call it starts.
        let mut open = BTreeMap::new();
        for (_, e) in &r.second {
            match e {
                Event::CallStarted { key, attempt } => { open.insert((*key, *attempt), ()); }
                Event::CallFinished { key, attempt, .. } => {
                    prop_assert!(open.remove(&(*key, *attempt)).is_some());
                }
                _ => {}
            }
        }
        prop_assert!(open.is_empty());

        // Attempt numbers keep counting up across the restart: never reused.
        let mut last: BTreeMap<IdempotencyKey, u32> = BTreeMap::new();
        for (key, attempt) in r.agent.invoked.borrow().iter() {
            if let Some(prev) = last.insert(*key, *attempt) {
                prop_assert!(*attempt > prev, "{} attempt {} after {}", key, attempt, prev);
            }
        }
    }
}
