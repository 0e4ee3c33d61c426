//! Exports: the STIX 2.1 view of indicators, in the spec's response shape.

mod csv;
mod stix;

pub use self::csv::{csv_row, neutralise, CSV_COLUMNS};
pub use stix::{pattern, KillChainPhaseOut, StixIndicator};
