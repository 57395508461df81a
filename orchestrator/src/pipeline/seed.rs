//! Per-attempt random streams.
//!
//! Drawing backoff jitter from one shared RNG in arrival order would tie every delay to the
//! order in which concurrent trades happen to reach the policy, so a harmless change in
//! scheduling would change every result after it. Instead each attempt gets its own stream,
//! seeded from what identifies it: the run seed, the trade, the stage and the attempt number.
//!
//! The derivation differs on purpose from [`crate::faults::call_rng`], which seeds the fault
//! decision of the same attempt from the same inputs: sharing a stream would make an
//! attempt's backoff jitter repeat its fault draw, coupling two things meant to be independent.

use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::domain::{Stage, TradeId};

/// One step of splitmix64: a bijective mix whose outputs differ widely for nearby inputs,
/// so that consecutive trade ids or attempts do not give related seeds.
const fn splitmix64(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of one attempt's stream: a splitmix64 chain over (run seed, trade, stage, attempt).
/// Each field is mixed in after the previous ones are scrambled, so swapping two fields'
/// values gives a different seed.
pub const fn attempt_seed(run_seed: u64, trade: TradeId, stage: Stage, attempt: u32) -> u64 {
    let mut h = splitmix64(run_seed);
    h = splitmix64(h ^ trade.0);
    h = splitmix64(h ^ stage.index() as u64);
    splitmix64(h ^ attempt as u64)
}

/// The RNG for one attempt's backoff draw.
pub fn attempt_rng(run_seed: u64, trade: TradeId, stage: Stage, attempt: u32) -> ChaCha8Rng {
    ChaCha8Rng::seed_from_u64(attempt_seed(run_seed, trade, stage, attempt))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand_core::RngCore;
    use std::collections::BTreeSet;

    #[test]
    fn same_inputs_same_stream() {
        let a = attempt_rng(7, TradeId(3), Stage::TradeMatching, 2).next_u64();
        let b = attempt_rng(7, TradeId(3), Stage::TradeMatching, 2).next_u64();
        assert_eq!(a, b);
    }

    #[test]
    fn every_field_changes_the_seed() {
        let mut seen = BTreeSet::new();
        for run in 0..4u64 {
            for trade in 0..8u64 {
                for stage in Stage::ALL {
                    for attempt in 1..5u32 {
                        seen.insert(attempt_seed(run, TradeId(trade), stage, attempt));
                    }
                }
            }
        }
        assert_eq!(seen.len(), 4 * 8 * 4 * 4, "no two attempts share a seed");
    }

    #[test]
    fn swapped_fields_differ() {
        assert_ne!(
            attempt_seed(1, TradeId(2), Stage::PdfAdapter, 3),
            attempt_seed(2, TradeId(1), Stage::PdfAdapter, 3)
        );
        assert_ne!(
            attempt_seed(0, TradeId(2), Stage::PdfAdapter, 3),
            attempt_seed(0, TradeId(3), Stage::PdfAdapter, 2)
        );
    }
}
