//! Behaviour of the pipeline against a scripted in-process agent, under tokio's paused clock.

use std::cell::RefCell;
use std::collections::{BTreeMap, VecDeque};
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::*;
use crate::agent::{AgentError, AgentInput, AgentOutput, AgentRequest};
use crate::domain::{
    Date, ExceptionCase, ExceptionReason, Field, IdempotencyKey, MatchResult, NormalisedText, Severity, Side,
    TradeRecord,
};
use crate::event::Event;
use crate::journal::MemoryJournal;
use crate::resilience::Jitter;

/// What the fake agent does with one call.
#[derive(Debug, Clone)]
enum Behave {
    Answer,
    Fail(AgentError),
    Hang,
    WrongType,
}

/// An agent that answers correctly unless its per-stage script says otherwise; records calls.
#[derive(Default)]
struct Fake {
    script: RefCell<BTreeMap<Stage, VecDeque<Behave>>>,
    /// What a stage does once its script is used up (answers, by default).
    always: RefCell<BTreeMap<Stage, Behave>>,
    /// Trades whose confirmation disagrees.
    mismatched: Vec<u64>,
    latency: Duration,
    calls: RefCell<Vec<(Instant, AgentRequest)>>,
}

impl Fake {
    fn script(&self, stage: Stage, behaviours: impl IntoIterator<Item = Behave>) {
        self.script
            .borrow_mut()
            .entry(stage)
            .or_default()
            .extend(behaviours);
    }

    fn always(&self, stage: Stage, behave: Behave) {
        self.always.borrow_mut().insert(stage, behave);
    }

    fn calls_to(&self, stage: Stage) -> Vec<(Instant, AgentRequest)> {
        self.calls
            .borrow()
            .iter()
            .filter(|(_, r)| r.stage() == stage)
            .cloned()
            .collect()
    }

    fn answer(&self, input: &AgentInput) -> AgentOutput {
        match input {
            AgentInput::Document(d) => AgentOutput::Text(NormalisedText {
                trade: d.trade,
                text: String::from_utf8_lossy(&d.bytes).into_owned(),
            }),
            AgentInput::Text(t) => AgentOutput::Record(record(t.trade.0)),
            AgentInput::Record(r) if self.mismatched.contains(&r.trade.0) => {
                AgentOutput::Match(MatchResult::Mismatched {
                    fields: vec![Field::Notional],
                })
            }
            AgentInput::Record(_) => AgentOutput::Match(MatchResult::Matched),
            AgentInput::Exception(req) => AgentOutput::Case(ExceptionCase {
                trade: req.trade,
                reason: req.reason.clone(),
                severity: Severity::Medium,
                queue: "ops".into(),
            }),
        }
    }
}

impl AgentClient for Fake {
    async fn invoke(&self, request: AgentRequest) -> Result<AgentOutput, AgentError> {
        self.calls.borrow_mut().push((Instant::now(), request.clone()));
        let stage = request.stage();
        let scripted = self
            .script
            .borrow_mut()
            .get_mut(&stage)
            .and_then(VecDeque::pop_front);
        let behave = scripted
            .or_else(|| self.always.borrow().get(&stage).cloned())
            .unwrap_or(Behave::Answer);
        if !self.latency.is_zero() {
            tokio::time::sleep(self.latency).await;
        }
        match behave {
            Behave::Answer => Ok(self.answer(&request.input)),
            Behave::Fail(e) => Err(e),
            Behave::Hang => std::future::pending().await,
            Behave::WrongType => Ok(AgentOutput::Match(MatchResult::Unmatched)),
        }
    }
}

#[derive(Default)]
struct Recorder(RefCell<Vec<(Instant, Event)>>);

impl Observer for Recorder {
    fn on_event(&self, at: Instant, event: &Event) {
        self.0.borrow_mut().push((at, event.clone()));
    }
}

impl Recorder {
    fn events(&self) -> Vec<Event> {
        self.0.borrow().iter().map(|(_, e)| e.clone()).collect()
    }
}

fn record(trade: u64) -> TradeRecord {
    let d = Date {
        year: 2024,
        month: 3,
        day: 4,
    };
    TradeRecord {
        trade: TradeId(trade),
        side: Side::Sell,
        counterparty: "ACME".into(),
        instrument: "BOND".into(),
        notional_minor: 1_000_000,
        currency: "EUR".into(),
        trade_date: d,
        settlement_date: d,
    }
}

fn doc(trade: u64) -> TradeDocument {
    TradeDocument {
        trade: TradeId(trade),
        correlation_id: format!("corr-{trade}"),
        bytes: b"confirm".to_vec(),
    }
}

fn policy() -> PolicyConfig {
    let mut p = PolicyConfig::default();
    p.retry.max_attempts = 3;
    p.retry.base_delay = Duration::from_millis(100);
    p.retry.jitter = Jitter::None;
    p
}

type TestPipeline = Pipeline<Rc<Fake>, Arc<MemoryJournal>, Rc<Recorder>>;

fn pipeline_with(
    fake: &Rc<Fake>,
    journal: &Arc<MemoryJournal>,
    policy: PolicyConfig,
) -> (TestPipeline, Rc<Recorder>) {
    let rec = Rc::new(Recorder::default());
    let p = Pipeline::new(
        PipelineConfig::uniform(policy, 42),
        fake.clone(),
        journal.clone(),
        rec.clone(),
        Instant::now(),
    )
    .expect("valid policy");
    (p, rec)
}

fn unavailable() -> Behave {
    Behave::Fail(AgentError::Unavailable { status: 503 })
}

#[tokio::test(start_paused = true)]
async fn happy_path_is_matched_and_journaled() {
    let fake = Rc::new(Fake::default());
    let journal = Arc::new(MemoryJournal::new());
    let (p, rec) = pipeline_with(&fake, &journal, policy());
    let outcome = p.submit(doc(1)).await;
    assert_eq!(outcome, Outcome::Matched);
    assert_eq!(journal.outcome(TradeId(1)), Some(Outcome::Matched));
    let stages: Vec<Stage> = fake.calls.borrow().iter().map(|(_, r)| r.stage()).collect();
    assert_eq!(
        stages,
        vec![Stage::PdfAdapter, Stage::TradeExtraction, Stage::TradeMatching]
    );
    assert!(
        fake.calls
            .borrow()
            .iter()
            .all(|(_, r)| r.correlation_id == "corr-1" && r.attempt == 1)
    );
    let events = rec.events();
    assert_eq!(events.first(), Some(&Event::Submitted { trade: TradeId(1) }));
    assert_eq!(
        events.last(),
        Some(&Event::Finished {
            trade: TradeId(1),
            outcome: crate::domain::OutcomeKind::Matched
        })
    );
    // Submitting again neither calls an agent nor finishes twice.
    assert_eq!(p.submit(doc(1)).await, Outcome::Matched);
    assert_eq!(fake.calls.borrow().len(), 3);
    assert_eq!(rec.events().len(), events.len());
}

#[tokio::test(start_paused = true)]
async fn mismatch_raises_an_exception_case() {
    let fake = Rc::new(Fake {
        mismatched: vec![7],
        ..Fake::default()
    });
    let journal = Arc::new(MemoryJournal::new());
    let (p, _rec) = pipeline_with(&fake, &journal, policy());
    let Outcome::Exception { case } = p.submit(doc(7)).await else {
        panic!("expected an exception")
    };
    assert_eq!(
        case.reason,
        ExceptionReason::Mismatch {
            fields: vec![Field::Notional]
        }
    );
    let em = fake.calls_to(Stage::ExceptionManagement);
    assert_eq!(em.len(), 1);
    let AgentInput::Exception(req) = &em[0].1.input else {
        panic!("wrong input")
    };
    assert_eq!(req.record, Some(record(7)));
}

#[tokio::test(start_paused = true)]
async fn a_stage_that_always_fails_ends_in_an_exception_naming_it() {
    let fake = Rc::new(Fake::default());
    fake.always(Stage::TradeExtraction, Behave::Fail(AgentError::Timeout));
    let journal = Arc::new(MemoryJournal::new());
    let (p, rec) = pipeline_with(&fake, &journal, policy());
    let Outcome::Exception { case } = p.submit(doc(3)).await else {
        panic!("expected an exception")
    };
    let ExceptionReason::StageFailed { stage, error } = &case.reason else {
        panic!("{:?}", case.reason)
    };
    assert_eq!(*stage, Stage::TradeExtraction);
    assert!(error.contains("timed out"), "{error}");
    assert_eq!(
        fake.calls_to(Stage::TradeExtraction).len(),
        3,
        "max_attempts calls"
    );
    assert!(fake.calls_to(Stage::TradeMatching).is_empty());
    assert!(rec.events().iter().any(|e| matches!(
        e,
        Event::GaveUp { key, attempt: 3, why: crate::event::GiveUp::AttemptsExhausted }
            if key.stage == Stage::TradeExtraction
    )));
}

#[tokio::test(start_paused = true)]
async fn a_wrongly_typed_answer_is_a_protocol_failure_of_the_stage() {
    let fake = Rc::new(Fake::default());
    fake.always(Stage::PdfAdapter, Behave::WrongType);
    let journal = Arc::new(MemoryJournal::new());
    let (p, rec) = pipeline_with(&fake, &journal, policy());
    let Outcome::Exception { case } = p.submit(doc(4)).await else {
        panic!("expected an exception")
    };
    let ExceptionReason::StageFailed { stage, error } = &case.reason else {
        panic!("{:?}", case.reason)
    };
    assert_eq!(*stage, Stage::PdfAdapter);
    assert!(error.contains("protocol"), "{error}");
    assert!(rec.events().iter().any(|e| matches!(
        e,
        Event::CallFinished {
            error: Some(crate::agent::ErrorKind::Protocol),
            ..
        }
    )));
}

#[tokio::test(start_paused = true)]
async fn exception_management_failing_dead_letters_and_keeps_the_document() {
    let fake = Rc::new(Fake {
        mismatched: vec![5],
        ..Fake::default()
    });
    fake.always(Stage::ExceptionManagement, unavailable());
    let journal = Arc::new(MemoryJournal::new());
    let (p, rec) = pipeline_with(&fake, &journal, policy());
    let outcome = p.submit(doc(5)).await;
    let Outcome::DeadLetter { reason, document } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(document, &doc(5));
    assert!(reason.contains("exception-management"), "{reason}");
    assert_eq!(journal.outcome(TradeId(5)), Some(outcome.clone()));
    let finished = rec
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Finished { .. }))
        .count();
    assert_eq!(finished, 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_stage_then_a_failed_exception_management_dead_letters() {
    let fake = Rc::new(Fake::default());
    fake.always(Stage::TradeExtraction, unavailable());
    fake.always(Stage::ExceptionManagement, unavailable());
    let journal = Arc::new(MemoryJournal::new());
    let (p, _rec) = pipeline_with(&fake, &journal, policy());
    let outcome = p.submit(doc(6)).await;
    let Outcome::DeadLetter { document, .. } = &outcome else {
        panic!("{outcome:?}")
    };
    assert_eq!(document, &doc(6));
    assert_eq!(
        fake.calls_to(Stage::ExceptionManagement).len(),
        3,
        "one call sequence only"
    );
    let AgentInput::Exception(req) = &fake.calls_to(Stage::ExceptionManagement)[0].1.input else {
        panic!("wrong input")
    };
    assert!(matches!(
        req.reason,
        ExceptionReason::StageFailed {
            stage: Stage::TradeExtraction,
            ..
        }
    ));
}

#[tokio::test(start_paused = true)]
async fn retries_wait_the_backoff_delays() {
    let fake = Rc::new(Fake::default());
    fake.script(Stage::PdfAdapter, [unavailable(), unavailable()]);
    let journal = Arc::new(MemoryJournal::new());
    let (p, rec) = pipeline_with(&fake, &journal, policy());
    assert_eq!(p.submit(doc(1)).await, Outcome::Matched);

    let calls = fake.calls_to(Stage::PdfAdapter);
    assert_eq!(
        calls.iter().map(|(_, r)| r.attempt).collect::<Vec<_>>(),
        vec![1, 2, 3]
    );
    let delays: Vec<Duration> = rec
        .events()
        .iter()
        .filter_map(|e| match e {
            Event::RetryScheduled { delay, .. } => Some(*delay),
            _ => None,
        })
        .collect();
    // No jitter: the exponential curve from base_delay.
    assert_eq!(
        delays,
        vec![Duration::from_millis(100), Duration::from_millis(200)]
    );
    let gaps: Vec<Duration> = calls.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert_eq!(
        gaps, delays,
        "each retry is sent exactly its delay after the failure"
    );
}

#[tokio::test(start_paused = true)]
async fn a_hanging_call_times_out() {
    let fake = Rc::new(Fake::default());
    fake.script(Stage::TradeMatching, [Behave::Hang]);
    let journal = Arc::new(MemoryJournal::new());
    let mut pol = policy();
    pol.timeout.call = Duration::from_secs(2);
    let (p, rec) = pipeline_with(&fake, &journal, pol);
    let start = Instant::now();
    assert_eq!(p.submit(doc(1)).await, Outcome::Matched);
    assert!(rec.events().iter().any(|e| matches!(
        e,
        Event::CallFinished { error: Some(crate::agent::ErrorKind::Timeout), latency, .. }
            if *latency == Duration::from_secs(2)
    )));
    assert!(Instant::now() - start >= Duration::from_secs(2) + Duration::from_millis(100));
}

#[tokio::test(start_paused = true)]
async fn an_open_breaker_rejects_calls_without_reaching_the_agent() {
    let fake = Rc::new(Fake::default());
    fake.always(Stage::PdfAdapter, unavailable());
    let journal = Arc::new(MemoryJournal::new());
    let mut pol = policy();
    pol.retry.max_attempts = 1;
    pol.breaker.window = 4;
    pol.breaker.min_calls = 4;
    let (p, rec) = pipeline_with(&fake, &journal, pol);
    for t in 1..=4 {
        p.submit(doc(t)).await;
    }
    assert_eq!(p.breaker_state(Stage::PdfAdapter), BreakerState::Open);
    assert!(rec.events().iter().any(|e| matches!(
        e,
        Event::BreakerTransition {
            agent: Stage::PdfAdapter,
            to: BreakerState::Open,
            ..
        }
    )));
    let Outcome::Exception { case } = p.submit(doc(5)).await else {
        panic!("expected an exception")
    };
    let ExceptionReason::StageFailed { error, .. } = &case.reason else {
        panic!("{:?}", case.reason)
    };
    assert!(error.contains("breaker"), "{error}");
    assert_eq!(
        fake.calls_to(Stage::PdfAdapter).len(),
        4,
        "the fifth call never left"
    );
    assert!(rec.events().iter().any(|e| matches!(
        e,
        Event::RejectedByBreaker { key, state: BreakerState::Open, .. } if key.trade == TradeId(5)
    )));
}

#[tokio::test(start_paused = true)]
async fn a_probe_abandoned_mid_call_frees_its_half_open_slot() {
    let fake = Rc::new(Fake::default());
    fake.script(Stage::PdfAdapter, [unavailable(), unavailable(), Behave::Hang]);
    let journal = Arc::new(MemoryJournal::new());
    let mut pol = policy();
    pol.retry.max_attempts = 1;
    pol.breaker.window = 2;
    pol.breaker.min_calls = 2;
    pol.breaker.open_for = Duration::from_secs(1);
    pol.breaker.half_open_probes = 1;
    let (p, _rec) = pipeline_with(&fake, &journal, pol);
    p.submit(doc(1)).await;
    p.submit(doc(2)).await;
    assert_eq!(p.breaker_state(Stage::PdfAdapter), BreakerState::Open);
    tokio::time::sleep(Duration::from_secs(1)).await;
    // The probe hangs and its caller stops waiting for the trade.
    let abandoned = tokio::time::timeout(Duration::from_millis(100), p.submit(doc(3))).await;
    assert!(abandoned.is_err());
    assert_eq!(fake.calls_to(Stage::PdfAdapter).len(), 3);
    // The slot is free again: the next trade's call is a probe, not a rejection.
    assert_eq!(p.submit(doc(4)).await, Outcome::Matched);
    assert_eq!(fake.calls_to(Stage::PdfAdapter).len(), 4);
}

#[tokio::test(start_paused = true)]
async fn isolation_forces_the_breaker_open_until_released() {
    let fake = Rc::new(Fake::default());
    let journal = Arc::new(MemoryJournal::new());
    let mut pol = policy();
    pol.retry.max_attempts = 1;
    let (p, _rec) = pipeline_with(&fake, &journal, pol);
    p.force_open(Stage::TradeMatching, Instant::now());
    assert_eq!(p.breaker_state(Stage::TradeMatching), BreakerState::ForcedOpen);
    assert!(matches!(p.submit(doc(1)).await, Outcome::Exception { .. }));
    assert!(fake.calls_to(Stage::TradeMatching).is_empty());
    p.release(Stage::TradeMatching, Instant::now());
    assert_eq!(p.breaker_state(Stage::TradeMatching), BreakerState::Closed);
    assert_eq!(p.submit(doc(2)).await, Outcome::Matched);
}

#[tokio::test(start_paused = true)]
async fn a_crashed_pipeline_is_resumed_and_every_trade_finishes_once() {
    let journal = Arc::new(MemoryJournal::new());
    let before = Rc::new(Fake {
        latency: Duration::from_millis(30),
        mismatched: vec![2, 4],
        ..Fake::default()
    });
    before.script(Stage::TradeExtraction, [unavailable()]);
    let (p1, rec1) = pipeline_with(&before, &journal, policy());
    let p1 = Rc::new(p1);
    let local = tokio::task::LocalSet::new();
    for t in 1..=6 {
        let p = p1.clone();
        local.spawn_local(async move { p.submit(doc(t)).await });
    }
    // Crash mid-flight: every task and the pipeline itself are dropped.
    local
        .run_until(tokio::time::sleep(Duration::from_millis(75)))
        .await;
    drop(local);
    drop(p1);

    let pending = journal.unfinished();
    assert!(!pending.is_empty(), "the crash came mid-flight");
    let journaled: Vec<IdempotencyKey> = pending
        .iter()
        .flat_map(|e| {
            e.outputs.keys().map(move |s| IdempotencyKey {
                trade: e.trade(),
                stage: *s,
            })
        })
        .collect();
    assert!(!journaled.is_empty(), "some stages completed before the crash");
    let attempts_before: BTreeMap<IdempotencyKey, u32> = Stage::ALL
        .iter()
        .flat_map(|s| {
            (1..=6).map(move |t| IdempotencyKey {
                trade: TradeId(t),
                stage: *s,
            })
        })
        .map(|k| (k, journal.attempts(k)))
        .collect();

    let after = Rc::new(Fake {
        mismatched: vec![2, 4],
        ..Fake::default()
    });
    let (p2, rec2) = pipeline_with(&after, &journal, policy());
    for entry in p2.unfinished() {
        p2.resume(entry).await;
    }

    let outcomes = journal.outcomes();
    assert_eq!(
        outcomes.iter().map(|(t, _)| t.0).collect::<Vec<_>>(),
        vec![1, 2, 3, 4, 5, 6]
    );
    assert!(journal.unfinished().is_empty());
    for (t, o) in &outcomes {
        let want = if [2, 4].contains(&t.0) {
            crate::domain::OutcomeKind::Exception
        } else {
            crate::domain::OutcomeKind::Matched
        };
        assert_eq!(o.kind(), want, "trade {t}");
    }
    let finished: Vec<TradeId> = rec1
        .events()
        .into_iter()
        .chain(rec2.events())
        .filter_map(|e| match e {
            Event::Finished { trade, .. } => Some(trade),
            _ => None,
        })
        .collect();
    let mut sorted = finished.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(finished.len(), 6, "one Finished per trade across both lives");
    assert_eq!(sorted.len(), 6);
    let resumed = rec2
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Resumed { .. }))
        .count();
    assert_eq!(resumed, pending.len());

    for (_, req) in after.calls.borrow().iter() {
        assert!(
            !journaled.contains(&req.key),
            "{} was called again after its output was journaled",
            req.key
        );
        assert_eq!(
            req.attempt,
            attempts_before[&req.key] + 1,
            "attempts continue for {}",
            req.key
        );
    }
    assert!(
        after.calls.borrow().iter().any(|(_, r)| r.attempt > 1),
        "some call was in flight at the crash, so its key resumes past attempt 1"
    );
}

#[tokio::test(start_paused = true)]
async fn resuming_a_finished_trade_returns_its_outcome_without_finishing_again() {
    let fake = Rc::new(Fake::default());
    let journal = Arc::new(MemoryJournal::new());
    let (p, rec) = pipeline_with(&fake, &journal, policy());
    journal.begin(&doc(9));
    let entry = journal.entry(TradeId(9)).unwrap();
    assert_eq!(
        p.submit(doc(9)).await,
        Outcome::Matched,
        "a known unfinished trade is driven on"
    );
    let calls = fake.calls.borrow().len();
    assert_eq!(p.resume(entry).await, Outcome::Matched);
    assert_eq!(fake.calls.borrow().len(), calls);
    let finished = rec
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Finished { .. }))
        .count();
    assert_eq!(finished, 1);
}

#[test]
fn an_impossible_policy_is_refused() {
    let mut pol = PolicyConfig::default();
    pol.retry.max_attempts = 0;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()
        .unwrap();
    let _guard = rt.enter();
    let r = Pipeline::new(
        PipelineConfig::uniform(pol, 1),
        Fake::default(),
        MemoryJournal::new(),
        crate::event::NoObserver,
        Instant::now(),
    );
    assert_eq!(r.err().map(|e| e.field), Some("retry.max_attempts"));
}
