//! Detection: rules over collections, alerts typed `cti` (live) or `cti_retrohunt`, retrohunt
//! over archived events, and telemetry (sightings per indicator).

pub mod source;

pub use source::{EventSource, SourceError, SourceFile, SourceSummary};
