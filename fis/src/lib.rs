//! The AWS FIS lane of gameday: a scenario, bound to a real deployment, rendered as an FIS
//! experiment with everything an operator needs, guarded, then run and watched.
//!
//! [`bindings`] maps a scenario's logical names onto accounts and resources; [`mapping`]
//! decides how each fault is injected (fault flags through the orchestrator's decorator, or a
//! native FIS action); [`template`] builds the CreateExperimentTemplate request with the
//! timeline as a chain of waits; [`automation`] and [`iam`] render the SSM Automation document
//! that sets and clears flags and the least-privilege role policies; [`runbook`] writes the
//! operator's page; [`guardrails`] refuses unsafe templates; [`render`] writes the artifact
//! set; [`run`] creates, starts, watches and stops the experiment through `aws-sdk-fis`.

pub mod automation;
pub mod bindings;
pub mod error;
#[cfg(feature = "fake-server")]
pub mod fake;
pub mod guardrails;
pub mod iam;
pub mod iso;
pub mod mapping;
pub mod render;

pub mod run;
pub mod runbook;
pub mod template;

pub use bindings::Bindings;
pub use error::BindingsError;
pub use guardrails::{Refusal, Rule, lint};
pub use render::{Artifacts, Prediction, render};
pub use template::{ExperimentTemplate, Plan, build, schedule};
