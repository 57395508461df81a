//! The exception-management agent's triage: how severe a case is and which queue works it.
//!
//! | reason | condition | severity | queue |
//! |---|---|---|---|
//! | mismatch on notional | record's notional ≥ 10 m USD equivalent, or unknown size | critical | `ops-confirmations` |
//! | mismatch on notional | smaller | high | `ops-confirmations` |
//! | mismatch on side, instrument or currency | | high | `ops-confirmations` |
//! | mismatch on counterparty (and none of the above) | | high | `ops-static-data` |
//! | mismatch on dates only | notional ≥ 1 m USD equivalent, or unknown size | medium | `ops-settlements` |
//! | mismatch on dates only | smaller | low | `ops-settlements` |
//! | unmatched (no confirmation) | | high | `ops-confirmations` |
//! | a stage failed | | medium | `platform-retry` |
//!
//! Why: a wrong amount on a large trade is the costliest break, so it pages; economic
//! disagreements (side, instrument, currency) go to the confirmations desk with the
//! unconfirmed trades it must chase; a counterparty disagreement is usually a static-data
//! (legal entity) problem; a date disagreement is a settlement instruction problem; a stage
//! failure is the platform's to replay, not the desk's. A size that cannot be valued (no
//! record, unknown currency) is treated as large: uncertainty never lowers severity.

use crate::domain::{ExceptionCase, ExceptionReason, ExceptionRequest, Field, Severity, TradeRecord};
use crate::reference::currency::usd_equivalent;

pub const QUEUE_CONFIRMATIONS: &str = "ops-confirmations";
pub const QUEUE_STATIC_DATA: &str = "ops-static-data";
pub const QUEUE_SETTLEMENTS: &str = "ops-settlements";
pub const QUEUE_PLATFORM_RETRY: &str = "platform-retry";

/// Notional mismatches at or above this many US dollars are critical.
pub const CRITICAL_NOTIONAL_USD: i128 = 10_000_000;
/// Date-only mismatches below this many US dollars are low severity.
pub const LOW_NOTIONAL_USD: i128 = 1_000_000;

/// Raises the case for `req` according to the table in the module docs.
pub fn raise(req: &ExceptionRequest) -> ExceptionCase {
    let (severity, queue) = triage(&req.reason, req.record.as_ref());
    ExceptionCase {
        trade: req.trade,
        reason: req.reason.clone(),
        severity,
        queue: queue.to_string(),
    }
}

fn triage(reason: &ExceptionReason, record: Option<&TradeRecord>) -> (Severity, &'static str) {
    let size = record.and_then(|r| usd_equivalent(r.notional_minor, &r.currency));
    let at_least = |threshold: i128| size.is_none_or(|usd| usd >= threshold);
    match reason {
        ExceptionReason::Unmatched => (Severity::High, QUEUE_CONFIRMATIONS),
        ExceptionReason::StageFailed { .. } => (Severity::Medium, QUEUE_PLATFORM_RETRY),
        ExceptionReason::Mismatch { fields } => {
            let has = |f: Field| fields.contains(&f);
            if has(Field::Notional) {
                let severity = if at_least(CRITICAL_NOTIONAL_USD) {
                    Severity::Critical
                } else {
                    Severity::High
                };
                (severity, QUEUE_CONFIRMATIONS)
            } else if has(Field::Side) || has(Field::Instrument) || has(Field::Currency) {
                (Severity::High, QUEUE_CONFIRMATIONS)
            } else if has(Field::Counterparty) {
                (Severity::High, QUEUE_STATIC_DATA)
            } else if at_least(LOW_NOTIONAL_USD) {
                (Severity::Medium, QUEUE_SETTLEMENTS)
            } else {
                (Severity::Low, QUEUE_SETTLEMENTS)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{Date, Side, Stage, TradeId};

    fn record(notional_minor: i64, currency: &str) -> TradeRecord {
        TradeRecord {
            trade: TradeId(5),
            side: Side::Sell,
            counterparty: "UBS AG".into(),
            instrument: "CH0224397213".into(),
            notional_minor,
            currency: currency.into(),
            trade_date: Date {
                year: 2025,
                month: 1,
                day: 6,
            },
            settlement_date: Date {
                year: 2025,
                month: 1,
                day: 8,
            },
        }
    }

    fn case(reason: ExceptionReason, record: Option<TradeRecord>) -> (Severity, String) {
        let c = raise(&ExceptionRequest {
            trade: TradeId(5),
            reason: reason.clone(),
            record,
        });
        assert_eq!((c.trade, &c.reason), (TradeId(5), &reason));
        (c.severity, c.queue)
    }

    fn mismatch(fields: &[Field]) -> ExceptionReason {
        ExceptionReason::Mismatch {
            fields: fields.to_vec(),
        }
    }

    #[test]
    fn notional_severity_follows_usd_equivalent() {
        let big = Some(record(1_000_000_000, "USD")); // 10 m USD
        let small = Some(record(999_999_999, "USD"));
        let big_jpy = Some(record(1_500_000_000, "JPY")); // about 10.05 m USD
        let small_jpy = Some(record(1_400_000_000, "JPY"));
        let n = mismatch(&[Field::Notional]);
        assert_eq!(
            case(n.clone(), big),
            (Severity::Critical, QUEUE_CONFIRMATIONS.into())
        );
        assert_eq!(
            case(n.clone(), small),
            (Severity::High, QUEUE_CONFIRMATIONS.into())
        );
        assert_eq!(
            case(n.clone(), big_jpy),
            (Severity::Critical, QUEUE_CONFIRMATIONS.into())
        );
        assert_eq!(
            case(n.clone(), small_jpy),
            (Severity::High, QUEUE_CONFIRMATIONS.into())
        );
        assert_eq!(case(n.clone(), None).0, Severity::Critical);
        assert_eq!(case(n, Some(record(1, "XXX"))).0, Severity::Critical);
    }

    #[test]
    fn routing_by_reason() {
        let r = || Some(record(50_000_000, "USD")); // 500 k USD
        assert_eq!(
            case(ExceptionReason::Unmatched, r()),
            (Severity::High, QUEUE_CONFIRMATIONS.into())
        );
        let failed = ExceptionReason::StageFailed {
            stage: Stage::TradeExtraction,
            error: "timed out".into(),
        };
        assert_eq!(
            case(failed, None),
            (Severity::Medium, QUEUE_PLATFORM_RETRY.into())
        );
        assert_eq!(
            case(mismatch(&[Field::Side]), r()),
            (Severity::High, QUEUE_CONFIRMATIONS.into())
        );
        assert_eq!(
            case(mismatch(&[Field::Counterparty, Field::SettlementDate]), r()),
            (Severity::High, QUEUE_STATIC_DATA.into())
        );
        assert_eq!(
            case(mismatch(&[Field::SettlementDate]), r()),
            (Severity::Low, QUEUE_SETTLEMENTS.into())
        );
        assert_eq!(
            case(mismatch(&[Field::TradeDate]), Some(record(500_000_000, "USD"))),
            (Severity::Medium, QUEUE_SETTLEMENTS.into())
        );
    }
}
