//! gameday's deterministic simulation.
//!
//! A scenario becomes a world: four agent hosts serving HTTP with the reference agent logic
//! behind a fault layer, an orchestrator host running the real pipeline and call policy
//! over the real HTTP client, a workload driver and a fault controller switching faults at
//! their exact simulated instants. The [`recorder`] logs every event in order; the
//! [`checker`] judges invariants and expectations; the [`report`] tells people and machines.

pub mod checker;
pub mod recorder;
pub mod report;
pub mod timeline;
