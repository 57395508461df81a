//! gameday's deterministic simulation.
//!
//! A scenario becomes a [`run::World`]: four agent hosts serving the reference agent logic
//! behind a fault layer ([`agents`]), an orchestrator running the real pipeline and call
//! policy ([`orchestrator`]), a workload of Poisson arrivals ([`workload`]) and a fault
//! timeline switched at exact simulated instants ([`timeline`]). An engine drives it: the
//! turmoil [`world`], where the orchestrator speaks real HTTP over simulated TCP. The
//! [`recorder`] logs every event in order; the [`checker`] judges invariants and
//! expectations; the [`report`] tells people and machines. A [`sweep`] runs scenarios over
//! many seeds on every core ([`parallel`]) and summarises how they fare. The [`property`]
//! lane runs generated scenarios on the fast engine and turns a failing one into a
//! replayable scenario file.

pub mod agents;
pub mod bare;
pub mod checker;
pub mod clock;
pub mod defects;
pub mod fast;
pub mod orchestrator;
pub mod parallel;
pub mod property;
pub mod recorder;
pub mod report;
pub mod run;
pub mod sweep;
pub mod timeline;
pub mod workload;
pub mod world;

pub use defects::PlantedDefect;
pub use fast::FastEngine;
pub use run::{Engine, RunOptions, RunOutput, World, WorldError, run_scenario};
pub use world::TurmoilEngine;
