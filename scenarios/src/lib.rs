//! The scenario model of gameday (format v1) and everything that reads or writes it.
//!
//! A scenario file describes a workload, a resilience policy, a timeline of faults and the
//! outcome expected. [`parse`]/[`load`] turn TOML into the validated [`Scenario`] and report
//! every mistake as a [`ScenarioError`] with file, line, column and what was expected;
//! [`to_toml`] writes a scenario back in the same format; [`json_schema`] describes the
//! format for editors; and, behind the `proptest` feature, [`strategy`] generates valid
//! scenarios for property tests and [`swarm`] generates whole fault schedules in the manner
//! of swarm testing, for property searches over the simulation. The serde types that mirror
//! the file (`raw`) stay private: the rest of gameday sees only the model.

pub mod error;
pub mod model;
pub mod parse;
mod raw;
pub mod schema;
#[cfg(feature = "proptest")]
pub mod strategy;
#[cfg(feature = "proptest")]
pub mod swarm;
pub mod write;

pub use error::{ErrorKind, ScenarioError};
pub use model::{Expect, Fault, FaultKind, Scenario, Target, Workload};
pub use parse::{load, parse};
pub use schema::json_schema;
pub use write::{format_duration, to_toml};
