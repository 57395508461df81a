//! Reference implementations of the four agents, as pure functions with no I/O.
//!
//! They are realistic enough that matching means something: a [`generator::Generator`]
//! draws a book of trades (counterparties with their naming variants, bonds, FX and swaps,
//! currencies with their minor units, settlement dates that skip weekends) and the
//! counterparty's confirmations, a share of which disagree. [`pdf`] unwraps and normalises
//! documents, [`extraction`] parses records, [`matching`] applies the desk's rules,
//! [`exceptions`] triages cases, and [`service::AgentService`] hosts one agent behind a
//! request handler with idempotency, the same way whether it is called in-process or over HTTP.

pub mod book;
pub mod calendar;
pub mod currency;
pub mod error;
pub mod exceptions;
pub mod extraction;
pub mod generator;
pub mod matching;
pub mod pdf;
pub mod service;

pub use error::ReferenceError;
pub use generator::{Generator, MismatchKind};
pub use service::AgentService;
