//! The retry budget: a token bucket that bounds retries across all calls to one agent.
//!
//! A per-call attempt limit alone lets every call retry when the agent is down, multiplying
//! the load on it by `max_attempts` exactly when it can least take it. The budget follows the
//! AWS SDKs' standard retry quota: the bucket starts full at `capacity`; a retry takes
//! `retry_cost` tokens (`timeout_cost` after a timeout, which held a connection for the whole
//! timeout); when too few tokens remain, no retry is made. Successes refill it: a success that
//! came after a retry returns that retry's cost, a first-try success returns `success_refund`.
//! So retries stay cheap while most calls succeed and dry up once most fail.

use super::config::BudgetConfig;

/// Proof that a retry was paid for; hand it back with the retry's success to refund it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryToken {
    cost: u32,
}

impl RetryToken {
    pub fn cost(&self) -> u32 {
        self.cost
    }
}

#[derive(Debug, Clone)]
pub struct RetryBudget {
    config: BudgetConfig,
    available: u32,
}

impl RetryBudget {
    /// A full budget.
    pub fn new(config: &BudgetConfig) -> RetryBudget {
        RetryBudget {
            config: config.clone(),
            available: config.capacity,
        }
    }

    /// Pays for one retry, or `None` when the budget holds fewer tokens than it costs
    /// (then nothing is taken: the budget never goes negative).
    pub fn try_acquire_retry(&mut self, after_timeout: bool) -> Option<RetryToken> {
        let cost = if after_timeout {
            self.config.timeout_cost
        } else {
            self.config.retry_cost
        };
        let rest = self.available.checked_sub(cost)?;
        self.available = rest;
        Some(RetryToken { cost })
    }

    /// A call succeeded: refunds `token`'s cost when the success came from a paid retry,
    /// otherwise `success_refund`. Never fills above `capacity`.
    pub fn on_success(&mut self, token: Option<RetryToken>) {
        let refund = token.map_or(self.config.success_refund, |t| t.cost);
        self.available = self.available.saturating_add(refund).min(self.config.capacity);
    }

    pub fn available(&self) -> u32 {
        self.available
    }

    pub fn capacity(&self) -> u32 {
        self.config.capacity
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget() -> RetryBudget {
        RetryBudget::new(&BudgetConfig {
            capacity: 12,
            retry_cost: 5,
            timeout_cost: 10,
            success_refund: 1,
        })
    }

    #[test]
    fn retries_cost_and_timeouts_cost_more() {
        let mut b = budget();
        assert_eq!(b.try_acquire_retry(false).map(|t| t.cost()), Some(5));
        assert_eq!(b.available(), 7);
        assert!(b.try_acquire_retry(true).is_none(), "7 < 10: refused");
        assert_eq!(b.available(), 7, "a refusal takes nothing");
        assert!(b.try_acquire_retry(false).is_some());
        assert_eq!(b.available(), 2);
        assert!(b.try_acquire_retry(false).is_none());
    }

    #[test]
    fn success_refunds_the_retry_cost_or_the_success_refund() {
        let mut b = budget();
        let t = b.try_acquire_retry(true).unwrap();
        assert_eq!(b.available(), 2);
        b.on_success(None);
        assert_eq!(b.available(), 3);
        b.on_success(Some(t));
        assert_eq!(b.available(), 12, "capped at capacity (3 + 10 > 12)");
        b.on_success(None);
        assert_eq!(b.available(), 12);
    }
}
