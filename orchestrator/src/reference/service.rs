//! One reference agent as a request handler, with the idempotency every agent promises.
//!
//! The first request for an idempotency key does the work, applies the side effect and keeps
//! the answer; a repeat of the key gets the kept answer and changes nothing. The side effects
//! are the ones that make double application visible: matching consumes the counterparty's
//! confirmation (a confirmation matches at most one trade), exception management opens a case.
//! [`AgentService::applied`] counts applications per key so the simulation can check that
//! no key was ever applied twice; [`AgentService::set_idempotent`] switches the guarantee off
//! to plant exactly that defect.
//!
//! Rejections (wrong agent, wrong input type, unreadable document) are answers about the
//! request, not side effects: they are neither kept nor counted, and repeat identically.

use std::collections::{BTreeMap, BTreeSet};

use crate::agent::{AgentError, AgentInput, AgentOutput, AgentRequest};
use crate::domain::{ExceptionCase, IdempotencyKey, Stage, TradeId};
use crate::reference::{exceptions, extraction, generator::Generator, matching, pdf};

/// The status for a request that does not fit the agent (wrong agent, input type or trade).
pub const STATUS_BAD_REQUEST: u16 = 400;
/// The status for a well-formed request whose content cannot be processed.
pub const STATUS_UNPROCESSABLE: u16 = 422;

#[derive(Debug, Clone)]
pub struct AgentService {
    stage: Stage,
    generator: Generator,
    idempotent: bool,
    answers: BTreeMap<IdempotencyKey, AgentOutput>,
    applied: BTreeMap<IdempotencyKey, u32>,
    consumed: BTreeSet<TradeId>,
    cases: Vec<ExceptionCase>,
}

impl AgentService {
    pub fn new(stage: Stage, generator: Generator) -> AgentService {
        AgentService {
            stage,
            generator,
            idempotent: true,
            answers: BTreeMap::new(),
            applied: BTreeMap::new(),
            consumed: BTreeSet::new(),
            cases: Vec::new(),
        }
    }

    pub fn stage(&self) -> Stage {
        self.stage
    }

    /// How many times the work for each key was applied; ≤ 1 while idempotent.
    pub fn applied(&self) -> &BTreeMap<IdempotencyKey, u32> {
        &self.applied
    }

    /// Cases opened by exception management, in the order they were opened.
    pub fn cases(&self) -> &[ExceptionCase] {
        &self.cases
    }

    /// Trades whose confirmation matching has consumed.
    pub fn consumed(&self) -> &BTreeSet<TradeId> {
        &self.consumed
    }

    /// Turns the idempotency guarantee off (`false`) to plant a defect: repeated keys are
    /// worked again and their side effects applied again.
    pub fn set_idempotent(&mut self, idempotent: bool) {
        self.idempotent = idempotent;
    }

    /// Handles one request.
    pub fn handle(&mut self, req: &AgentRequest) -> Result<AgentOutput, AgentError> {
        self.check(req)?;
        if let Some(answer) = self.answers.get(&req.key).filter(|_| self.idempotent) {
            return Ok(answer.clone());
        }
        let output = self.work(req)?;
        *self.applied.entry(req.key).or_insert(0) += 1;
        self.answers.insert(req.key, output.clone());
        Ok(output)
    }

    fn check(&self, req: &AgentRequest) -> Result<(), AgentError> {
        let bad = |reason: String| {
            Err(AgentError::Rejected {
                status: STATUS_BAD_REQUEST,
                reason,
            })
        };
        if req.stage() != self.stage {
            return bad(format!("this is {}, not {}", self.stage, req.stage()));
        }
        let (kind, trade) = match &req.input {
            AgentInput::Document(d) => (Stage::PdfAdapter, d.trade),
            AgentInput::Text(t) => (Stage::TradeExtraction, t.trade),
            AgentInput::Record(r) => (Stage::TradeMatching, r.trade),
            AgentInput::Exception(e) => (Stage::ExceptionManagement, e.trade),
        };
        if kind != self.stage {
            return bad(format!("{} does not take the input of {}", self.stage, kind));
        }
        if trade != req.key.trade {
            return bad(format!("input is for trade {trade} but the key is {}", req.key));
        }
        Ok(())
    }

    fn work(&mut self, req: &AgentRequest) -> Result<AgentOutput, AgentError> {
        let unprocessable = |e: crate::reference::ReferenceError| AgentError::Rejected {
            status: STATUS_UNPROCESSABLE,
            reason: e.to_string(),
        };
        match &req.input {
            AgentInput::Document(doc) => pdf::normalise(doc).map(AgentOutput::Text).map_err(unprocessable),
            AgentInput::Text(text) => extraction::extract(text)
                .map(AgentOutput::Record)
                .map_err(unprocessable),
            AgentInput::Record(record) => {
                let confirmation = if self.consumed.contains(&record.trade) {
                    None
                } else {
                    self.generator.confirmation(record.trade)
                };
                if confirmation.is_some() {
                    self.consumed.insert(record.trade);
                }
                Ok(AgentOutput::Match(matching::match_trade(
                    record,
                    confirmation.as_ref(),
                )))
            }
            AgentInput::Exception(request) => {
                let case = exceptions::raise(request);
                self.cases.push(case.clone());
                Ok(AgentOutput::Case(case))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ExceptionReason, MatchResult};
    use crate::reference::generator::MismatchKind;

    fn generator() -> Generator {
        Generator::new(11, 0.0).expect("valid")
    }

    fn request(stage: Stage, trade: TradeId, input: AgentInput) -> AgentRequest {
        AgentRequest {
            key: IdempotencyKey { trade, stage },
            correlation_id: "c".into(),
            attempt: 1,
            input,
        }
    }

    /// Runs one trade through fresh services of all four stages.
    fn run_trade(g: Generator, trade: TradeId) -> MatchResult {
        let mut pdf = AgentService::new(Stage::PdfAdapter, g);
        let mut ext = AgentService::new(Stage::TradeExtraction, g);
        let mut mat = AgentService::new(Stage::TradeMatching, g);
        let Ok(AgentOutput::Text(text)) = pdf.handle(&request(
            Stage::PdfAdapter,
            trade,
            AgentInput::Document(g.document(trade)),
        )) else {
            panic!("pdf-adapter failed")
        };
        let Ok(AgentOutput::Record(record)) =
            ext.handle(&request(Stage::TradeExtraction, trade, AgentInput::Text(text)))
        else {
            panic!("extraction failed")
        };
        assert_eq!(record, g.booked(trade));
        let Ok(AgentOutput::Match(result)) =
            mat.handle(&request(Stage::TradeMatching, trade, AgentInput::Record(record)))
        else {
            panic!("matching failed")
        };
        result
    }

    #[test]
    fn expected_agrees_with_the_agents_for_many_trades() {
        let g = Generator::new(99, 0.4).expect("valid");
        let mut kinds = BTreeSet::new();
        for i in 0..600 {
            let trade = TradeId(i);
            assert_eq!(
                run_trade(g, trade),
                g.expected(trade),
                "trade {trade} ({:?})",
                g.mismatch(trade)
            );
            kinds.extend(g.mismatch(trade));
        }
        assert_eq!(
            kinds.len(),
            MismatchKind::ALL.len(),
            "every mismatch kind exercised"
        );
    }

    #[test]
    fn matching_applies_once_and_repeats_the_answer() {
        let g = generator();
        let trade = TradeId(3);
        let mut svc = AgentService::new(Stage::TradeMatching, g);
        let req = request(Stage::TradeMatching, trade, AgentInput::Record(g.booked(trade)));
        let first = svc.handle(&req).expect("ok");
        assert_eq!(first, AgentOutput::Match(MatchResult::Matched));
        let mut retry = req.clone();
        retry.attempt = 2;
        assert_eq!(svc.handle(&retry), Ok(first));
        assert_eq!(svc.applied().get(&req.key), Some(&1));
        assert!(svc.consumed().contains(&trade));
    }

    #[test]
    fn without_idempotency_repeats_reapply_and_find_nothing() {
        let g = generator();
        let trade = TradeId(3);
        let mut svc = AgentService::new(Stage::TradeMatching, g);
        svc.set_idempotent(false);
        let req = request(Stage::TradeMatching, trade, AgentInput::Record(g.booked(trade)));
        assert_eq!(svc.handle(&req), Ok(AgentOutput::Match(MatchResult::Matched)));
        assert_eq!(svc.handle(&req), Ok(AgentOutput::Match(MatchResult::Unmatched)));
        assert_eq!(svc.applied().get(&req.key), Some(&2));
    }

    #[test]
    fn exception_management_opens_one_case_per_key() {
        let g = generator();
        let mut svc = AgentService::new(Stage::ExceptionManagement, g);
        let req = request(
            Stage::ExceptionManagement,
            TradeId(4),
            AgentInput::Exception(crate::domain::ExceptionRequest {
                trade: TradeId(4),
                reason: ExceptionReason::Unmatched,
                record: None,
            }),
        );
        let a = svc.handle(&req).expect("ok");
        let b = svc.handle(&req).expect("ok");
        assert_eq!(a, b);
        assert_eq!(svc.cases().len(), 1);
        svc.set_idempotent(false);
        svc.handle(&req).expect("ok");
        assert_eq!(svc.cases().len(), 2);
        assert_eq!(svc.applied().get(&req.key), Some(&2));
    }

    #[test]
    fn wrong_input_is_400_and_unreadable_document_is_422() {
        let g = generator();
        let mut svc = AgentService::new(Stage::PdfAdapter, g);
        let trade = TradeId(1);
        let text = crate::domain::NormalisedText {
            trade,
            text: String::new(),
        };
        let wrong_type = request(Stage::PdfAdapter, trade, AgentInput::Text(text));
        assert!(matches!(
            svc.handle(&wrong_type),
            Err(AgentError::Rejected { status: 400, .. })
        ));
        let wrong_stage = request(Stage::TradeMatching, trade, AgentInput::Record(g.booked(trade)));
        assert!(matches!(
            svc.handle(&wrong_stage),
            Err(AgentError::Rejected { status: 400, .. })
        ));
        let mut doc = g.document(trade);
        let wrong_trade = request(Stage::PdfAdapter, TradeId(2), AgentInput::Document(doc.clone()));
        assert!(matches!(
            svc.handle(&wrong_trade),
            Err(AgentError::Rejected { status: 400, .. })
        ));
        doc.bytes.truncate(20);
        let garbage = request(Stage::PdfAdapter, trade, AgentInput::Document(doc));
        assert!(matches!(
            svc.handle(&garbage),
            Err(AgentError::Rejected { status: 422, .. })
        ));
        assert!(svc.applied().is_empty());
    }
}
