//! The trade flow as a pure decision: from what the journal knows of a trade, the next step.
//!
//! Planning from the journaled state alone (never from where a task happened to be) is what
//! makes resuming after a crash the same code path as running the first time: a fresh trade
//! and a half-done one differ only in how many outputs their entries already hold.

use crate::agent::{AgentInput, AgentOutput};
use crate::domain::{ExceptionReason, ExceptionRequest, MatchResult, Outcome, Stage, TradeRecord};
use crate::journal::{JournalEntry, StageFailure};

/// What to do next for one trade.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Call `stage` with `input`; journal its output (or its failure) and plan again.
    Call { stage: Stage, input: AgentInput },
    /// The trade is done.
    Finish(Outcome),
}

/// Whether `output` is the kind of answer `stage` gives. A wrongly typed answer is a
/// protocol error of the call, not a result.
pub fn fits(stage: Stage, output: &AgentOutput) -> bool {
    output.fits(stage)
}

/// The first stage of the entry without a journaled output (the stage a resume starts at).
pub fn resume_stage(entry: &JournalEntry) -> Stage {
    match next_step(entry) {
        Step::Call { stage, .. } => stage,
        Step::Finish(_) => Stage::ExceptionManagement,
    }
}

/// The next step for a trade, given what its journal entry holds.
pub fn next_step(entry: &JournalEntry) -> Step {
    let doc = &entry.document;
    let record = match entry.outputs.get(&Stage::TradeExtraction) {
        Some(AgentOutput::Record(r)) => Some(r.clone()),
        _ => None,
    };

    if let Some(error) = entry.failures.get(&Stage::ExceptionManagement) {
        let failure = StageFailure {
            stage: Stage::ExceptionManagement,
            error: error.clone(),
        };
        return Step::Finish(dead_letter(entry, &failure));
    }
    // The earliest failed stage is the one that stopped the trade.
    if let Some((stage, error)) = entry.failures.iter().next() {
        let reason = ExceptionReason::StageFailed {
            stage: *stage,
            error: error.clone(),
        };
        return exception(entry, reason, record);
    }

    let Some(text) = entry.outputs.get(&Stage::PdfAdapter) else {
        return call(Stage::PdfAdapter, AgentInput::Document(doc.clone()));
    };
    let AgentOutput::Text(text) = text else {
        return wrong_type(entry, Stage::PdfAdapter, None);
    };
    let Some(record_out) = entry.outputs.get(&Stage::TradeExtraction) else {
        return call(Stage::TradeExtraction, AgentInput::Text(text.clone()));
    };
    let AgentOutput::Record(record) = record_out else {
        return wrong_type(entry, Stage::TradeExtraction, None);
    };
    let Some(matched) = entry.outputs.get(&Stage::TradeMatching) else {
        return call(Stage::TradeMatching, AgentInput::Record(record.clone()));
    };
    let reason = match matched {
        AgentOutput::Match(MatchResult::Matched) => return Step::Finish(Outcome::Matched),
        AgentOutput::Match(MatchResult::Mismatched { fields }) => ExceptionReason::Mismatch {
            fields: fields.clone(),
        },
        AgentOutput::Match(MatchResult::Unmatched) => ExceptionReason::Unmatched,
        _ => return wrong_type(entry, Stage::TradeMatching, Some(record.clone())),
    };
    exception(entry, reason, Some(record.clone()))
}

fn call(stage: Stage, input: AgentInput) -> Step {
    Step::Call { stage, input }
}

/// Hands the trade to exception management, or finishes with the case it already raised.
fn exception(entry: &JournalEntry, reason: ExceptionReason, record: Option<TradeRecord>) -> Step {
    match entry.outputs.get(&Stage::ExceptionManagement) {
        Some(AgentOutput::Case(case)) => Step::Finish(Outcome::Exception { case: case.clone() }),
        Some(_) => Step::Finish(dead_letter(
            entry,
            &StageFailure {
                stage: Stage::ExceptionManagement,
                error: "journaled output of the wrong type".to_string(),
            },
        )),
        None => call(
            Stage::ExceptionManagement,
            AgentInput::Exception(ExceptionRequest {
                trade: entry.trade(),
                reason,
                record,
            }),
        ),
    }
}

/// A journaled output of the wrong type can only come from a damaged journal (calls check
/// types before journaling); the stage counts as failed rather than being called forever.
fn wrong_type(entry: &JournalEntry, stage: Stage, record: Option<TradeRecord>) -> Step {
    let error = "protocol: journaled output of the wrong type".to_string();
    exception(entry, ExceptionReason::StageFailed { stage, error }, record)
}

fn dead_letter(entry: &JournalEntry, failure: &StageFailure) -> Outcome {
    Outcome::DeadLetter {
        reason: format!("{} failed: {}", failure.stage, failure.error),
        document: entry.document.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Date, ExceptionCase, Field, NormalisedText, Severity, Side, TradeDocument, TradeId};

    fn entry() -> JournalEntry {
        JournalEntry::new(TradeDocument {
            trade: TradeId(1),
            correlation_id: "c".into(),
            bytes: b"doc".to_vec(),
        })
    }

    fn record() -> TradeRecord {
        let d = Date {
            year: 2024,
            month: 1,
            day: 2,
        };
        TradeRecord {
            trade: TradeId(1),
            side: Side::Buy,
            counterparty: "CP".into(),
            instrument: "X".into(),
            notional_minor: 100,
            currency: "USD".into(),
            trade_date: d,
            settlement_date: d,
        }
    }

    fn case(reason: ExceptionReason) -> ExceptionCase {
        ExceptionCase {
            trade: TradeId(1),
            reason,
            severity: Severity::Low,
            queue: "q".into(),
        }
    }

    fn stage_of(step: &Step) -> Option<Stage> {
        match step {
            Step::Call { stage, .. } => Some(*stage),
            Step::Finish(_) => None,
        }
    }

    #[test]
    fn walks_the_stages_in_order_to_matched() {
        let mut e = entry();
        assert_eq!(
            next_step(&e),
            call(Stage::PdfAdapter, AgentInput::Document(e.document.clone()))
        );
        let text = NormalisedText {
            trade: TradeId(1),
            text: "t".into(),
        };
        e.outputs
            .insert(Stage::PdfAdapter, AgentOutput::Text(text.clone()));
        assert_eq!(
            next_step(&e),
            call(Stage::TradeExtraction, AgentInput::Text(text))
        );
        e.outputs
            .insert(Stage::TradeExtraction, AgentOutput::Record(record()));
        assert_eq!(
            next_step(&e),
            call(Stage::TradeMatching, AgentInput::Record(record()))
        );
        e.outputs
            .insert(Stage::TradeMatching, AgentOutput::Match(MatchResult::Matched));
        assert_eq!(next_step(&e), Step::Finish(Outcome::Matched));
    }

    #[test]
    fn mismatch_goes_to_exception_management_then_finishes_with_its_case() {
        let mut e = entry();
        e.outputs.insert(
            Stage::PdfAdapter,
            AgentOutput::Text(NormalisedText {
                trade: TradeId(1),
                text: "t".into(),
            }),
        );
        e.outputs
            .insert(Stage::TradeExtraction, AgentOutput::Record(record()));
        let fields = vec![Field::Notional];
        e.outputs.insert(
            Stage::TradeMatching,
            AgentOutput::Match(MatchResult::Mismatched {
                fields: fields.clone(),
            }),
        );
        let reason = ExceptionReason::Mismatch { fields };
        let expected = AgentInput::Exception(ExceptionRequest {
            trade: TradeId(1),
            reason: reason.clone(),
            record: Some(record()),
        });
        assert_eq!(next_step(&e), call(Stage::ExceptionManagement, expected));
        e.outputs.insert(
            Stage::ExceptionManagement,
            AgentOutput::Case(case(reason.clone())),
        );
        assert_eq!(
            next_step(&e),
            Step::Finish(Outcome::Exception { case: case(reason) })
        );
    }

    #[test]
    fn a_failed_stage_is_reported_with_the_record_when_known() {
        let mut e = entry();
        e.outputs.insert(
            Stage::PdfAdapter,
            AgentOutput::Text(NormalisedText {
                trade: TradeId(1),
                text: "t".into(),
            }),
        );
        e.outputs
            .insert(Stage::TradeExtraction, AgentOutput::Record(record()));
        e.failures.insert(Stage::TradeMatching, "timed out".into());
        let Step::Call {
            stage,
            input: AgentInput::Exception(req),
        } = next_step(&e)
        else {
            panic!("expected a call to exception management");
        };
        assert_eq!(stage, Stage::ExceptionManagement);
        assert_eq!(req.record, Some(record()));
        assert_eq!(
            req.reason,
            ExceptionReason::StageFailed {
                stage: Stage::TradeMatching,
                error: "timed out".into()
            }
        );
    }

    #[test]
    fn exception_management_failing_dead_letters_with_the_document() {
        let mut e = entry();
        e.failures.insert(Stage::TradeExtraction, "timed out".into());
        e.failures
            .insert(Stage::ExceptionManagement, "unavailable".into());
        let Step::Finish(Outcome::DeadLetter { reason, document }) = next_step(&e) else {
            panic!("expected a dead letter");
        };
        assert_eq!(document, e.document);
        assert!(
            reason.contains("exception-management") && reason.contains("unavailable"),
            "{reason}"
        );
    }

    #[test]
    fn wrongly_typed_journal_output_fails_the_stage_instead_of_looping() {
        let mut e = entry();
        e.outputs
            .insert(Stage::PdfAdapter, AgentOutput::Match(MatchResult::Matched));
        assert_eq!(stage_of(&next_step(&e)), Some(Stage::ExceptionManagement));
        assert_eq!(resume_stage(&e), Stage::ExceptionManagement);
    }

    #[test]
    fn fits_accepts_only_the_stage_output() {
        let out = AgentOutput::Match(MatchResult::Unmatched);
        assert!(fits(Stage::TradeMatching, &out));
        for stage in [
            Stage::PdfAdapter,
            Stage::TradeExtraction,
            Stage::ExceptionManagement,
        ] {
            assert!(!fits(stage, &out));
        }
    }
}
