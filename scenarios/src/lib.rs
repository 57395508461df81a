//! The scenario model of gameday (format v1) and everything that reads or writes it.

pub mod model;

pub use model::{Expect, Fault, FaultKind, Scenario, Target, Workload};
