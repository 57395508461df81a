//! One module per subcommand.

pub mod check;
pub mod fis;
pub mod run;
pub mod sweep;

/// Every expectation and invariant held.
pub const EXIT_OK: u8 = 0;
/// An expectation or invariant failed.
pub const EXIT_FAILED: u8 = 1;
/// Bad input or usage.
pub const EXIT_BAD_INPUT: u8 = 2;
