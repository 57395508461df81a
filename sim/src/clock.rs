//! Simulated time as the recorder sees it: a `Duration` since the start of the run.
//!
//! Each host of a turmoil world has its own tokio runtime, and a restarted host gets a new
//! one, so raw `Instant`s from different hosts or boots do not share an origin. A
//! [`TimeBase`] taken at boot pairs the host's `Instant::now()` with the run's elapsed time,
//! which maps any later `Instant` of that boot onto the run's timeline.

use std::rc::Rc;
use std::time::Duration;

use tokio::time::Instant;

/// The run's elapsed simulated time, read wherever the engine can read it.
pub type Clock = Rc<dyn Fn() -> Duration>;

#[derive(Debug, Clone, Copy)]
pub struct TimeBase {
    instant: Instant,
    elapsed: Duration,
}

impl TimeBase {
    pub fn now(clock: &Clock) -> TimeBase {
        TimeBase {
            instant: Instant::now(),
            elapsed: clock(),
        }
    }

    /// The run time of an `Instant` of this boot.
    pub fn at(&self, instant: Instant) -> Duration {
        self.elapsed + instant.saturating_duration_since(self.instant)
    }

    /// The `Instant` of this boot at which the run reaches `elapsed` (now, if already past).
    pub fn instant_of(&self, elapsed: Duration) -> Instant {
        self.instant + elapsed.saturating_sub(self.elapsed)
    }
}
