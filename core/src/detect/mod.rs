//! Detection: rules over collections, alerts typed `cti` (live) or `cti_retrohunt`, retrohunt
//! over archived events, and telemetry (sightings per indicator).

pub mod source;
pub mod telemetry;

pub use source::{EventSource, SourceError, SourceFile, SourceSummary};
pub use telemetry::{DayCount, TelemetryOptions, TelemetryReport, TelemetryRow, TelemetryRun, TelemetrySummary};
