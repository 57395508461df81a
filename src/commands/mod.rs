//! One module per subcommand.

pub mod check;

/// Every expectation and invariant held.
#[allow(dead_code)]
pub const EXIT_OK: u8 = 0;
/// An expectation or invariant failed.
#[allow(dead_code)]
pub const EXIT_FAILED: u8 = 1;
/// Bad input or usage.
pub const EXIT_BAD_INPUT: u8 = 2;
