//! The resilience controls around every agent call, as pure state machines.
//!
//! Each machine takes `now` (a tokio `Instant`) and, where it draws randomness, an injected
//! RNG; none sleeps, spawns or logs. The pipeline executes what they decide. That makes them
//! exact under simulated time and checkable against simple models in property tests.

pub mod breaker;
pub mod config;

pub use breaker::{BreakerState, TransitionCause};
pub use config::{
    BreakerConfig, BudgetConfig, Jitter, PolicyConfig, PolicyError, RateLimitConfig, RetryConfig,
    SlowCallConfig, TimeoutConfig,
};
