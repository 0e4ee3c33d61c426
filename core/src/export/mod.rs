//! Exports: the STIX 2.1 view of indicators, in the spec's response shape.

mod stix;

pub use stix::{pattern, KillChainPhaseOut, StixIndicator};
