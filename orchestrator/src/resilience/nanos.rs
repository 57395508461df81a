//! Exact time arithmetic in whole nanoseconds.
//!
//! The resilience machines compute in `u128` nanoseconds so that bounds hold exactly (no
//! floating-point drift) and no input, however large, can overflow: every conversion back to a
//! [`Duration`] or an [`Instant`] saturates instead of panicking.

use std::time::Duration;

use tokio::time::Instant;

/// The largest offset added to an `Instant`: about 30 years, far beyond any decision here,
/// and small enough that no platform's clock representation overflows.
const FAR_FUTURE: Duration = Duration::from_secs(86_400 * 365 * 30);

pub(crate) fn of(d: Duration) -> u128 {
    d.as_nanos()
}

/// Back to a `Duration`, saturating at `Duration::MAX`.
pub(crate) fn to_duration(ns: u128) -> Duration {
    const PER_SEC: u128 = 1_000_000_000;
    let secs = ns / PER_SEC;
    if secs > u128::from(u64::MAX) {
        return Duration::MAX;
    }
    Duration::new(secs as u64, (ns % PER_SEC) as u32)
}

/// `origin + ns`, capped at about 30 years after `origin` so it never panics.
pub(crate) fn after(origin: Instant, ns: u128) -> Instant {
    let d = to_duration(ns).min(FAR_FUTURE);
    origin.checked_add(d).unwrap_or(origin)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conversions_round_trip_and_saturate() {
        let d = Duration::new(12, 345);
        assert_eq!(to_duration(of(d)), d);
        assert_eq!(to_duration(u128::MAX), Duration::MAX);
        assert_eq!(to_duration(of(Duration::MAX)), Duration::MAX);
    }

    #[test]
    fn instants_never_panic() {
        let t0 = Instant::now();
        assert!(after(t0, u128::MAX) > t0);
        assert_eq!(after(t0, 2_000_000), t0 + Duration::from_millis(2));
    }
}
