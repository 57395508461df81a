//! Shards: splitting a sweep's seeds over machines.
//!
//! `K/M` (1-based K) takes the seeds whose index in the sweep (0 for the first seed) has
//! `index % M == K - 1`. Striping rather than cutting into blocks keeps shards the same
//! size within one seed and spreads slow seeds evenly; the M shards together cover every
//! index exactly once, which is what lets `merge` rebuild the unsharded result.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// One shard of a sweep: the `index`-th (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// Why a shard spec was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error("shard `{0}`: expected K/M, such as 1/4")]
    Syntax(String),
    #[error("shard `{0}`: the shard count M must be at least 1")]
    NoShards(String),
    #[error("shard `{0}`: K is 1-based and must be between 1 and M")]
    OutOfRange(String),
}

impl Shard {
    /// The whole sweep as a single shard.
    pub const ALL: Shard = Shard { index: 1, count: 1 };

    pub fn new(index: u32, count: u32) -> Result<Shard, ShardError> {
        let spec = format!("{index}/{count}");
        if count == 0 {
            return Err(ShardError::NoShards(spec));
        }
        if index == 0 || index > count {
            return Err(ShardError::OutOfRange(spec));
        }
        Ok(Shard { index, count })
    }

    /// Whether this shard runs the seed at `index` in the sweep.
    pub fn takes(&self, index: u64) -> bool {
        index % u64::from(self.count) == u64::from(self.index - 1)
    }

    pub fn is_all(&self) -> bool {
        self.count == 1
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let syntax = || ShardError::Syntax(s.to_string());
        let (k, m) = s.trim().split_once('/').ok_or_else(syntax)?;
        let k: u32 = k.trim().parse().map_err(|_| syntax())?;
        let m: u32 = m.trim().parse().map_err(|_| syntax())?;
        Shard::new(k, m)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/3".parse::<Shard>(), Ok(Shard { index: 2, count: 3 }));
        assert_eq!(" 1 / 1 ".parse::<Shard>(), Ok(Shard::ALL));
        assert!(matches!("0/2".parse::<Shard>(), Err(ShardError::OutOfRange(_))));
        assert!(matches!("3/2".parse::<Shard>(), Err(ShardError::OutOfRange(_))));
        assert!(matches!("1/0".parse::<Shard>(), Err(ShardError::NoShards(_))));
        for bad in ["", "2", "a/b", "1/2/3", "-1/2", "1/"] {
            assert!(
                matches!(bad.parse::<Shard>(), Err(ShardError::Syntax(_))),
                "{bad}"
            );
        }
        assert_eq!(
            "3/2".parse::<Shard>().unwrap_err().to_string(),
            "shard `3/2`: K is 1-based and must be between 1 and M"
        );
    }

    #[test]
    fn shards_partition_the_indices() {
        for m in 1..=5u32 {
            for i in 0..40u64 {
                let owners: Vec<u32> = (1..=m).filter(|&k| Shard::new(k, m).unwrap().takes(i)).collect();
                assert_eq!(owners.len(), 1, "index {i} of {m} shards: {owners:?}");
            }
        }
        let s = Shard::new(2, 3).unwrap();
        assert_eq!((0..9).filter(|&i| s.takes(i)).collect::<Vec<_>>(), vec![1, 4, 7]);
    }
}
