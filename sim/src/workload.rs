//! The workload: which trades arrive and when.
//!
//! Arrivals form a Poisson process at `workload.rate` over the scenario's duration, drawn
//! up front from the run seed, so the schedule is the same whatever happens in the world.
//! Trade ids count up from 1 in arrival order; documents and confirmations come from the
//! reference generator, which derives each trade from (seed, trade id) alone.

use std::cell::Cell;
use std::time::Duration;

use gameday_orchestrator::domain::TradeId;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// Salt separating the workload's random stream from every other stream of the run.
const WORKLOAD_STREAM: u64 = 0x776f_726b_6c6f_6164;

/// The arrival schedule of a run: `(arrival time, trade)` in time order.
pub fn arrivals(seed: u64, rate: f64, duration: Duration) -> Vec<(Duration, TradeId)> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ WORKLOAD_STREAM);
    let mut out = Vec::new();
    if rate <= 0.0 {
        return out;
    }
    let mut t = 0.0f64;
    let end = duration.as_secs_f64();
    loop {
        // Exponential inter-arrival time; `1 - u` keeps the logarithm finite.
        let u: f64 = rng.random();
        t += -(1.0 - u).ln() / rate;
        if t >= end {
            break;
        }
        // Whole microseconds, so the schedule prints and compares exactly.
        let at = Duration::from_micros((t * 1e6) as u64);
        out.push((at, TradeId(out.len() as u64 + 1)));
    }
    out
}

/// Trades waiting for the orchestrator to take them: the upstream queue. It lives outside
/// the orchestrator host, so arrivals during an orchestrator crash wait here until it is back.
#[derive(Debug)]
pub struct Inbox {
    arrivals: Vec<(Duration, TradeId)>,
    next: Cell<usize>,
}

impl Inbox {
    pub fn new(arrivals: Vec<(Duration, TradeId)>) -> Inbox {
        Inbox {
            arrivals,
            next: Cell::new(0),
        }
    }

    pub fn all(&self) -> &[(Duration, TradeId)] {
        &self.arrivals
    }

    /// The next trade not yet taken, without taking it.
    pub fn peek(&self) -> Option<(Duration, TradeId)> {
        self.arrivals.get(self.next.get()).copied()
    }

    pub fn take(&self) {
        self.next.set(self.next.get() + 1);
    }

    /// Puts back every trade from `index` on (those taken but never journaled).
    pub fn rewind_to(&self, index: usize) {
        self.next.set(index.min(self.next.get()));
    }

    pub fn taken(&self) -> usize {
        self.next.get()
    }

    pub fn is_drained(&self) -> bool {
        self.next.get() >= self.arrivals.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn poisson_rate_and_order() {
        let a = arrivals(42, 20.0, Duration::from_secs(600));
        // 12 000 expected; a Poisson count has sd ≈ 110.
        assert!((11_500..12_500).contains(&a.len()), "{}", a.len());
        assert!(a.windows(2).all(|w| w[0].0 <= w[1].0 && w[0].1 < w[1].1));
        assert!(a.last().unwrap().0 < Duration::from_secs(600));
    }

    #[test]
    fn seeded() {
        let d = Duration::from_secs(60);
        assert_eq!(arrivals(1, 5.0, d), arrivals(1, 5.0, d));
        assert_ne!(arrivals(1, 5.0, d), arrivals(2, 5.0, d));
    }
}
