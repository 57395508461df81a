//! The journal: the orchestrator's durable memory of every accepted trade.
//!
//! A trade is journaled before any agent sees it, each completed stage's output is journaled
//! as soon as it arrives, and the terminal outcome is journaled exactly once. A restarted
//! orchestrator reads [`Journal::unfinished`] and resumes each trade from the first stage
//! without an output, so an accepted trade is never lost and no stage whose answer is known
//! is ever called again. Attempt numbers are journaled too, so they keep counting across
//! restarts and an agent can tell a retry from a first call.
//!
//! Methods take `&self`: a journal is shared (behind an `Arc`) by every trade in flight and,
//! in the simulation, outlives the orchestrator host that crashes around it.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

use crate::agent::AgentOutput;
use crate::domain::{IdempotencyKey, Outcome, Stage, TradeDocument, TradeId};

/// A stage that gave up, as journaled: the trade goes on to exception management with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageFailure {
    pub stage: Stage,
    /// The classified cause, as it will appear in the exception reason.
    pub error: String,
}

/// What the journal knows of one unfinished trade: enough to resume it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JournalEntry {
    pub document: TradeDocument,
    /// Outputs of the stages that completed, by stage.
    pub outputs: BTreeMap<Stage, AgentOutput>,
    /// The stages that gave up, with their classified cause. At most one stage before
    /// exception management fails (a failure sends the trade there), and exception
    /// management itself may fail after it.
    pub failures: BTreeMap<Stage, String>,
}

impl JournalEntry {
    /// A freshly accepted trade: nothing done yet.
    pub fn new(document: TradeDocument) -> JournalEntry {
        JournalEntry {
            document,
            outputs: BTreeMap::new(),
            failures: BTreeMap::new(),
        }
    }

    pub fn trade(&self) -> TradeId {
        self.document.trade
    }
}

/// Durable progress of trades through the pipeline.
///
/// Every write is first-wins: a second `stage_done` for a stage keeps the first output, a
/// second `finish` is refused. That keeps a trade in exactly one terminal state even if two
/// orchestrator instances race on it.
pub trait Journal {
    /// Records an accepted trade. `false` if the trade was already known (finished or not).
    fn begin(&self, document: &TradeDocument) -> bool;

    /// Records a stage's output. `false` if the trade is unknown or finished, or the stage's
    /// output was already recorded (the first one is kept).
    fn stage_done(&self, trade: TradeId, stage: Stage, output: &AgentOutput) -> bool;

    /// Records that a stage gave up. `false` if the trade is unknown or finished, or that
    /// stage's failure was already recorded (the first one is kept).
    fn stage_failed(&self, trade: TradeId, failure: &StageFailure) -> bool;

    /// Attempts made so far for this key, across restarts (0 if none).
    fn attempts(&self, key: IdempotencyKey) -> u32;

    /// Counts one more attempt for this key and returns its number (1 for the first).
    fn note_attempt(&self, key: IdempotencyKey) -> u32;

    /// Records the terminal outcome. `false` if the trade is unknown or already finished:
    /// the first outcome stands.
    fn finish(&self, trade: TradeId, outcome: &Outcome) -> bool;

    /// The progress of one unfinished trade; `None` if unknown or finished.
    fn entry(&self, trade: TradeId) -> Option<JournalEntry>;

    /// Every unfinished trade, ordered by trade id.
    fn unfinished(&self) -> Vec<JournalEntry>;

    /// The outcome of a finished trade.
    fn outcome(&self, trade: TradeId) -> Option<Outcome>;

    /// Every finished trade's outcome, ordered by trade id.
    fn outcomes(&self) -> Vec<(TradeId, Outcome)>;
}

#[derive(Debug)]
enum Record {
    InFlight(JournalEntry),
    Finished(Outcome),
}

#[derive(Debug, Default)]
struct State {
    trades: BTreeMap<TradeId, Record>,
    attempts: BTreeMap<IdempotencyKey, u32>,
}

/// A journal in memory. Durable as long as the value lives: the simulation keeps it in an
/// `Arc` outside the orchestrator host, so it survives the host's crashes the way a disk would.
#[derive(Debug, Default)]
pub struct MemoryJournal {
    state: Mutex<State>,
}

impl MemoryJournal {
    pub fn new() -> MemoryJournal {
        MemoryJournal::default()
    }

    /// A poisoned lock only means another thread panicked mid-write; every write here is a
    /// single map operation, so the state is still consistent and is used as is.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn with_in_flight(&self, trade: TradeId, f: impl FnOnce(&mut JournalEntry) -> bool) -> bool {
        match self.lock().trades.get_mut(&trade) {
            Some(Record::InFlight(entry)) => f(entry),
            _ => false,
        }
    }
}

impl Journal for MemoryJournal {
    fn begin(&self, document: &TradeDocument) -> bool {
        let mut state = self.lock();
        if state.trades.contains_key(&document.trade) {
            return false;
        }
        state.trades.insert(
            document.trade,
            Record::InFlight(JournalEntry::new(document.clone())),
        );
        true
    }

    fn stage_done(&self, trade: TradeId, stage: Stage, output: &AgentOutput) -> bool {
        self.with_in_flight(trade, |entry| {
            if entry.outputs.contains_key(&stage) {
                return false;
            }
            entry.outputs.insert(stage, output.clone());
            true
        })
    }

    fn stage_failed(&self, trade: TradeId, failure: &StageFailure) -> bool {
        self.with_in_flight(trade, |entry| {
            if entry.failures.contains_key(&failure.stage) {
                return false;
            }
            entry.failures.insert(failure.stage, failure.error.clone());
            true
        })
    }

    fn attempts(&self, key: IdempotencyKey) -> u32 {
        self.lock().attempts.get(&key).copied().unwrap_or(0)
    }

    fn note_attempt(&self, key: IdempotencyKey) -> u32 {
        let mut state = self.lock();
        let n = state.attempts.entry(key).or_insert(0);
        *n = n.saturating_add(1);
        *n
    }

    fn finish(&self, trade: TradeId, outcome: &Outcome) -> bool {
        let mut state = self.lock();
        match state.trades.get_mut(&trade) {
            Some(record @ Record::InFlight(_)) => {
                *record = Record::Finished(outcome.clone());
                true
            }
            _ => false,
        }
    }

    fn entry(&self, trade: TradeId) -> Option<JournalEntry> {
        match self.lock().trades.get(&trade) {
            Some(Record::InFlight(entry)) => Some(entry.clone()),
            _ => None,
        }
    }

    fn unfinished(&self) -> Vec<JournalEntry> {
        let state = self.lock();
        state
            .trades
            .values()
            .filter_map(|r| match r {
                Record::InFlight(entry) => Some(entry.clone()),
                Record::Finished(_) => None,
            })
            .collect()
    }

    fn outcome(&self, trade: TradeId) -> Option<Outcome> {
        match self.lock().trades.get(&trade) {
            Some(Record::Finished(outcome)) => Some(outcome.clone()),
            _ => None,
        }
    }

    fn outcomes(&self) -> Vec<(TradeId, Outcome)> {
        let state = self.lock();
        state
            .trades
            .iter()
            .filter_map(|(id, r)| match r {
                Record::Finished(outcome) => Some((*id, outcome.clone())),
                Record::InFlight(_) => None,
            })
            .collect()
    }
}

macro_rules! forward_journal {
    ($($ty:ty),*) => {$(
        impl<T: Journal + ?Sized> Journal for $ty {
            fn begin(&self, document: &TradeDocument) -> bool { (**self).begin(document) }
            fn stage_done(&self, trade: TradeId, stage: Stage, output: &AgentOutput) -> bool {
                (**self).stage_done(trade, stage, output)
            }
            fn stage_failed(&self, trade: TradeId, failure: &StageFailure) -> bool {
                (**self).stage_failed(trade, failure)
            }
            fn attempts(&self, key: IdempotencyKey) -> u32 { (**self).attempts(key) }
            fn note_attempt(&self, key: IdempotencyKey) -> u32 { (**self).note_attempt(key) }
            fn finish(&self, trade: TradeId, outcome: &Outcome) -> bool { (**self).finish(trade, outcome) }
            fn entry(&self, trade: TradeId) -> Option<JournalEntry> { (**self).entry(trade) }
            fn unfinished(&self) -> Vec<JournalEntry> { (**self).unfinished() }
            fn outcome(&self, trade: TradeId) -> Option<Outcome> { (**self).outcome(trade) }
            fn outcomes(&self) -> Vec<(TradeId, Outcome)> { (**self).outcomes() }
        }
    )*};
}

forward_journal!(&T, std::sync::Arc<T>, std::rc::Rc<T>);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::NormalisedText;

    fn doc(id: u64) -> TradeDocument {
        TradeDocument {
            trade: TradeId(id),
            correlation_id: format!("c-{id}"),
            bytes: vec![id as u8],
        }
    }

    fn text(id: u64, s: &str) -> AgentOutput {
        AgentOutput::Text(NormalisedText {
            trade: TradeId(id),
            text: s.to_string(),
        })
    }

    #[test]
    fn begin_is_once_per_trade() {
        let j = MemoryJournal::new();
        assert!(j.begin(&doc(1)));
        assert!(!j.begin(&doc(1)));
        assert!(j.finish(TradeId(1), &Outcome::Matched));
        assert!(!j.begin(&doc(1)), "a finished trade stays known");
    }

    #[test]
    fn stage_outputs_are_first_wins_and_survive_in_the_entry() {
        let j = MemoryJournal::new();
        assert!(
            !j.stage_done(TradeId(1), Stage::PdfAdapter, &text(1, "a")),
            "unknown trade"
        );
        j.begin(&doc(1));
        assert!(j.stage_done(TradeId(1), Stage::PdfAdapter, &text(1, "a")));
        assert!(!j.stage_done(TradeId(1), Stage::PdfAdapter, &text(1, "b")));
        let entry = j.entry(TradeId(1)).unwrap();
        assert_eq!(entry.outputs.get(&Stage::PdfAdapter), Some(&text(1, "a")));
        assert_eq!(entry.document, doc(1));
    }

    #[test]
    fn one_terminal_state_and_no_writes_after_it() {
        let j = MemoryJournal::new();
        j.begin(&doc(2));
        assert!(j.finish(TradeId(2), &Outcome::Matched));
        let dead = Outcome::DeadLetter {
            reason: "x".into(),
            document: doc(2),
        };
        assert!(!j.finish(TradeId(2), &dead));
        assert_eq!(j.outcome(TradeId(2)), Some(Outcome::Matched));
        assert!(!j.stage_done(TradeId(2), Stage::PdfAdapter, &text(2, "a")));
        let failure = StageFailure {
            stage: Stage::PdfAdapter,
            error: "e".into(),
        };
        assert!(!j.stage_failed(TradeId(2), &failure));
        assert!(j.entry(TradeId(2)).is_none());
        assert!(!j.finish(TradeId(9), &Outcome::Matched), "unknown trade");
    }

    #[test]
    fn unfinished_and_outcomes_are_ordered_by_trade() {
        let j = MemoryJournal::new();
        for id in [5, 1, 4, 2, 3] {
            j.begin(&doc(id));
        }
        j.finish(TradeId(4), &Outcome::Matched);
        j.finish(TradeId(2), &Outcome::Matched);
        let open: Vec<u64> = j.unfinished().iter().map(|e| e.trade().0).collect();
        assert_eq!(open, vec![1, 3, 5]);
        let done: Vec<u64> = j.outcomes().iter().map(|(t, _)| t.0).collect();
        assert_eq!(done, vec![2, 4]);
    }

    #[test]
    fn attempts_count_per_key() {
        let j = MemoryJournal::new();
        let k = IdempotencyKey {
            trade: TradeId(1),
            stage: Stage::TradeMatching,
        };
        let other = IdempotencyKey {
            trade: TradeId(1),
            stage: Stage::PdfAdapter,
        };
        assert_eq!(j.attempts(k), 0);
        assert_eq!(j.note_attempt(k), 1);
        assert_eq!(j.note_attempt(k), 2);
        assert_eq!(j.attempts(k), 2);
        assert_eq!(j.attempts(other), 0);
    }

    #[test]
    fn failures_are_recorded_once_per_stage() {
        let j = MemoryJournal::new();
        j.begin(&doc(1));
        let f = StageFailure {
            stage: Stage::TradeExtraction,
            error: "timed out".into(),
        };
        assert!(j.stage_failed(TradeId(1), &f));
        let again = StageFailure {
            stage: Stage::TradeExtraction,
            error: "other".into(),
        };
        assert!(!j.stage_failed(TradeId(1), &again));
        let em = StageFailure {
            stage: Stage::ExceptionManagement,
            error: "unavailable".into(),
        };
        assert!(
            j.stage_failed(TradeId(1), &em),
            "exception management may fail after a stage did"
        );
        let failures = j.entry(TradeId(1)).unwrap().failures;
        assert_eq!(
            failures.get(&Stage::TradeExtraction).map(String::as_str),
            Some("timed out")
        );
        assert_eq!(
            failures.get(&Stage::ExceptionManagement).map(String::as_str),
            Some("unavailable")
        );
    }

    #[test]
    fn shareable_across_threads() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<MemoryJournal>();
        assert_send_sync::<std::sync::Arc<MemoryJournal>>();
    }
}
