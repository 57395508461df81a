//! Deliberate defects, all off by default.
//!
//! A checker that never fails proves nothing. These switches plant known bugs in the
//! resilience machines so that tests can show the simulation's invariants and the property
//! search catch each of them. Nothing in production sets them.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Defects {
    /// HALF_OPEN admits every call instead of at most `half_open_probes`.
    pub breaker_ignores_probe_limit: bool,
    /// Retries are made without taking (or needing) a retry-budget token.
    pub retries_ignore_budget: bool,
}

impl Defects {
    pub const NONE: Defects = Defects {
        breaker_ignores_probe_limit: false,
        retries_ignore_budget: false,
    };

    pub fn any(&self) -> bool {
        *self != Defects::NONE
    }
}
