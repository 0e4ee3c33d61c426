//! iocmatch: keep IOC collections and match security events against them, in-process.
//!
//! ```
//! use iocmatch::{Store, NewCollection, ImportDefaults};
//!
//! let store = Store::open_in_memory()?;
//! let c = store.create_collection(&NewCollection::named("phishing"))?;
//! let report = store.import_text(&c.id, b"evil[.]com\n1.2.3.4:8080\nnot an ioc\n", &ImportDefaults::default())?;
//! assert_eq!((report.imported, report.rejected.len()), (2, 1));
//! assert_eq!(report.rejected[0].line, 3);
//! # Ok::<(), iocmatch::Error>(())
//! ```
#![deny(missing_docs)]

pub mod detect;
pub mod error;
pub mod event;
pub mod export;
pub mod import;
pub mod index;
pub mod killchain;
pub mod matcher;
pub mod observable;
pub mod scope;
pub mod store;
pub mod time;

pub use detect::{Alert, DetectionType, Detector, EventSource, LiveDetector, Retrohunt, RetrohuntSummary, RuleSet};
pub use error::{Error, ErrorKind, Result};
pub use import::{BatchPayload, BatchResponse, ImportDefaults, ImportReport, Progress, Rejected, Stage};
pub use import::{FileImport, FilePreview, FileProcess};
pub use index::Index;
pub use killchain::{KillChainPhase, PhaseSet};
pub use matcher::{EventMatches, LiveMatcher, Match, MatchOptions, Matcher, Sighting, SightingsRecorder, TimeSource};
pub use observable::{IndicatorValue, Kind, Observable};
pub use scope::Profile;
pub use store::{
    Collection, CollectionUpdate, Community, Indicator, IndicatorEdit, IndicatorQuery, NewCollection, NewRule,
    NewThreat, Page, Pagination, Rule, Store, Threat,
};
pub use time::Timestamp;

/// The README's examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;
