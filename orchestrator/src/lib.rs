//! The trade-matching orchestrator core.
//!
//! A trade document visits four agents in turn (`pdf-adapter` → `trade-extraction` →
//! `trade-matching` → `exception-management`) and ends in exactly one terminal state.
//! [`domain`] holds what flows; [`agent`] is the boundary to the agents; [`resilience`]
//! holds the pure state machines (backoff, breaker, token bucket, retry budget) that decide
//! around each call; [`pipeline`] drives a trade through the stages and reports every
//! decision as an [`event::Event`], and [`journal`] keeps its progress so that a restarted
//! orchestrator resumes it. Nothing here knows how it is run: the same code runs in
//! production, in the turmoil simulation and under tokio's paused clock. [`http`] carries
//! agent calls over HTTP/1.1 on any byte stream; [`reference`] holds in-process reference
//! agents that give matching real work to do.

pub mod agent;
pub mod config;
pub mod domain;
pub mod duration_text;
pub mod event;
pub mod fault_flags;
pub mod faults;
pub mod http;
pub mod journal;
pub mod pipeline;
pub mod reference;
pub mod resilience;
#[cfg(feature = "ssm")]
pub mod ssm;
