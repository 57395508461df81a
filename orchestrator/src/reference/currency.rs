//! Currencies the reference desk trades: their minor-unit exponent (ISO 4217) and a fixed
//! reference rate to US dollars used only to size exceptions.
//!
//! The exponent is what makes "12,500,000.00 USD" and "1,250,000,000 JPY" exact integers:
//! amounts are always held in minor units, and a currency with exponent 0 (JPY) has no
//! decimal places at all.

/// One currency: its code, minor-unit exponent and value of one major unit in US dollars,
/// in ten-thousandths (so 1 EUR = 1.0800 USD is 10_800). Rates are static on purpose:
/// exception severity must not depend on a market-data feed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Currency {
    pub code: &'static str,
    pub exponent: u32,
    pub usd_rate_e4: i64,
}

pub const CURRENCIES: [Currency; 5] = [
    Currency {
        code: "USD",
        exponent: 2,
        usd_rate_e4: 10_000,
    },
    Currency {
        code: "EUR",
        exponent: 2,
        usd_rate_e4: 10_800,
    },
    Currency {
        code: "GBP",
        exponent: 2,
        usd_rate_e4: 12_700,
    },
    Currency {
        code: "CHF",
        exponent: 2,
        usd_rate_e4: 11_200,
    },
    Currency {
        code: "JPY",
        exponent: 0,
        usd_rate_e4: 67,
    },
];

/// Looks a currency up by its ISO code (exact, upper case).
pub fn currency(code: &str) -> Option<Currency> {
    CURRENCIES.into_iter().find(|c| c.code == code)
}

/// The US-dollar equivalent of `minor` units of `code`, in whole dollars (truncated);
/// `None` for an unknown currency. Integer arithmetic only.
pub fn usd_equivalent(minor: i64, code: &str) -> Option<i128> {
    let c = currency(code)?;
    let scale = 10_i128.pow(c.exponent) * 10_000;
    Some(i128::from(minor) * i128::from(c.usd_rate_e4) / scale)
}

/// Formats minor units the way confirmations print amounts: thousands separated by commas,
/// exactly `exponent` decimals ("12,500,000.00", "1,250,000,000").
pub fn format_amount(minor: i64, exponent: u32) -> String {
    let unit = 10_u64.pow(exponent);
    let abs = minor.unsigned_abs();
    let (major, fraction) = (abs / unit, abs % unit);
    let digits = major.to_string();
    let mut grouped = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(ch);
    }
    let sign = if minor < 0 { "-" } else { "" };
    if exponent == 0 {
        format!("{sign}{grouped}")
    } else {
        format!("{sign}{grouped}.{fraction:0width$}", width = exponent as usize)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jpy_has_no_minor_units() {
        assert_eq!(currency("JPY").map(|c| c.exponent), Some(0));
        assert_eq!(currency("USD").map(|c| c.exponent), Some(2));
        assert_eq!(currency("usd"), None);
    }

    #[test]
    fn amounts_are_grouped_with_the_exponent() {
        assert_eq!(format_amount(1_250_000_000, 2), "12,500,000.00");
        assert_eq!(format_amount(1_250_000_000, 0), "1,250,000,000");
        assert_eq!(format_amount(5, 2), "0.05");
        assert_eq!(format_amount(100_000, 2), "1,000.00");
        assert_eq!(format_amount(999, 0), "999");
    }

    #[test]
    fn usd_equivalent_uses_minor_units() {
        assert_eq!(usd_equivalent(1_000_000_000, "USD"), Some(10_000_000));
        assert_eq!(usd_equivalent(1_000_000_000, "EUR"), Some(10_800_000));
        assert_eq!(usd_equivalent(1_500_000_000, "JPY"), Some(10_050_000));
        assert_eq!(usd_equivalent(1, "XXX"), None);
    }
}
