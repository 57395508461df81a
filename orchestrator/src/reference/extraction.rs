//! The extraction agent: labelled lines of normalised text → a [`TradeRecord`].
//!
//! Known labels must appear exactly once; other labelled lines (page footers, free text
//! fields a system adds) are ignored. Amounts are parsed as decimal text straight into minor
//! units with the currency's exponent, never through a float: "12,500,000.00 USD" is
//! 1_250_000_000 cents, "1,250,000,000 JPY" is 1_250_000_000 yen, and "100.5 JPY" is an
//! error because yen have no minor units. Every error names the line and the field.

use crate::domain::NormalisedText;
use crate::domain::{Date, Side, TradeId, TradeRecord};
use crate::reference::calendar;
use crate::reference::currency::currency;
use crate::reference::error::ReferenceError;

/// The labels extraction reads, as they appear after normalisation.
pub const LABELS: [&str; 7] = [
    "TRADE ID",
    "SIDE",
    "COUNTERPARTY",
    "INSTRUMENT",
    "NOTIONAL",
    "TRADE DATE",
    "SETTLEMENT DATE",
];

/// Parses the record out of normalised text.
pub fn extract(text: &NormalisedText) -> Result<TradeRecord, ReferenceError> {
    let mut found: [Option<(usize, &str)>; 7] = [None; 7];
    for (index, line) in text.text.lines().enumerate() {
        let Some((label, value)) = line.split_once(':') else {
            continue;
        };
        let Some(slot) = LABELS.iter().position(|l| *l == label.trim()) else {
            continue;
        };
        if found[slot].is_some() {
            return Err(ReferenceError::DuplicateField {
                line: index + 1,
                field: LABELS[slot],
            });
        }
        found[slot] = Some((index + 1, value.trim()));
    }
    let get = |slot: usize| found[slot].ok_or(ReferenceError::MissingField { field: LABELS[slot] });

    let (line, value) = get(0)?;
    let trade = parse_trade_id(line, value)?;
    if trade != text.trade {
        return Err(ReferenceError::WrongTrade {
            line,
            expected: text.trade.to_string(),
            found: trade.to_string(),
        });
    }
    let (line, value) = get(1)?;
    let side = match value.to_ascii_uppercase().as_str() {
        "BUY" | "B" => Side::Buy,
        "SELL" | "S" => Side::Sell,
        _ => return Err(invalid(line, "SIDE", value, "expected Buy or Sell")),
    };
    let (line, counterparty) = get(2)?;
    if counterparty.is_empty() {
        return Err(invalid(line, "COUNTERPARTY", counterparty, "empty"));
    }
    let (line, instrument) = get(3)?;
    if instrument.is_empty() {
        return Err(invalid(line, "INSTRUMENT", instrument, "empty"));
    }
    let (line, value) = get(4)?;
    let (notional_minor, currency_code) = parse_notional(line, value)?;
    let (line, value) = get(5)?;
    let trade_date = parse_date(line, "TRADE DATE", value)?;
    let (line, value) = get(6)?;
    let settlement_date = parse_date(line, "SETTLEMENT DATE", value)?;

    Ok(TradeRecord {
        trade,
        side,
        counterparty: counterparty.to_string(),
        instrument: instrument.to_string(),
        notional_minor,
        currency: currency_code,
        trade_date,
        settlement_date,
    })
}

fn invalid(line: usize, field: &'static str, value: &str, reason: &str) -> ReferenceError {
    ReferenceError::InvalidField {
        line,
        field,
        value: value.to_string(),
        reason: reason.to_string(),
    }
}

/// `T00000042` (the form [`TradeId`] displays) or a bare number.
fn parse_trade_id(line: usize, value: &str) -> Result<TradeId, ReferenceError> {
    let digits = value.strip_prefix('T').unwrap_or(value);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(line, "TRADE ID", value, "expected T followed by digits"));
    }
    digits
        .parse()
        .map(TradeId)
        .map_err(|_| invalid(line, "TRADE ID", value, "too large"))
}

/// `"12,500,000.00 USD"` → (1_250_000_000, "USD").
pub fn parse_notional(line: usize, value: &str) -> Result<(i64, String), ReferenceError> {
    const FIELD: &str = "NOTIONAL";
    let (amount, code) = value
        .rsplit_once(' ')
        .ok_or_else(|| invalid(line, FIELD, value, "expected an amount and a currency code"))?;
    let ccy = currency(code).ok_or_else(|| invalid(line, FIELD, value, "unknown currency"))?;
    let (whole, fraction) = match amount.split_once('.') {
        Some((w, f)) => (w, f),
        None => (amount, ""),
    };
    let groups: Vec<&str> = whole.split(',').collect();
    let grouped_well = groups.len() == 1
        || (!groups[0].is_empty() && groups[0].len() <= 3 && groups[1..].iter().all(|g| g.len() == 3));
    let digits: String = groups.concat();
    if digits.is_empty() || !grouped_well || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(line, FIELD, value, "malformed amount"));
    }
    if !fraction.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid(line, FIELD, value, "malformed decimals"));
    }
    let exponent = ccy.exponent as usize;
    if fraction.len() > exponent || (amount.contains('.') && fraction.is_empty()) {
        let reason = format!("{} takes at most {} decimal places", ccy.code, exponent);
        return Err(invalid(line, FIELD, value, &reason));
    }
    let minor_text = format!("{digits}{fraction:0<exponent$}");
    let minor: i64 = minor_text
        .parse()
        .map_err(|_| invalid(line, FIELD, value, "amount too large"))?;
    if minor == 0 {
        return Err(invalid(line, FIELD, value, "notional must be positive"));
    }
    Ok((minor, ccy.code.to_string()))
}

/// An ISO date, `YYYY-MM-DD`, that exists in the calendar.
pub fn parse_date(line: usize, field: &'static str, value: &str) -> Result<Date, ReferenceError> {
    let bad = || invalid(line, field, value, "expected an ISO date YYYY-MM-DD");
    let bytes = value.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(bad());
    }
    let num = |range: std::ops::Range<usize>| -> Result<u16, ReferenceError> {
        let s = &value[range];
        if s.bytes().all(|b| b.is_ascii_digit()) {
            s.parse().map_err(|_| bad())
        } else {
            Err(bad())
        }
    };
    let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    calendar::date(y, m as u8, d as u8).ok_or_else(|| invalid(line, field, value, "no such calendar date"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(body: &str) -> NormalisedText {
        NormalisedText {
            trade: TradeId(42),
            text: body.to_string(),
        }
    }

    const GOOD: &str = "TRADE CONFIRMATION\nTRADE ID: T00000042\nSIDE: Buy\nCOUNTERPARTY: Barclays Bank PLC\n\
INSTRUMENT: FX EUR/USD SPOT\nNOTIONAL: 12,500,000.00 EUR\nTRADE DATE: 2025-03-13\nSETTLEMENT DATE: 2025-03-17\nPAGE: 1";

    #[test]
    fn extracts_every_field() {
        let r = extract(&text(GOOD)).expect("valid");
        assert_eq!(r.trade, TradeId(42));
        assert_eq!(r.side, Side::Buy);
        assert_eq!(r.counterparty, "Barclays Bank PLC");
        assert_eq!(r.instrument, "FX EUR/USD SPOT");
        assert_eq!((r.notional_minor, r.currency.as_str()), (1_250_000_000, "EUR"));
        assert_eq!(
            r.trade_date,
            Date {
                year: 2025,
                month: 3,
                day: 13
            }
        );
        assert_eq!(
            r.settlement_date,
            Date {
                year: 2025,
                month: 3,
                day: 17
            }
        );
    }

    #[test]
    fn amounts_use_the_currency_exponent() {
        assert_eq!(
            parse_notional(1, "1,250,000,000 JPY"),
            Ok((1_250_000_000, "JPY".into()))
        );
        assert_eq!(
            parse_notional(1, "12,500,000 USD"),
            Ok((1_250_000_000, "USD".into()))
        );
        assert_eq!(parse_notional(1, "0.05 USD"), Ok((5, "USD".into())));
        assert_eq!(parse_notional(1, "1,000.5 GBP"), Ok((100_050, "GBP".into())));
        for bad in [
            "100.5 JPY",
            "1.234 USD",
            "1,00 USD",
            "12500000.00",
            "1,000.00 XYZ",
            "abc USD",
            "0 USD",
            ",100 USD",
            "1. USD",
        ] {
            assert!(
                matches!(
                    parse_notional(3, bad),
                    Err(ReferenceError::InvalidField {
                        line: 3,
                        field: "NOTIONAL",
                        ..
                    })
                ),
                "{bad} was accepted"
            );
        }
        assert!(parse_notional(1, "99,999,999,999,999,999,999.00 USD").is_err());
    }

    #[test]
    fn errors_name_line_and_field() {
        let missing = GOOD.replace("SIDE: Buy\n", "");
        assert_eq!(
            extract(&text(&missing)),
            Err(ReferenceError::MissingField { field: "SIDE" })
        );
        let twice = format!("{GOOD}\nSIDE: Sell");
        assert_eq!(
            extract(&text(&twice)),
            Err(ReferenceError::DuplicateField {
                line: 10,
                field: "SIDE"
            })
        );
        let bad_date = GOOD.replace("2025-03-17", "2025-02-30");
        assert!(matches!(
            extract(&text(&bad_date)),
            Err(ReferenceError::InvalidField {
                line: 8,
                field: "SETTLEMENT DATE",
                ..
            })
        ));
        let other = GOOD.replace("T00000042", "T00000043");
        assert!(matches!(
            extract(&text(&other)),
            Err(ReferenceError::WrongTrade { line: 2, .. })
        ));
        let side = GOOD.replace("Buy", "Hold");
        assert!(matches!(
            extract(&text(&side)),
            Err(ReferenceError::InvalidField {
                line: 3,
                field: "SIDE",
                ..
            })
        ));
    }
}
