//! The FIS lane (being written).
