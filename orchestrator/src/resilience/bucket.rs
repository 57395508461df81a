//! The rate limiter: a token bucket kept as a theoretical arrival time (GCRA).
//!
//! The bucket holds at most `burst` tokens and gains one every `1 / per_second`. Instead of a
//! token count refilled by a timer, it keeps one number: the theoretical arrival time `tat`,
//! the instant at which the bucket would be full again if nothing else were taken. A call at
//! `t` conforms when `t ≥ tat - (burst - 1)·T` (with `T` the emission interval); taking a token
//! moves `tat` to `max(tat, t) + T`. This needs no refill step and is exact in integers.
//!
//! Times are `u64` nanoseconds after the bucket's creation (584 years of range; beyond that,
//! and for intervals that do not fit, values saturate, which only makes the bucket stricter).
//! `T` is `1e9 / per_second` nanoseconds rounded *up*, so the admitted rate never exceeds
//! `per_second`: in any window of length `t`, at most `burst + per_second·t` calls are admitted,
//! reservations included (a reservation is a token taken at the future instant it is used, and
//! those instants are non-decreasing, so they form a conforming sequence themselves).

use std::time::Duration;

use tokio::time::Instant;

use super::config::RateLimitConfig;
use super::nanos;

#[derive(Debug, Clone)]
pub struct TokenBucket {
    /// All times are nanoseconds after `origin`.
    origin: Instant,
    /// Emission interval: nanoseconds per token (≥ 1).
    interval: u64,
    /// `(burst - 1) · interval`: how far ahead of `tat` a call may come.
    tolerance: u64,
    tat: u64,
}

impl TokenBucket {
    /// A full bucket at `now`. Expects a validated config; a zero burst is read as 1 and a
    /// rate that is not a positive finite number as one token per ~30 years.
    pub fn new(config: &RateLimitConfig, now: Instant) -> TokenBucket {
        let interval = emission_interval(config.per_second);
        let burst = u64::from(config.burst.max(1));
        TokenBucket {
            origin: now,
            interval,
            tolerance: (burst - 1).saturating_mul(interval),
            tat: 0,
        }
    }

    /// The emission interval: the time one token takes to come back.
    pub fn interval(&self) -> Duration {
        Duration::from_nanos(self.interval)
    }

    /// Nanoseconds from the origin to `now` (saturating; zero before the origin).
    fn offset(&self, now: Instant) -> u64 {
        let d = now.saturating_duration_since(self.origin);
        d.as_secs()
            .saturating_mul(1_000_000_000)
            .saturating_add(u64::from(d.subsec_nanos()))
    }

    /// Earliest instant (relative to origin) a token can be taken, given the call comes at `t`.
    fn earliest(&self, t: u64) -> u64 {
        self.tat.saturating_sub(self.tolerance).max(t)
    }

    fn take_at(&mut self, at: u64) {
        self.tat = self.tat.max(at).saturating_add(self.interval);
    }

    /// Takes a token now, or tells how long until the next one.
    pub fn try_acquire(&mut self, now: Instant) -> Result<(), Duration> {
        let t = self.offset(now);
        let at = self.earliest(t);
        if at > t {
            return Err(Duration::from_nanos(at - t));
        }
        self.take_at(t);
        Ok(())
    }

    /// Takes a token now (`Ok(ZERO)`) or reserves the next free one (`Ok(wait)`: the caller
    /// must not call before `now + wait`) when the wait is at most `max_wait`. Otherwise
    /// nothing is taken and `Err` carries the wait it would have been.
    pub fn reserve(&mut self, now: Instant, max_wait: Duration) -> Result<Duration, Duration> {
        let t = self.offset(now);
        let at = self.earliest(t);
        let wait = Duration::from_nanos(at - t);
        if wait > max_wait {
            return Err(wait);
        }
        self.take_at(at);
        Ok(wait)
    }

    /// The instant the next token is free (`now` when one is free already).
    pub fn next_token_at(&self, now: Instant) -> Instant {
        let t = self.offset(now);
        let at = self.earliest(t);
        if at == t {
            now
        } else {
            nanos::after(self.origin, u128::from(at))
        }
    }
}

/// `ceil(1e9 / per_second)` nanoseconds, at least 1; saturating for tiny or invalid rates.
fn emission_interval(per_second: f64) -> u64 {
    if !(per_second.is_finite() && per_second > 0.0) {
        return 86_400 * 365 * 30 * 1_000_000_000;
    }
    let ns = (1e9 / per_second).ceil();
    // `as` saturates: an interval beyond u64 becomes u64::MAX.
    (ns as u64).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(per_second: f64, burst: u32) -> RateLimitConfig {
        RateLimitConfig {
            per_second,
            burst,
            max_wait: Duration::from_secs(1),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn starts_full_then_refills_at_the_rate() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(&cfg(10.0, 3), t0);
        for _ in 0..3 {
            b.try_acquire(t0).unwrap();
        }
        assert_eq!(b.try_acquire(t0), Err(Duration::from_millis(100)));
        assert_eq!(b.next_token_at(t0), t0 + Duration::from_millis(100));
        let t1 = t0 + Duration::from_millis(100);
        b.try_acquire(t1).unwrap();
        assert!(b.try_acquire(t1).is_err());
        // After a long idle period the bucket is full again, not fuller.
        let t2 = t1 + Duration::from_secs(60);
        for _ in 0..3 {
            b.try_acquire(t2).unwrap();
        }
        assert!(b.try_acquire(t2).is_err());
    }

    #[tokio::test(start_paused = true)]
    async fn reservations_queue_behind_each_other_up_to_max_wait() {
        let t0 = Instant::now();
        let mut b = TokenBucket::new(&cfg(10.0, 1), t0);
        let max = Duration::from_millis(250);
        assert_eq!(b.reserve(t0, max), Ok(Duration::ZERO));
        assert_eq!(b.reserve(t0, max), Ok(Duration::from_millis(100)));
        assert_eq!(b.reserve(t0, max), Ok(Duration::from_millis(200)));
        assert_eq!(b.reserve(t0, max), Err(Duration::from_millis(300)));
        // A refused reservation took nothing.
        assert_eq!(b.try_acquire(t0 + Duration::from_millis(300)), Ok(()));
    }

    #[test]
    fn the_interval_rounds_up_so_the_rate_is_never_exceeded() {
        assert_eq!(emission_interval(3.0), 333_333_334);
        assert_eq!(emission_interval(1e12), 1);
        assert!(emission_interval(1e-30) > 0);
    }
}
