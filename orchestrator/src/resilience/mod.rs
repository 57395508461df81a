//! The resilience controls around every agent call, as pure state machines.
//!
//! Each machine takes `now` (a tokio `Instant`) and, where it draws randomness, an injected
//! RNG; none sleeps, spawns or logs. The pipeline executes what they decide. That makes them
//! exact under simulated time and checkable against simple models in property tests.
//!
//! [`backoff`] spaces the retries of one call sequence, [`breaker`] stops calls to a failing
//! agent, [`bucket`] limits the call rate, [`budget`] bounds retries across all calls, and
//! [`policy`] composes them for one agent: it is the only part the pipeline talks to.

pub mod backoff;
pub mod breaker;
pub mod bucket;
pub mod budget;
pub mod config;
pub mod defects;
mod nanos;
pub mod policy;

pub use backoff::Backoff;
pub use breaker::{Breaker, BreakerPermit, BreakerState, Transition, TransitionCause};
pub use bucket::TokenBucket;
pub use budget::{RetryBudget, RetryToken};
pub use config::{
    BreakerConfig, BudgetConfig, Jitter, PolicyConfig, PolicyError, RateLimitConfig, RetryConfig,
    SlowCallConfig, TimeoutConfig,
};
pub use defects::Defects;
pub use policy::{Admission, AgentPolicy, Failure, Permit, RetryDecision};
