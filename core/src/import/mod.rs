//! Imports: the spec's text import and batch payload, STIX 2.1 and MISP, with per-line reports.
//!
//! Every import is one transaction: it lands whole or not at all. A rejected line never blocks
//! the valid ones; it is reported with its line number, text and reason.

mod batch;
pub mod file;
pub mod misp;
mod records;
pub mod stix;
mod stix_pattern;
mod text;

pub use batch::{BatchError, BatchFields, BatchItem, BatchPayload, BatchResponse, PhaseRef};
pub use file::{Column, FileFormat, FileImport, FilePreview, FileProcess};
pub use misp::MispOptions;
pub use text::split_text_line;

use crate::error::Result;
use crate::killchain::PhaseSet;
use crate::observable::Kind;
use crate::store::{Draft, ThreatRegistry};
use crate::time::Timestamp;
use serde::Serialize;

/// Properties given to every indicator of an import that does not set its own.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportDefaults {
    /// Start of validity; the time of the import when `None`.
    pub valid_from: Option<Timestamp>,
    /// End of validity; never when `None`.
    pub valid_until: Option<Timestamp>,
    /// Kill chain phases.
    pub kill_chain_phases: PhaseSet,
    /// Related threats, by id, name or alias.
    pub threats: Vec<String>,
    /// Description, at most 500 characters.
    pub description: Option<String>,
    /// Force the kind of every value (e.g. [`Kind::Username`]); guessed when `None`.
    pub kind: Option<Kind>,
    /// Whether domain indicators also match sub-domains; as the collection says when `None`.
    pub match_subdomains: Option<bool>,
}

/// Which part of an import a [`Progress`] report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Stage {
    /// Reading and normalising lines.
    Parse,
    /// Writing indicators to the store.
    Write,
}

/// A progress report of a long import.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// What is being done.
    pub stage: Stage,
    /// Units done so far.
    pub done: u64,
    /// Units in all.
    pub total: u64,
}

/// A line (or item) an import rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rejected {
    /// 1-based line (or item) number.
    pub line: u64,
    /// The text of the line, cut to 200 characters.
    pub text: String,
    /// Why it was rejected.
    pub reason: String,
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Lines considered: every line that is neither blank nor a comment.
    pub lines: u64,
    /// New indicators created.
    pub imported: u64,
    /// Values already active in the collection (or repeated in the input): merged, not added.
    pub duplicates: u64,
    /// Lines rejected, with their reasons.
    pub rejected: Vec<Rejected>,
}

/// `defaults` checked and resolved once for a whole import.
pub(crate) struct ResolvedDefaults {
    pub valid_from: Timestamp,
    pub valid_until: Option<Timestamp>,
    pub phases: PhaseSet,
    pub threats: Vec<String>,
    pub description: Option<String>,
    pub match_subdomains: Option<bool>,
}

impl ImportDefaults {
    /// Check what needs no database: the window and the description.
    pub(crate) fn check(&self, now: Timestamp) -> Result<()> {
        crate::store::check_window(self.valid_from.unwrap_or(now), self.valid_until)?;
        if let Some(d) = &self.description {
            crate::store::check_description(d)?;
        }
        Ok(())
    }

    pub(crate) fn resolve(&self, threats: &ThreatRegistry, now: Timestamp) -> Result<ResolvedDefaults> {
        self.check(now)?;
        Ok(ResolvedDefaults {
            valid_from: self.valid_from.unwrap_or(now),
            valid_until: self.valid_until,
            phases: self.kill_chain_phases,
            threats: threats.resolve_all(&self.threats)?,
            description: self.description.clone(),
            match_subdomains: self.match_subdomains,
        })
    }
}

impl ResolvedDefaults {
    pub(crate) fn draft(&self, value: crate::observable::IndicatorValue) -> Draft {
        Draft {
            value,
            valid_from: self.valid_from,
            valid_until: self.valid_until,
            phases: self.phases,
            threats: self.threats.clone(),
            description: self.description.clone(),
            match_subdomains: self.match_subdomains,
        }
    }
}

/// Cut `s` to at most `max` characters for a report, marking the cut.
pub(crate) fn excerpt(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

/// A progress callback that does nothing.
pub(crate) fn no_progress(_: Progress) {}
