//! The simulation (being written).
