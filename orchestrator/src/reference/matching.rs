//! The matching agent's desk rules: a trade record against the counterparty's confirmation.
//!
//! Counterparty names are compared after normalisation, because the same legal entity is
//! spelt differently by different systems; everything else is compared exactly: amounts in
//! minor units, currency codes, dates, side and instrument. A disagreement in any field is
//! reported with every disagreeing field, so the exception desk sees the whole picture.

use crate::domain::{Confirmation, Field, MatchResult, TradeRecord};

/// Legal-form and branch words that do not distinguish one counterparty from another when
/// they end a name (compared after punctuation is removed, so "N.A." is `NA`).
const LEGAL_FORMS: [&str; 21] = [
    "LTD",
    "LIMITED",
    "PLC",
    "INC",
    "INCORPORATED",
    "LLC",
    "LLP",
    "INTL",
    "INTERNATIONAL",
    "NA",
    "SA",
    "AG",
    "SE",
    "CO",
    "CORP",
    "CORPORATION",
    "GMBH",
    "NV",
    "BV",
    "SPA",
    "AND",
];

/// The comparison key of a counterparty name: upper case, `&` read as AND, dots dropped
/// (so "J.P." and "JP" agree), other punctuation read as space, trailing legal-form words
/// removed (keeping at least one word), and the remaining words joined without spaces (so
/// "J. P. Morgan" and "JP Morgan" agree).
pub fn normalise_counterparty(name: &str) -> String {
    let upper = name.to_uppercase().replace('&', " AND ").replace('.', "");
    let spaced: String = upper
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    let mut words: Vec<&str> = spaced.split_whitespace().collect();
    while words.len() > 1 && words.last().is_some_and(|w| LEGAL_FORMS.contains(w)) {
        words.pop();
    }
    words.concat()
}

/// Matches `record` against `confirmation`; `None` (no confirmation) is `Unmatched`.
pub fn match_trade(record: &TradeRecord, confirmation: Option<&Confirmation>) -> MatchResult {
    let Some(c) = confirmation else {
        return MatchResult::Unmatched;
    };
    let checks = [
        (Field::Side, record.side == c.side),
        (
            Field::Counterparty,
            normalise_counterparty(&record.counterparty) == normalise_counterparty(&c.counterparty),
        ),
        (Field::Instrument, record.instrument == c.instrument),
        (Field::Notional, record.notional_minor == c.notional_minor),
        (Field::Currency, record.currency == c.currency),
        (Field::TradeDate, record.trade_date == c.trade_date),
        (Field::SettlementDate, record.settlement_date == c.settlement_date),
    ];
    let mut fields: Vec<Field> = checks
        .into_iter()
        .filter(|(_, same)| !same)
        .map(|(f, _)| f)
        .collect();
    fields.sort();
    fields.dedup();
    if fields.is_empty() {
        MatchResult::Matched
    } else {
        MatchResult::Mismatched { fields }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Date, Side, TradeId};
    use crate::reference::book::COUNTERPARTIES;

    fn record() -> TradeRecord {
        TradeRecord {
            trade: TradeId(1),
            side: Side::Buy,
            counterparty: "Goldman Sachs International".into(),
            instrument: "US91282CJL54".into(),
            notional_minor: 1_250_000_000,
            currency: "USD".into(),
            trade_date: Date {
                year: 2025,
                month: 3,
                day: 13,
            },
            settlement_date: Date {
                year: 2025,
                month: 3,
                day: 14,
            },
        }
    }

    fn confirm(r: &TradeRecord) -> Confirmation {
        Confirmation {
            trade: r.trade,
            side: r.side,
            counterparty: r.counterparty.clone(),
            instrument: r.instrument.clone(),
            notional_minor: r.notional_minor,
            currency: r.currency.clone(),
            trade_date: r.trade_date,
            settlement_date: r.settlement_date,
        }
    }

    #[test]
    fn naming_variants_of_one_entity_match() {
        for names in COUNTERPARTIES {
            let key = normalise_counterparty(names[0]);
            for name in names.iter() {
                assert_eq!(normalise_counterparty(name), key, "{name} vs {}", names[0]);
            }
        }
        assert_eq!(
            normalise_counterparty("J.P. Morgan Securities LLC"),
            normalise_counterparty("JP Morgan Securities")
        );
        assert_eq!(
            normalise_counterparty("Barclays Bank PLC"),
            normalise_counterparty("Barclays Bank plc")
        );
    }

    #[test]
    fn distinct_entities_stay_distinct() {
        let keys: std::collections::BTreeSet<String> = COUNTERPARTIES
            .iter()
            .map(|names| normalise_counterparty(names[0]))
            .collect();
        assert_eq!(keys.len(), COUNTERPARTIES.len());
        assert_ne!(
            normalise_counterparty("Goldman Sachs International"),
            normalise_counterparty("Goldman Sachs Bank USA")
        );
        assert_eq!(normalise_counterparty("AG"), "AG");
    }

    #[test]
    fn every_field_is_detected_and_all_are_reported_sorted() {
        let r = record();
        assert_eq!(match_trade(&r, Some(&confirm(&r))), MatchResult::Matched);
        let mut variant = confirm(&r);
        variant.counterparty = "GOLDMAN SACHS INTL".into();
        assert_eq!(match_trade(&r, Some(&variant)), MatchResult::Matched);
        assert_eq!(match_trade(&r, None), MatchResult::Unmatched);

        type Edit = fn(&mut Confirmation);
        let edits: [(Field, Edit); 7] = [
            (Field::Side, |c| c.side = Side::Sell),
            (Field::Counterparty, |c| {
                c.counterparty = "Goldman Sachs Bank USA".into()
            }),
            (Field::Instrument, |c| c.instrument = "US91282CJL55".into()),
            (Field::Notional, |c| c.notional_minor += 1),
            (Field::Currency, |c| c.currency = "EUR".into()),
            (Field::TradeDate, |c| c.trade_date.day = 12),
            (Field::SettlementDate, |c| c.settlement_date.day = 17),
        ];
        let mut all = confirm(&r);
        for (field, edit) in edits.iter().rev() {
            let mut c = confirm(&r);
            edit(&mut c);
            assert_eq!(
                match_trade(&r, Some(&c)),
                MatchResult::Mismatched { fields: vec![*field] }
            );
            edit(&mut all);
        }
        let every: Vec<Field> = edits.iter().map(|(f, _)| *f).collect();
        assert_eq!(
            match_trade(&r, Some(&all)),
            MatchResult::Mismatched { fields: every }
        );
    }
}
