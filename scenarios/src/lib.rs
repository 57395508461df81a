//! The scenario model (being written).
