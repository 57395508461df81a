//! Retry delays: exponential backoff with the four jitter strategies, and `Retry-After`.
//!
//! A fixed retry delay makes every client that failed together retry together, so the
//! overload that caused the failure comes back in lock step. Exponential growth spreads the
//! retries over time; jitter spreads them over clients. One [`Backoff`] is the state of one
//! retry sequence (one trade at one stage): only decorrelated jitter remembers anything
//! between retries (the previous delay), the other strategies are functions of the retry number.
//!
//! With `exp(n) = min(max_delay, base_delay * 2^(n-1))` for retry `n` (1 for the first retry):
//!
//! | strategy | delay | bounds |
//! |---|---|---|
//! | none | `exp(n)` | exactly `exp(n)` |
//! | full | uniform in `[0, exp(n)]` | `[0, exp(n)]` |
//! | equal | `exp(n)/2` + uniform in `[0, exp(n) - exp(n)/2]` | `[exp(n)/2, exp(n)]` |
//! | decorrelated | `min(max_delay, uniform in [base_delay, 3 * prev])`, `prev` starting at `base_delay` | `[min(base_delay, max_delay), min(max_delay, 3 * prev)]` |
//!
//! A zero `base_delay` turns backoff off: the strategy's delay is always zero.
//!
//! `Retry-After` rule: when the agent names a delay, the delay returned is
//! `max(strategy delay, min(retry_after, max_retry_after))`. The agent's request is honoured
//! even above `max_delay` (it knows when it will have capacity again), but never beyond
//! `max_retry_after`, so a wrong or hostile header cannot park a trade for hours. The
//! decorrelated strategy's memory (`prev`) keeps the strategy delay, not the `Retry-After`, so
//! one long `Retry-After` does not inflate every later delay.
//!
//! All arithmetic is in `u128` nanoseconds and saturates: any retry number is safe.

use std::time::Duration;

use rand::Rng;
use rand_core::RngCore;

use super::budget::RetryToken;
use super::config::{Jitter, RetryConfig};
use super::nanos;

/// The state of one retry sequence.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: u128,
    cap: u128,
    jitter: Jitter,
    max_retry_after: Duration,
    /// The previous strategy delay (decorrelated jitter only), starting at `base`.
    prev: u128,
    /// A retry-budget token taken for the next attempt and not yet handed to a permit.
    pub(crate) pending_token: Option<RetryToken>,
}

impl Backoff {
    pub fn new(config: &RetryConfig) -> Backoff {
        let base = nanos::of(config.base_delay);
        Backoff {
            base,
            cap: nanos::of(config.max_delay),
            jitter: config.jitter,
            max_retry_after: config.max_retry_after,
            prev: base,
            pending_token: None,
        }
    }

    /// The delay before retry number `retry` (1 for the first retry; 0 is read as 1).
    /// `retry_after` is the delay the agent asked for, if any (see the module docs for the rule).
    pub fn next_delay(
        &mut self,
        retry: u32,
        retry_after: Option<Duration>,
        rng: &mut impl RngCore,
    ) -> Duration {
        let strategy = if self.base == 0 {
            0
        } else {
            match self.jitter {
                Jitter::None => exp(self.base, self.cap, retry),
                Jitter::Full => uniform(rng, 0, exp(self.base, self.cap, retry)),
                Jitter::Equal => {
                    let e = exp(self.base, self.cap, retry);
                    let half = e / 2;
                    half + uniform(rng, 0, e - half)
                }
                Jitter::Decorrelated => {
                    let hi = self.prev.saturating_mul(3).max(self.base);
                    let d = uniform(rng, self.base, hi).min(self.cap);
                    self.prev = d;
                    d
                }
            }
        };
        let delay = nanos::to_duration(strategy);
        match retry_after {
            Some(ra) => delay.max(ra.min(self.max_retry_after)),
            None => delay,
        }
    }

    /// The previous strategy delay: the `prev` that [`Backoff::bounds`] takes for the next
    /// decorrelated retry (`base_delay` before the first retry).
    pub fn previous(&self) -> Duration {
        nanos::to_duration(self.prev)
    }

    /// The inclusive bounds of the strategy delay for retry `retry`, before `Retry-After` is
    /// applied. `prev` matters only for decorrelated jitter (pass [`Backoff::previous`]).
    /// This is the contract checked by property tests and by the simulation's invariants.
    pub fn bounds(config: &RetryConfig, retry: u32, prev: Duration) -> (Duration, Duration) {
        let base = nanos::of(config.base_delay);
        let cap = nanos::of(config.max_delay);
        if base == 0 {
            return (Duration::ZERO, Duration::ZERO);
        }
        let (lo, hi) = match config.jitter {
            Jitter::None => {
                let e = exp(base, cap, retry);
                (e, e)
            }
            Jitter::Full => (0, exp(base, cap, retry)),
            Jitter::Equal => {
                let e = exp(base, cap, retry);
                (e / 2, e)
            }
            Jitter::Decorrelated => {
                let hi = nanos::of(prev).saturating_mul(3).max(base);
                (base.min(cap), hi.min(cap))
            }
        };
        (nanos::to_duration(lo), nanos::to_duration(hi))
    }

    /// The bounds of the delay actually returned, `Retry-After` included.
    pub fn bounds_with_retry_after(
        config: &RetryConfig,
        retry: u32,
        prev: Duration,
        retry_after: Option<Duration>,
    ) -> (Duration, Duration) {
        let (lo, hi) = Backoff::bounds(config, retry, prev);
        match retry_after {
            Some(ra) => {
                let floor = ra.min(config.max_retry_after);
                (lo.max(floor), hi.max(floor))
            }
            None => (lo, hi),
        }
    }
}

/// `min(cap, base * 2^(retry-1))` without overflow for any `retry`.
fn exp(base: u128, cap: u128, retry: u32) -> u128 {
    let shift = retry.saturating_sub(1);
    // base ≥ 1 and cap < 2^94 ns (Duration::MAX): from 2^94 on the product exceeds any cap.
    if shift >= 94 {
        return cap;
    }
    base.saturating_mul(1u128 << shift).min(cap)
}

/// Uniform in `[lo, hi]` (inclusive); `lo` when the range is empty.
fn uniform(rng: &mut impl RngCore, lo: u128, hi: u128) -> u128 {
    if hi <= lo {
        return lo;
    }
    let span = hi - lo;
    if let Ok(span) = u64::try_from(span) {
        lo + u128::from(rng.random_range(0..=span))
    } else {
        lo + rng.random_range(0..=span)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;
    use rand_chacha::ChaCha8Rng;

    fn cfg(jitter: Jitter, base_ms: u64, cap_ms: u64) -> RetryConfig {
        RetryConfig {
            jitter,
            base_delay: Duration::from_millis(base_ms),
            max_delay: Duration::from_millis(cap_ms),
            ..RetryConfig::default()
        }
    }

    #[test]
    fn no_jitter_doubles_up_to_the_cap() {
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let mut b = Backoff::new(&cfg(Jitter::None, 100, 1000));
        let got: Vec<u64> = (1..=6)
            .map(|n| b.next_delay(n, None, &mut rng).as_millis() as u64)
            .collect();
        assert_eq!(got, vec![100, 200, 400, 800, 1000, 1000]);
    }

    #[test]
    fn huge_retry_numbers_do_not_overflow() {
        let mut rng = ChaCha8Rng::seed_from_u64(2);
        for j in Jitter::ALL {
            let c = RetryConfig {
                jitter: j,
                base_delay: Duration::from_secs(1),
                max_delay: Duration::MAX,
                ..RetryConfig::default()
            };
            let mut b = Backoff::new(&c);
            for n in [u32::MAX, u32::MAX - 1, 200, 64] {
                let d = b.next_delay(n, Some(Duration::MAX), &mut rng);
                assert!(d <= Duration::MAX);
            }
        }
    }

    #[test]
    fn zero_base_means_no_backoff() {
        let mut rng = ChaCha8Rng::seed_from_u64(3);
        for j in [Jitter::None, Jitter::Full, Jitter::Equal] {
            let mut b = Backoff::new(&cfg(j, 0, 1000));
            assert_eq!(b.next_delay(5, None, &mut rng), Duration::ZERO);
        }
    }

    #[test]
    fn retry_after_is_a_floor_capped_by_max_retry_after() {
        let mut rng = ChaCha8Rng::seed_from_u64(4);
        let mut c = cfg(Jitter::None, 100, 1000);
        c.max_retry_after = Duration::from_secs(5);
        let mut b = Backoff::new(&c);
        assert_eq!(
            b.next_delay(1, Some(Duration::from_secs(2)), &mut rng),
            Duration::from_secs(2)
        );
        assert_eq!(
            b.next_delay(1, Some(Duration::from_secs(60)), &mut rng),
            Duration::from_secs(5)
        );
        // A Retry-After shorter than the backoff does not shorten it.
        assert_eq!(
            b.next_delay(4, Some(Duration::from_millis(1)), &mut rng),
            Duration::from_millis(800)
        );
    }

    #[test]
    fn decorrelated_grows_from_base_and_stays_in_bounds() {
        let mut rng = ChaCha8Rng::seed_from_u64(5);
        let c = cfg(Jitter::Decorrelated, 10, 10_000);
        let mut b = Backoff::new(&c);
        for n in 1..50 {
            let prev = b.previous();
            let (lo, hi) = Backoff::bounds(&c, n, prev);
            let d = b.next_delay(n, None, &mut rng);
            assert!(lo <= d && d <= hi, "{lo:?} <= {d:?} <= {hi:?}");
            assert_eq!(b.previous(), d);
        }
    }

    #[test]
    fn full_and_equal_jitter_spread_over_their_range() {
        let mut rng = ChaCha8Rng::seed_from_u64(6);
        let mut full = Backoff::new(&cfg(Jitter::Full, 1000, 1000));
        let mut equal = Backoff::new(&cfg(Jitter::Equal, 1000, 1000));
        let f: Vec<Duration> = (0..200).map(|_| full.next_delay(1, None, &mut rng)).collect();
        let e: Vec<Duration> = (0..200).map(|_| equal.next_delay(1, None, &mut rng)).collect();
        assert!(f.iter().any(|d| *d < Duration::from_millis(250)));
        assert!(f.iter().any(|d| *d > Duration::from_millis(750)));
        assert!(e.iter().all(|d| *d >= Duration::from_millis(500)));
        assert!(e.iter().any(|d| *d > Duration::from_millis(900)));
    }
}
