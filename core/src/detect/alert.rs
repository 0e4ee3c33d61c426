//! Alerts: what a detection rule raises when an event matches one of its collections.

use crate::matcher::{Match, TimeSource};
use crate::time::Timestamp;
use serde::Serialize;

/// How an alert was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DetectionType {
    /// Live detection: an event matched as it came in (`cti`).
    Cti,
    /// Retrohunt: an archived event matched an indicator added or changed later
    /// (`cti_retrohunt`).
    CtiRetrohunt,
}

impl DetectionType {
    /// Its serialised name: `cti` or `cti_retrohunt`.
    pub fn as_str(self) -> &'static str {
        match self {
            DetectionType::Cti => "cti",
            DetectionType::CtiRetrohunt => "cti_retrohunt",
        }
    }
}

/// One alert: one rule, one event, the matches of that event in the rule's collections.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Alert {
    /// `rule--<uuid>`.
    pub rule_id: String,
    /// The rule's name.
    pub rule_name: String,
    /// `cti` (live) or `cti_retrohunt`.
    pub detection_type: DetectionType,
    /// The file the event came from, when it came from one.
    pub source: Option<String>,
    /// The event's 1-based line in its file (or position in its stream).
    pub line: Option<u64>,
    /// The time the event was matched at.
    pub time: Timestamp,
    /// Where that time came from.
    pub time_source: TimeSource,
    /// The matches of this rule's collections, in document order.
    pub matches: Vec<Match>,
}

impl Alert {
    /// This alert as one line of JSON (no trailing newline).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }
}
