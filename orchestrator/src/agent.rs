//! The `AgentClient` boundary: how the pipeline talks to one agent, whatever carries the call.
//!
//! The pipeline is generic over this trait, never over a mock of it: production speaks HTTP
//! over tokio TCP, the simulation speaks the same HTTP over turmoil TCP, the fast property
//! engine calls the reference agents in-process, and decorators (fault flags) wrap any of them.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::domain::{
    ExceptionCase, ExceptionRequest, IdempotencyKey, MatchResult, NormalisedText, Stage, TradeDocument,
    TradeRecord,
};

/// What the pipeline sends to an agent. The variant must fit the key's stage.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
pub enum AgentInput {
    Document(TradeDocument),
    Text(NormalisedText),
    Record(TradeRecord),
    Exception(ExceptionRequest),
}

/// What an agent answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload", rename_all = "snake_case")]
pub enum AgentOutput {
    Text(NormalisedText),
    Record(TradeRecord),
    Match(MatchResult),
    Case(ExceptionCase),
}

impl AgentOutput {
    /// Whether this is the kind of answer `stage` gives. A wrongly typed answer is a protocol
    /// error of the call, not a result.
    pub fn fits(&self, stage: Stage) -> bool {
        matches!(
            (stage, self),
            (Stage::PdfAdapter, AgentOutput::Text(_))
                | (Stage::TradeExtraction, AgentOutput::Record(_))
                | (Stage::TradeMatching, AgentOutput::Match(_))
                | (Stage::ExceptionManagement, AgentOutput::Case(_))
        )
    }
}

/// One call to one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentRequest {
    pub key: IdempotencyKey,
    pub correlation_id: String,
    /// 1 for the first attempt, counting up across retries (and across orchestrator restarts).
    pub attempt: u32,
    pub input: AgentInput,
}

impl AgentRequest {
    pub fn stage(&self) -> Stage {
        self.key.stage
    }
}

/// The classes every agent failure falls into. Each class carries two rules:
/// whether the pipeline retries it, and whether it counts against the agent's breaker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Throttled,
    Unavailable,
    Timeout,
    Connect,
    Protocol,
    AccessDenied,
    Rejected,
}

impl ErrorKind {
    pub const ALL: [ErrorKind; 7] = [
        ErrorKind::Throttled,
        ErrorKind::Unavailable,
        ErrorKind::Timeout,
        ErrorKind::Connect,
        ErrorKind::Protocol,
        ErrorKind::AccessDenied,
        ErrorKind::Rejected,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            ErrorKind::Throttled => "throttled",
            ErrorKind::Unavailable => "unavailable",
            ErrorKind::Timeout => "timeout",
            ErrorKind::Connect => "connect",
            ErrorKind::Protocol => "protocol",
            ErrorKind::AccessDenied => "access_denied",
            ErrorKind::Rejected => "rejected",
        }
    }

    /// Transient failures are retried: the same request may succeed a moment later.
    /// `access_denied` and `rejected` are answers about the request or the caller's rights;
    /// repeating the request cannot change them, so retrying would only add load.
    pub const fn is_retryable(self) -> bool {
        !matches!(self, ErrorKind::AccessDenied | ErrorKind::Rejected)
    }

    /// Failures that say the agent is unhealthy or overloaded count against its breaker.
    /// Throttling counts too: an agent shedding load is exactly what the breaker should stop
    /// hammering. A rejection or an access denial comes from a healthy agent and does not count.
    pub const fn counts_against_breaker(self) -> bool {
        self.is_retryable()
    }
}

/// A classified failure of one agent call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
#[non_exhaustive]
pub enum AgentError {
    /// The agent asked us to slow down (HTTP 429), perhaps saying for how long.
    #[error("throttled{}", .retry_after.map(|d| format!(" (retry after {d:?})")).unwrap_or_default())]
    Throttled { retry_after: Option<Duration> },
    /// The agent answered with a server error (5xx other than a timeout).
    #[error("unavailable (status {status})")]
    Unavailable { status: u16 },
    /// No answer within the call timeout.
    #[error("timed out")]
    Timeout,
    /// The connection could not be made or broke before an answer arrived.
    #[error("connect: {0}")]
    Connect(String),
    /// The answer could not be understood (bad status line, malformed or mistyped body).
    #[error("protocol: {0}")]
    Protocol(String),
    /// The agent refused our credentials (401/403): a security event, never retried.
    #[error("access denied (status {status})")]
    AccessDenied { status: u16 },
    /// The agent refused this request as invalid (other 4xx): retrying cannot help.
    #[error("rejected (status {status}): {reason}")]
    Rejected { status: u16, reason: String },
}

impl AgentError {
    pub fn kind(&self) -> ErrorKind {
        match self {
            AgentError::Throttled { .. } => ErrorKind::Throttled,
            AgentError::Unavailable { .. } => ErrorKind::Unavailable,
            AgentError::Timeout => ErrorKind::Timeout,
            AgentError::Connect(_) => ErrorKind::Connect,
            AgentError::Protocol(_) => ErrorKind::Protocol,
            AgentError::AccessDenied { .. } => ErrorKind::AccessDenied,
            AgentError::Rejected { .. } => ErrorKind::Rejected,
        }
    }

    /// The delay the agent asked for, if it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AgentError::Throttled { retry_after } => *retry_after,
            _ => None,
        }
    }
}

/// Invokes one agent. Implementations classify every failure into an [`AgentError`];
/// they do not retry, time out or rate-limit: the call policy around them does that.
pub trait AgentClient {
    fn invoke(&self, request: AgentRequest) -> impl Future<Output = Result<AgentOutput, AgentError>>;
}

impl<T: AgentClient + ?Sized> AgentClient for &T {
    fn invoke(&self, request: AgentRequest) -> impl Future<Output = Result<AgentOutput, AgentError>> {
        (**self).invoke(request)
    }
}

impl<T: AgentClient + ?Sized> AgentClient for std::rc::Rc<T> {
    fn invoke(&self, request: AgentRequest) -> impl Future<Output = Result<AgentOutput, AgentError>> {
        (**self).invoke(request)
    }
}

impl<T: AgentClient + ?Sized> AgentClient for std::sync::Arc<T> {
    fn invoke(&self, request: AgentRequest) -> impl Future<Output = Result<AgentOutput, AgentError>> {
        (**self).invoke(request)
    }
}
