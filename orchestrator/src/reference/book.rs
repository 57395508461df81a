//! The reference desk's static data: the counterparties it trades with (each with the
//! spellings its documents and confirmations really use) and the instruments it books.
//!
//! Spellings of one counterparty differ in case, punctuation and legal-form suffixes
//! ("Goldman Sachs International" / "GOLDMAN SACHS INTL"); matching must treat them as the
//! same name. Different legal entities of one group ("Goldman Sachs Bank USA") are different
//! counterparties, and the list includes such near misses on purpose.

/// Spellings of each counterparty; the first is its legal name.
pub const COUNTERPARTIES: &[&[&str]] = &[
    &[
        "Goldman Sachs International",
        "GOLDMAN SACHS INTL",
        "Goldman Sachs Intl.",
    ],
    &[
        "Goldman Sachs Bank USA",
        "GOLDMAN SACHS BANK USA",
        "Goldman Sachs Bank U.S.A.",
    ],
    &["Barclays Bank PLC", "Barclays Bank plc", "BARCLAYS BANK"],
    &[
        "J.P. Morgan Securities LLC",
        "JP Morgan Securities",
        "J. P. Morgan Securities, LLC",
    ],
    &["J.P. Morgan SE", "JP MORGAN SE", "J.P. Morgan S.E."],
    &["Deutsche Bank AG", "DEUTSCHE BANK A.G.", "Deutsche Bank"],
    &["BNP Paribas S.A.", "BNP PARIBAS SA", "BNP Paribas"],
    &["Citibank, N.A.", "CITIBANK NA", "Citibank N.A."],
    &[
        "Morgan Stanley & Co. International plc",
        "MORGAN STANLEY AND CO INTL PLC",
        "Morgan Stanley & Co Intl",
    ],
    &["UBS AG", "U.B.S. AG", "UBS"],
    &["HSBC Bank plc", "HSBC BANK PLC", "H.S.B.C. Bank"],
    &[
        "Nomura International plc",
        "NOMURA INTL PLC",
        "Nomura International",
    ],
    &[
        "Mizuho Securities Co., Ltd.",
        "MIZUHO SECURITIES CO LTD",
        "Mizuho Securities",
    ],
];

/// An instrument the desk books: its identifier as printed on documents (an ISIN-style code
/// for bonds, a pair for FX, a description for swaps), the currency its notional is in, and
/// its settlement lag in business days (T+1 for US Treasuries and gilts, T+2 otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Instrument {
    pub code: &'static str,
    pub currency: &'static str,
    pub settlement_lag: i64,
}

pub const INSTRUMENTS: &[Instrument] = &[
    Instrument {
        code: "US91282CJL54",
        currency: "USD",
        settlement_lag: 1,
    },
    Instrument {
        code: "DE0001102580",
        currency: "EUR",
        settlement_lag: 2,
    },
    Instrument {
        code: "GB00BM8Z2S21",
        currency: "GBP",
        settlement_lag: 1,
    },
    Instrument {
        code: "JP1103551K71",
        currency: "JPY",
        settlement_lag: 2,
    },
    Instrument {
        code: "CH0224397213",
        currency: "CHF",
        settlement_lag: 2,
    },
    Instrument {
        code: "FX EUR/USD SPOT",
        currency: "EUR",
        settlement_lag: 2,
    },
    Instrument {
        code: "FX USD/JPY SPOT",
        currency: "USD",
        settlement_lag: 2,
    },
    Instrument {
        code: "FX GBP/USD SPOT",
        currency: "GBP",
        settlement_lag: 2,
    },
    Instrument {
        code: "IRS USD 5Y SOFR",
        currency: "USD",
        settlement_lag: 2,
    },
    Instrument {
        code: "IRS EUR 10Y ESTR",
        currency: "EUR",
        settlement_lag: 2,
    },
    Instrument {
        code: "IRS JPY 7Y TONA",
        currency: "JPY",
        settlement_lag: 2,
    },
    Instrument {
        code: "IRS GBP 3Y SONIA",
        currency: "GBP",
        settlement_lag: 2,
    },
];
