//! Exports: the STIX 2.1 view of indicators (in the spec's response shape), a collection as a
//! STIX 2.1 bundle ([`crate::Store::export_stix`]) and as a text blocklist
//! ([`crate::Store::export_text`]).

mod bundle;
mod csv;
mod stix;
mod text;

pub use self::csv::{csv_row, neutralise, CSV_COLUMNS};
pub use stix::{pattern, KillChainPhaseOut, StixIndicator};
