//! The reference agents' error: what was wrong with a document or an argument, and where.

use thiserror::Error;

/// Why a reference agent could not do its work. Line numbers are 1-based and count the lines
/// of the normalised text (for extraction) or of the document (for the PDF envelope).
#[derive(Debug, Clone, PartialEq, Error)]
#[non_exhaustive]
pub enum ReferenceError {
    #[error("document: {0}")]
    Envelope(String),
    #[error("document: declared stream length {declared} but the stream holds {actual} bytes")]
    LengthMismatch { declared: usize, actual: usize },
    #[error("document: the stream is not UTF-8 text")]
    NotText,
    #[error("missing field `{field}`")]
    MissingField { field: &'static str },
    #[error("line {line}: field `{field}` given twice")]
    DuplicateField { line: usize, field: &'static str },
    #[error("line {line}: field `{field}`: {reason} (found `{value}`)")]
    InvalidField {
        line: usize,
        field: &'static str,
        value: String,
        reason: String,
    },
    #[error("line {line}: the document is for trade {found}, not {expected}")]
    WrongTrade {
        line: usize,
        expected: String,
        found: String,
    },
    #[error("mismatch ratio must lie in [0, 1], got {0}")]
    InvalidMismatchRatio(f64),
}
