//! Distributions over seeds, by nearest rank.
//!
//! The p-th percentile of n sorted samples is the sample at rank `ceil(p × n / 100)`
//! (1-based): always a value that was observed, never an interpolation, so a sweep's p99
//! over 20 seeds is its worst seed and a single run's number can be looked up and replayed.

use serde::{Deserialize, Serialize};

/// p50, p90, p99 and max of one measure over the runs in which it was observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Distribution {
    /// Runs in which the measure was observed (MTTD needs a breaker to open, for example).
    pub runs: u64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Distribution {
    /// The distribution of `samples`; `None` when there are none. NaNs sort last.
    pub fn of(samples: impl IntoIterator<Item = f64>) -> Option<Distribution> {
        let mut v: Vec<f64> = samples.into_iter().collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        Some(Distribution {
            runs: v.len() as u64,
            p50: nearest_rank(&v, 50),
            p90: nearest_rank(&v, 90),
            p99: nearest_rank(&v, 99),
            max: v[v.len() - 1],
        })
    }
}

/// The `percent`-th percentile of non-empty, sorted `sorted` by nearest rank.
pub fn nearest_rank(sorted: &[f64], percent: u32) -> f64 {
    let n = sorted.len() as u64;
    let rank = (u64::from(percent) * n).div_ceil(100).clamp(1, n);
    sorted[(rank - 1) as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_picks_observed_samples() {
        let v: Vec<f64> = (1..=10).map(f64::from).collect();
        assert_eq!(nearest_rank(&v, 50), 5.0);
        assert_eq!(nearest_rank(&v, 90), 9.0);
        assert_eq!(nearest_rank(&v, 99), 10.0);
        assert_eq!(nearest_rank(&v, 1), 1.0);
        let hundred: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(nearest_rank(&hundred, 99), 99.0);
        assert_eq!(nearest_rank(&hundred, 90), 90.0);
        assert_eq!(nearest_rank(&[7.0], 50), 7.0);
    }

    #[test]
    fn distribution_sorts_and_counts() {
        assert_eq!(Distribution::of([]), None);
        let d = Distribution::of([30.0, 10.0, 20.0]).unwrap();
        assert_eq!(
            d,
            Distribution {
                runs: 3,
                p50: 20.0,
                p90: 30.0,
                p99: 30.0,
                max: 30.0
            }
        );
        let d = Distribution::of((0..200).rev().map(f64::from)).unwrap();
        assert_eq!((d.p50, d.p90, d.p99, d.max), (99.0, 179.0, 197.0, 199.0));
    }
}
