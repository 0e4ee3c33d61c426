//! Detection: rules over collections, alerts typed `cti` (live) or `cti_retrohunt`, retrohunt
//! over archived events, and telemetry (sightings per indicator).

pub mod alert;
pub mod retrohunt;
pub mod rules;
pub mod source;
pub mod telemetry;

pub use alert::{Alert, DetectionType};
pub use retrohunt::{BadLine, Retrohunt, RetrohuntSummary, DEFAULT_MARGIN};
pub use rules::{DetectItem, Detector, LiveDetector, RuleSet};
pub use source::{EventSource, SourceError, SourceFile, SourceSummary};
pub use telemetry::{DayCount, TelemetryOptions, TelemetryReport, TelemetryRow, TelemetryRun, TelemetrySummary};
