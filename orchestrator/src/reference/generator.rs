//! The workload's trades: a document for each trade id and the counterparty's confirmation.
//!
//! Everything about a trade is drawn from an RNG seeded by a stable mix of the run seed and
//! the trade id, never from shared state. So the document, the confirmation and the expected
//! match result of trade 42 are the same whichever trades were generated before it and
//! whichever process asks: the matching agent regenerates the counterparty's confirmation on
//! its own, and the simulation's checker knows what matching must find.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use crate::domain::{Confirmation, Date, Field, MatchResult, Side, TradeDocument, TradeId, TradeRecord};
use crate::reference::book::{COUNTERPARTIES, INSTRUMENTS};
use crate::reference::calendar::{add_business_days, add_days, roll_forward};
use crate::reference::currency::{currency, format_amount};
use crate::reference::error::ReferenceError;
use crate::reference::pdf;

/// How a disagreeing confirmation disagrees. Each kind touches exactly one field, except
/// `Missing`, where the counterparty never confirmed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum MismatchKind {
    /// Notional off by a few minor units (a rounding or keying slip).
    NotionalMinorUnits,
    /// Notional ten times too large (a fat-finger extra zero).
    NotionalFatFinger,
    /// Trade date one business day off.
    TradeDateShifted,
    /// Settlement date one business day off.
    SettlementDateShifted,
    /// Confirmed by (or booked against) a different legal entity.
    CounterpartyDifferent,
    /// Buy confirmed as sell or the reverse.
    SideFlipped,
    /// No confirmation at all: the trade stays unmatched.
    Missing,
}

impl MismatchKind {
    pub const ALL: [MismatchKind; 7] = [
        MismatchKind::NotionalMinorUnits,
        MismatchKind::NotionalFatFinger,
        MismatchKind::TradeDateShifted,
        MismatchKind::SettlementDateShifted,
        MismatchKind::CounterpartyDifferent,
        MismatchKind::SideFlipped,
        MismatchKind::Missing,
    ];

    /// What matching finds for a confirmation with this defect.
    pub fn expected(self) -> MatchResult {
        let field = match self {
            MismatchKind::NotionalMinorUnits | MismatchKind::NotionalFatFinger => Field::Notional,
            MismatchKind::TradeDateShifted => Field::TradeDate,
            MismatchKind::SettlementDateShifted => Field::SettlementDate,
            MismatchKind::CounterpartyDifferent => Field::Counterparty,
            MismatchKind::SideFlipped => Field::Side,
            MismatchKind::Missing => return MatchResult::Unmatched,
        };
        MatchResult::Mismatched { fields: vec![field] }
    }
}

/// Generates trades deterministically per trade id.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Generator {
    seed: u64,
    mismatch_ratio: f64,
}

/// Everything drawn for one trade, in one place so document and confirmation agree on it.
struct Plan {
    record: TradeRecord,
    document_name: &'static str,
    confirmation_name: &'static str,
    other_entity_name: &'static str,
    style: u8,
    defect: Option<MismatchKind>,
    minor_delta: i64,
    date_shift: i64,
}

/// First day trades are drawn from, and how many calendar days after it.
const FIRST_TRADE_DATE: Date = Date {
    year: 2024,
    month: 1,
    day: 2,
};
const TRADE_DATE_SPAN: i64 = 730;

impl Generator {
    /// A generator for the run seeded with `seed`, where `mismatch_ratio` of the trades have a
    /// confirmation that disagrees or is missing.
    pub fn new(seed: u64, mismatch_ratio: f64) -> Result<Generator, ReferenceError> {
        if !(0.0..=1.0).contains(&mismatch_ratio) {
            return Err(ReferenceError::InvalidMismatchRatio(mismatch_ratio));
        }
        Ok(Generator { seed, mismatch_ratio })
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn mismatch_ratio(&self) -> f64 {
        self.mismatch_ratio
    }

    /// The trade as the desk booked it: what a correct extraction of its document yields.
    pub fn booked(&self, trade: TradeId) -> TradeRecord {
        self.plan(trade).record
    }

    /// The raw document for `trade`, wrapped in the PDF-like envelope.
    pub fn document(&self, trade: TradeId) -> TradeDocument {
        let plan = self.plan(trade);
        let lines = document_lines(&plan);
        TradeDocument {
            trade,
            correlation_id: format!("{trade}-{:08x}", mix(self.seed, trade.0) as u32),
            bytes: pdf::render(&lines),
        }
    }

    /// The counterparty's confirmation of `trade`, `None` when it never confirmed.
    pub fn confirmation(&self, trade: TradeId) -> Option<Confirmation> {
        let plan = self.plan(trade);
        let r = &plan.record;
        let mut c = Confirmation {
            trade,
            side: r.side,
            counterparty: plan.confirmation_name.to_string(),
            instrument: r.instrument.clone(),
            notional_minor: r.notional_minor,
            currency: r.currency.clone(),
            trade_date: r.trade_date,
            settlement_date: r.settlement_date,
        };
        match plan.defect {
            None => {}
            Some(MismatchKind::Missing) => return None,
            Some(MismatchKind::NotionalMinorUnits) => c.notional_minor += plan.minor_delta,
            Some(MismatchKind::NotionalFatFinger) => c.notional_minor = c.notional_minor.saturating_mul(10),
            Some(MismatchKind::TradeDateShifted) => {
                c.trade_date = add_business_days(c.trade_date, plan.date_shift)
            }
            Some(MismatchKind::SettlementDateShifted) => {
                c.settlement_date = add_business_days(c.settlement_date, plan.date_shift)
            }
            Some(MismatchKind::CounterpartyDifferent) => c.counterparty = plan.other_entity_name.to_string(),
            Some(MismatchKind::SideFlipped) => {
                c.side = match c.side {
                    Side::Buy => Side::Sell,
                    Side::Sell => Side::Buy,
                }
            }
        }
        Some(c)
    }

    /// The defect planted in this trade's confirmation, if any.
    pub fn mismatch(&self, trade: TradeId) -> Option<MismatchKind> {
        self.plan(trade).defect
    }

    /// What matching should find for this trade's document against its confirmation.
    pub fn expected(&self, trade: TradeId) -> MatchResult {
        self.mismatch(trade)
            .map_or(MatchResult::Matched, MismatchKind::expected)
    }

    fn plan(&self, trade: TradeId) -> Plan {
        let mut rng = ChaCha8Rng::seed_from_u64(mix(self.seed, trade.0));
        let entity = rng.random_range(0..COUNTERPARTIES.len());
        let names = COUNTERPARTIES[entity];
        let document_name = names[rng.random_range(0..names.len())];
        let confirmation_name = names[rng.random_range(0..names.len())];
        let other = (entity + rng.random_range(1..COUNTERPARTIES.len())) % COUNTERPARTIES.len();
        let other_names = COUNTERPARTIES[other];
        let other_entity_name = other_names[rng.random_range(0..other_names.len())];

        let instrument = INSTRUMENTS[rng.random_range(0..INSTRUMENTS.len())];
        let exponent = currency(instrument.currency).map_or(2, |c| c.exponent);
        let unit = 10_i64.pow(exponent);
        let side = if rng.random_bool(0.5) {
            Side::Buy
        } else {
            Side::Sell
        };
        // Round lots most of the time, an odd amount with minor units now and then.
        let notional_minor = if exponent == 0 {
            rng.random_range(1..=200_i64) * 25_000_000
        } else if rng.random_bool(0.75) {
            rng.random_range(1..=200_i64) * 250_000 * unit
        } else {
            rng.random_range(10_000..=5_000_000_i64) * unit + rng.random_range(0..unit)
        };
        let trade_date = roll_forward(add_days(FIRST_TRADE_DATE, rng.random_range(0..TRADE_DATE_SPAN)));
        let settlement_date = add_business_days(trade_date, instrument.settlement_lag);
        let style = rng.random_range(0..4_u8);

        let disagrees = rng.random::<f64>() < self.mismatch_ratio;
        let kind = MismatchKind::ALL[rng.random_range(0..MismatchKind::ALL.len())];
        let defect = disagrees.then_some(kind);
        let magnitude = if exponent == 0 {
            rng.random_range(1..1000_i64)
        } else {
            rng.random_range(1..100_i64)
        };
        let minor_delta = if rng.random_bool(0.5) && notional_minor > magnitude {
            -magnitude
        } else {
            magnitude
        };
        let date_shift = if rng.random_bool(0.5) { 1 } else { -1 };

        Plan {
            record: TradeRecord {
                trade,
                side,
                counterparty: document_name.to_string(),
                instrument: instrument.code.to_string(),
                notional_minor,
                currency: instrument.currency.to_string(),
                trade_date,
                settlement_date,
            },
            document_name,
            confirmation_name,
            other_entity_name,
            style,
            defect,
            minor_delta,
            date_shift,
        }
    }
}

/// Stable mix of the run seed and a trade id (SplitMix64 finaliser over both), so nearby
/// trade ids and nearby seeds give unrelated RNG streams.
fn mix(seed: u64, trade: u64) -> u64 {
    fn finalise(mut z: u64) -> u64 {
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    finalise(seed ^ finalise(trade.wrapping_add(0x9e37_79b9_7f4a_7c15)))
}

/// The document's text lines. The layout varies with the plan's style (label case, spacing,
/// indentation) the way documents from different systems do; normalisation removes it.
fn document_lines(plan: &Plan) -> Vec<String> {
    let r = &plan.record;
    let amount = format_amount(r.notional_minor, currency(&r.currency).map_or(2, |c| c.exponent));
    let side = match r.side {
        Side::Buy => "Buy",
        Side::Sell => "Sell",
    };
    let fields: [(&str, String); 7] = [
        ("Trade ID", r.trade.to_string()),
        ("Side", side.to_string()),
        ("Counterparty", plan.document_name.to_string()),
        ("Instrument", r.instrument.clone()),
        ("Notional", format!("{amount} {}", r.currency)),
        ("Trade Date", r.trade_date.to_string()),
        ("Settlement Date", r.settlement_date.to_string()),
    ];
    let mut lines = vec!["TRADE CONFIRMATION".to_string(), String::new()];
    for (label, value) in fields {
        lines.push(match plan.style {
            0 => format!("{label}: {value}"),
            1 => format!("{}:    {value}", label.to_uppercase()),
            2 => format!("  {}  :  {}", label.to_lowercase(), value.replace(' ', "  ")),
            _ => format!("{label:<18}:\t{value}  "),
        });
    }
    lines.push(String::new());
    lines.push("Page 1 of 1".to_string());
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::calendar::is_weekend;

    fn generator(ratio: f64) -> Generator {
        Generator::new(7, ratio).expect("valid ratio")
    }

    #[test]
    fn ratio_out_of_range_is_an_error() {
        assert!(Generator::new(1, 1.5).is_err());
        assert!(Generator::new(1, -0.1).is_err());
        assert!(Generator::new(1, f64::NAN).is_err());
        assert!(Generator::new(1, 0.0).is_ok() && Generator::new(1, 1.0).is_ok());
    }

    #[test]
    fn order_independent_and_seed_dependent() {
        let g = generator(0.3);
        let forward: Vec<_> = (0..50)
            .map(|i| (g.document(TradeId(i)), g.confirmation(TradeId(i))))
            .collect();
        let backward: Vec<_> = (0..50)
            .rev()
            .map(|i| (g.document(TradeId(i)), g.confirmation(TradeId(i))))
            .collect();
        let reversed: Vec<_> = backward.into_iter().rev().collect();
        assert_eq!(forward, reversed);
        let other = Generator::new(8, 0.3).expect("valid");
        assert_ne!(g.document(TradeId(3)), other.document(TradeId(3)));
    }

    #[test]
    fn dates_are_business_days_and_settle_after_trade() {
        let g = generator(0.0);
        for i in 0..300 {
            let r = g.booked(TradeId(i));
            assert!(!is_weekend(r.trade_date), "{r:?}");
            assert!(!is_weekend(r.settlement_date), "{r:?}");
            assert!(r.settlement_date > r.trade_date);
            assert!(r.notional_minor > 0);
        }
    }

    #[test]
    fn mismatch_ratio_is_respected_and_every_kind_occurs() {
        let g = generator(0.25);
        let defects: Vec<_> = (0..4000).filter_map(|i| g.mismatch(TradeId(i))).collect();
        assert!((850..1150).contains(&defects.len()), "{}", defects.len());
        for kind in MismatchKind::ALL {
            assert!(defects.contains(&kind), "{kind:?} never drawn");
        }
        let clean = generator(0.0);
        assert!((0..500).all(|i| clean.expected(TradeId(i)) == MatchResult::Matched));
        let all = generator(1.0);
        assert!((0..500).all(|i| all.expected(TradeId(i)) != MatchResult::Matched));
    }

    #[test]
    fn missing_confirmation_means_unmatched() {
        let g = generator(1.0);
        let id = (0..1000)
            .map(TradeId)
            .find(|&t| g.mismatch(t) == Some(MismatchKind::Missing))
            .expect("drawn");
        assert_eq!(g.confirmation(id), None);
        assert_eq!(g.expected(id), MatchResult::Unmatched);
    }
}
