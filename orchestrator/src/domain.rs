//! The trade-matching domain: what flows through the four agents and how a trade ends.
//!
//! Amounts are integers in minor units (cents) so that matching compares exact values;
//! dates are ISO calendar dates kept as `(year, month, day)` so no clock or time zone
//! is involved anywhere in the domain.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Identifier of one trade, unique within a run. Ordered, so it can key ordered maps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TradeId(pub u64);

impl fmt::Display for TradeId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "T{:08}", self.0)
    }
}

/// The four agents of the pipeline, in the order a trade visits them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    PdfAdapter,
    TradeExtraction,
    TradeMatching,
    ExceptionManagement,
}

impl Stage {
    /// Every stage, in pipeline order.
    pub const ALL: [Stage; 4] = [
        Stage::PdfAdapter,
        Stage::TradeExtraction,
        Stage::TradeMatching,
        Stage::ExceptionManagement,
    ];

    /// The agent's name as it appears in scenario files, reports and Parameter Store paths.
    pub const fn name(self) -> &'static str {
        match self {
            Stage::PdfAdapter => "pdf-adapter",
            Stage::TradeExtraction => "trade-extraction",
            Stage::TradeMatching => "trade-matching",
            Stage::ExceptionManagement => "exception-management",
        }
    }

    /// Parses an agent name; `None` when it names no agent.
    pub fn from_name(name: &str) -> Option<Stage> {
        Stage::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Position in [`Stage::ALL`], handy for fixed-size per-agent arrays.
    pub const fn index(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The key that makes a call idempotent: an agent applies its side effect at most once per key,
/// and answers a repeated key with the answer it gave the first time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct IdempotencyKey {
    pub trade: TradeId,
    pub stage: Stage,
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.trade, self.stage)
    }
}

/// A calendar date, compared exactly.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

/// A raw trade document as submitted to the orchestrator: the bytes a PDF adapter would read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeDocument {
    pub trade: TradeId,
    /// Correlation id carried on every log event and agent call for this trade.
    pub correlation_id: String,
    pub bytes: Vec<u8>,
}

/// Text produced by the PDF adapter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormalisedText {
    pub trade: TradeId,
    pub text: String,
}

/// The structured trade extracted from a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TradeRecord {
    pub trade: TradeId,
    pub side: Side,
    pub counterparty: String,
    pub instrument: String,
    /// Notional in minor units of `currency`.
    pub notional_minor: i64,
    pub currency: String,
    pub trade_date: Date,
    pub settlement_date: Date,
}

/// The counterparty's own view of a trade, against which the trade record is matched.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    pub trade: TradeId,
    pub side: Side,
    pub counterparty: String,
    pub instrument: String,
    pub notional_minor: i64,
    pub currency: String,
    pub trade_date: Date,
    pub settlement_date: Date,
}

/// A field on which a trade record and its confirmation can disagree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Side,
    Counterparty,
    Instrument,
    Notional,
    Currency,
    TradeDate,
    SettlementDate,
}

/// What matching found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum MatchResult {
    Matched,
    /// The confirmation exists but disagrees on these fields (sorted, no repeats).
    Mismatched {
        fields: Vec<Field>,
    },
    /// No confirmation was found for the trade.
    Unmatched,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Low,
    Medium,
    High,
    Critical,
}

/// Why a trade was handed to exception management.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ExceptionReason {
    Mismatch {
        fields: Vec<Field>,
    },
    Unmatched,
    /// An earlier stage could not complete; `error` is the classified cause.
    StageFailed {
        stage: Stage,
        error: String,
    },
}

/// The request to exception management.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionRequest {
    pub trade: TradeId,
    pub reason: ExceptionReason,
    /// The record, when extraction got that far; it tells the desk notional and counterparty.
    pub record: Option<TradeRecord>,
}

/// A case raised by exception management.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExceptionCase {
    pub trade: TradeId,
    pub reason: ExceptionReason,
    pub severity: Severity,
    /// The operations queue the case is routed to.
    pub queue: String,
}

/// How a trade ended. Every submitted trade ends in exactly one of these.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    Matched,
    Exception {
        case: ExceptionCase,
    },
    /// Could not be processed at all; the reason and the original document are kept.
    DeadLetter {
        reason: String,
        document: TradeDocument,
    },
}

impl Outcome {
    /// The terminal state's name as used in reports: `matched`, `exception`, `dead_letter`.
    pub fn kind(&self) -> OutcomeKind {
        match self {
            Outcome::Matched => OutcomeKind::Matched,
            Outcome::Exception { .. } => OutcomeKind::Exception,
            Outcome::DeadLetter { .. } => OutcomeKind::DeadLetter,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    Matched,
    Exception,
    DeadLetter,
}

impl OutcomeKind {
    pub const fn name(self) -> &'static str {
        match self {
            OutcomeKind::Matched => "matched",
            OutcomeKind::Exception => "exception",
            OutcomeKind::DeadLetter => "dead_letter",
        }
    }
}
