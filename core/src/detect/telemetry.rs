//! Telemetry reports: was any indicator of a collection seen in the events, and how often.
//!
//! Only IP (v4, v6, CIDR), domain and hash indicators are counted; validity windows are
//! ignored, revoked indicators left out. A sighting is one event in which the indicator
//! matched (an event matching it in two fields counts once), with the event's time inside the
//! window: the `window` (one year by default) up to `until` (now by default), both ends
//! included. Field scopes (the profile) and the Command and Control rule apply as in matching.
//! Rows come ordered by sightings (most first, ties by observable), with per-UTC-day counts
//! for a heatmap. Every report is saved in the store.
//!
//! A report is made from events ([`Store::telemetry`] over an [`EventSource`],
//! [`Store::telemetry_from_events`] over any events) or from the sightings live matchers
//! recorded ([`Store::telemetry_from_sightings`], day precision, no archive read again).
//!
//! ```
//! use iocmatch::{Store, NewCollection, ImportDefaults, Timestamp};
//! use iocmatch::detect::TelemetryOptions;
//!
//! let store = Store::open_in_memory()?;
//! store.create_collection(&NewCollection::named("feed"))?;
//! // valid in 2030 only: telemetry ignores validity windows
//! let d = ImportDefaults { valid_from: Some(Timestamp::parse("2030-01-01")?), ..Default::default() };
//! store.import_text("feed", b"evil.example\n", &d)?;
//! let events = [
//!     r#"{"@timestamp": "2024-05-01T10:00:00Z", "dns": {"question": {"name": "evil.example"}}}"#,
//!     r#"{"@timestamp": "2024-05-02T10:00:00Z", "destination": {"domain": "evil.example"}}"#,
//! ];
//! let options = TelemetryOptions { until: Some(Timestamp::parse("2024-06-01")?), ..Default::default() };
//! let report = store.telemetry_from_events("feed", events, &options)?;
//! assert_eq!(report.rows[0].observable, "evil.example");
//! assert_eq!(report.rows[0].sightings, 2);
//! assert_eq!(store.telemetry_report(&report.summary.id)?, report);
//! # Ok::<(), iocmatch::Error>(())
//! ```

use super::source::{EventSource, ProgressFn, SourceSummary};
use crate::error::{Error, Result};
use crate::matcher::{EventMatches, MatchOptions, Matcher, NdjsonItem, TimeSource};
use crate::observable::Kind;
use crate::scope::{self, KindMask, Profile};
use crate::store::{Collection, CompileFilter, Store};
use crate::time::Timestamp;
use rustc_hash::FxHashMap;
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Prefix of report ids (`telemetry-report--<uuid>`).
pub const REPORT_PREFIX: &str = "telemetry-report";

/// The kinds telemetry counts: IP addresses and ranges, domains, file hashes.
pub const TELEMETRY_KINDS: KindMask = scope::IP | scope::DOMAIN | scope::HASH;

/// The default window: one year.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(365 * 86_400);

/// Where a report's counts came from.
pub const SOURCE_EVENTS: &str = "events";
/// A report made from the sightings live matchers recorded.
pub const SOURCE_SIGHTINGS: &str = "sightings";

/// How a report is made.
#[derive(Debug, Clone, PartialEq)]
pub struct TelemetryOptions {
    /// How far back from `until` events count (default one year).
    pub window: Duration,
    /// The end of the window; now when `None`.
    pub until: Option<Timestamp>,
    /// The communities the report is made for (ids or names); the collection's own when empty.
    /// Each must see the collection.
    pub communities: Vec<String>,
    /// Field scopes; [`Profile::default`] when `None`.
    pub profile: Option<Profile>,
}

impl Default for TelemetryOptions {
    fn default() -> Self {
        TelemetryOptions { window: DEFAULT_WINDOW, until: None, communities: Vec::new(), profile: None }
    }
}

/// Sightings of an indicator on one UTC day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DayCount {
    /// The day, in days since 1970-01-01.
    pub day: i64,
    /// Sightings that day.
    pub count: u64,
}

impl DayCount {
    /// The day as `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        let t = Timestamp::from_day(self.day).to_rfc3339();
        t.get(..10).unwrap_or(&t).to_string()
    }
}

impl Serialize for DayCount {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("DayCount", 2)?;
        st.serialize_field("date", &self.date())?;
        st.serialize_field("count", &self.count)?;
        st.end()
    }
}

/// One indicator seen in the window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TelemetryRow {
    /// `indicator--<uuid>`.
    pub indicator_id: String,
    /// The indicator's observable (several hashes of one file joined by `,`).
    pub observable: String,
    /// Its kind (the first, for several hashes).
    pub kind: Kind,
    /// Events it was seen in.
    pub sightings: u64,
    /// The first event's time (midnight UTC of the first day, for a report from sightings).
    pub first_seen: Timestamp,
    /// The last event's time (midnight UTC of the last day, for a report from sightings).
    pub last_seen: Timestamp,
    /// Sightings per UTC day, in day order (days without any left out).
    pub days: Vec<DayCount>,
}

/// A report's header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TelemetrySummary {
    /// `telemetry-report--<uuid>`.
    pub id: String,
    /// `ioc-collection--<uuid>`.
    pub collection_id: String,
    /// When it was made.
    pub created: Timestamp,
    /// Start of the window (included).
    pub window_start: Timestamp,
    /// End of the window (included).
    pub window_end: Timestamp,
    /// The uuids of the communities it was made for.
    pub communities: Vec<String>,
    /// `events` (archives read) or `sightings` (recorded by live matchers).
    pub source: String,
    /// Events read (0 for a report from sightings).
    pub events: u64,
    /// Indicators seen (rows).
    pub indicators_seen: u64,
}

/// A telemetry report: its header and one row per indicator seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TelemetryReport {
    /// The header.
    #[serde(flatten)]
    pub summary: TelemetrySummary,
    /// Indicators seen, most sightings first (ties by observable).
    pub rows: Vec<TelemetryRow>,
}

/// A report made from an archive, with what reading it found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TelemetryRun {
    /// The saved report.
    pub report: TelemetryReport,
    /// Files, lines, bad lines and unreadable files of the archive.
    pub source: SourceSummary,
}

/// Counts per indicator, filled from many threads.
#[derive(Default)]
struct Tally {
    seen: Mutex<FxHashMap<uuid::Uuid, Acc>>,
}

struct Acc {
    sightings: u64,
    first: Timestamp,
    last: Timestamp,
    days: BTreeMap<i64, u64>,
}

impl Acc {
    fn new(t: Timestamp) -> Acc {
        Acc { sightings: 0, first: t, last: t, days: BTreeMap::new() }
    }

    fn add(&mut self, first: Timestamp, last: Timestamp, day: i64, count: u64) {
        self.sightings = self.sightings.saturating_add(count);
        self.first = self.first.min(first);
        self.last = self.last.max(last);
        *self.days.entry(day).or_insert(0) += count;
    }
}

/// What a report is made over: the collection, the window and a matcher.
struct Plan {
    coll: Collection,
    communities: Vec<String>,
    start: Timestamp,
    end: Timestamp,
}

impl Tally {
    /// Count one event's matches when its time is in the window; returns whether it was.
    fn add(&self, plan: &Plan, m: &EventMatches) -> bool {
        if m.time_source == TimeSource::Default || m.time < plan.start || m.time > plan.end {
            return false;
        }
        if m.matches.is_empty() {
            return true;
        }
        let mut ids: Vec<uuid::Uuid> =
            m.matches.iter().filter_map(|x| crate::store::parse_prefixed_uuid(&x.indicator_id, "indicator")).collect();
        ids.sort_unstable();
        ids.dedup();
        let day = m.time.day();
        let mut seen = self.seen.lock().unwrap_or_else(|p| p.into_inner());
        for id in ids {
            seen.entry(id).or_insert_with(|| Acc::new(m.time)).add(m.time, m.time, day, 1);
        }
        true
    }
}

fn window(options: &TelemetryOptions) -> (Timestamp, Timestamp) {
    let end = options.until.unwrap_or_else(Timestamp::now);
    (end.shifted(options.window, true), end)
}

impl Store {
    fn telemetry_plan(&self, collection: &str, options: &TelemetryOptions) -> Result<Plan> {
        let coll = self.collection(collection)?;
        let communities = self.report_communities(&coll, &options.communities)?;
        let (start, end) = window(options);
        Ok(Plan { coll, communities, start, end })
    }

    fn telemetry_matcher(&self, plan: &Plan, options: &TelemetryOptions) -> Result<Matcher> {
        let index = self.compile_filtered(&CompileFilter {
            collections: Some(vec![plan.coll.id.clone()]),
            kinds: Some(TELEMETRY_KINDS),
            ignore_validity: true,
            ..Default::default()
        })?;
        let m = Matcher::new(
            Arc::new(index),
            &MatchOptions {
                profile: options.profile.clone(),
                collections: Some(vec![plan.coll.id.clone()]),
                ..Default::default()
            },
        )?;
        debug_assert!(m.sees_any());
        Ok(m)
    }

    /// Rows from counts, with each indicator's stored value; ordered; then saved.
    fn finish_telemetry(&self, plan: Plan, source: &str, events: u64, tally: Tally) -> Result<TelemetryReport> {
        let seen = tally.seen.into_inner().unwrap_or_else(|p| p.into_inner());
        let ids: Vec<uuid::Uuid> = seen.keys().copied().collect();
        let values = self.indicator_values(&ids)?;
        let mut seen = seen;
        let mut rows = Vec::with_capacity(ids.len());
        for (id, value) in ids.iter().zip(values) {
            // deleted while the report was made: nothing to show it as
            let (Some((observable, kinds)), Some(acc)) = (value, seen.remove(id)) else { continue };
            let kind = Kind::from_bits(kinds).into_iter().next().unwrap_or(Kind::Domain);
            rows.push(TelemetryRow {
                indicator_id: format!("indicator--{id}"),
                observable,
                kind,
                sightings: acc.sightings,
                first_seen: acc.first,
                last_seen: acc.last,
                days: acc.days.into_iter().map(|(day, count)| DayCount { day, count }).collect(),
            });
        }
        sort_rows(&mut rows);
        let report = TelemetryReport {
            summary: TelemetrySummary {
                id: format!("{REPORT_PREFIX}--{}", uuid::Uuid::new_v4()),
                collection_id: plan.coll.id,
                created: Timestamp::now(),
                window_start: plan.start,
                window_end: plan.end,
                communities: plan.communities,
                source: source.to_string(),
                events,
                indicators_seen: rows.len() as u64,
            },
            rows,
        };
        self.save_telemetry_report(&report)?;
        Ok(report)
    }

    /// Make and save the telemetry report of a collection (id or name) over an archive of
    /// NDJSON events (read in parallel); `progress` is told the bytes read. Lines that are
    /// not JSON objects and files that cannot be read are counted in the run's source summary
    /// (and the report is made from the rest).
    ///
    /// # Errors
    /// Not-found for an unknown collection or community; validation error when a community
    /// does not see the collection; storage errors.
    pub fn telemetry(
        &self,
        collection: &str,
        source: &EventSource,
        options: &TelemetryOptions,
        progress: Option<ProgressFn<'_>>,
    ) -> Result<TelemetryRun> {
        let plan = self.telemetry_plan(collection, options)?;
        let matcher = self.telemetry_matcher(&plan, options)?;
        let tally = Tally::default();
        let per_line = |line: &[u8]| matcher.match_event(line, None);
        let sink = |_: &super::SourceFile, item: NdjsonItem<'_>| {
            if let NdjsonItem::Event { matches, .. } = item {
                tally.add(&plan, matches);
            }
            Ok(())
        };
        let summary = source.for_each_line(&per_line, &sink, progress)?;
        let report = self.finish_telemetry(plan, SOURCE_EVENTS, summary.totals.events, tally)?;
        Ok(TelemetryRun { report, source: summary })
    }

    /// Make and save the telemetry report of a collection (id or name) over events given as
    /// JSON bytes, one event each. Events that are not JSON objects are skipped.
    ///
    /// # Errors
    /// As [`Store::telemetry`].
    pub fn telemetry_from_events<I>(
        &self,
        collection: &str,
        events: I,
        options: &TelemetryOptions,
    ) -> Result<TelemetryReport>
    where
        I: IntoIterator,
        I::Item: AsRef<[u8]>,
    {
        let plan = self.telemetry_plan(collection, options)?;
        let matcher = self.telemetry_matcher(&plan, options)?;
        let tally = Tally::default();
        let mut n = 0u64;
        for e in events {
            if let Ok(m) = matcher.match_event(e.as_ref(), None) {
                n += 1;
                tally.add(&plan, &m);
            }
        }
        self.finish_telemetry(plan, SOURCE_EVENTS, n, tally)
    }

    /// Make and save the telemetry report of a collection (id or name) from the sightings
    /// live matchers recorded and flushed to the store ([`crate::MatchOptions::sightings`],
    /// [`Store::flush_sightings`]), without reading events again. Day precision: sightings
    /// count on the UTC days from the window's start to its end, both included; first and
    /// last seen are midnights.
    ///
    /// # Errors
    /// As [`Store::telemetry`].
    pub fn telemetry_from_sightings(&self, collection: &str, options: &TelemetryOptions) -> Result<TelemetryReport> {
        let plan = self.telemetry_plan(collection, options)?;
        let stored = self.collection_sightings(plan.coll.rowid, TELEMETRY_KINDS, plan.start.day(), plan.end.day())?;
        let mut rows = Vec::with_capacity(stored.indicators.len());
        for (id, observable, kinds, days) in stored.indicators {
            let kind = Kind::from_bits(kinds).into_iter().next().unwrap_or(Kind::Domain);
            let (Some(first), Some(last)) = (days.first(), days.last()) else { continue };
            let (first, last) = (Timestamp::from_day(first.0), Timestamp::from_day(last.0));
            let sightings = days.iter().fold(0u64, |a, d| a.saturating_add(d.1));
            if sightings == 0 {
                continue;
            }
            rows.push(TelemetryRow {
                indicator_id: format!("indicator--{id}"),
                observable,
                kind,
                sightings,
                first_seen: first,
                last_seen: last,
                days: days.into_iter().filter(|d| d.1 > 0).map(|(day, count)| DayCount { day, count }).collect(),
            });
        }
        sort_rows(&mut rows);
        let report = TelemetryReport {
            summary: TelemetrySummary {
                id: format!("{REPORT_PREFIX}--{}", uuid::Uuid::new_v4()),
                collection_id: plan.coll.id,
                created: Timestamp::now(),
                window_start: plan.start,
                window_end: plan.end,
                communities: plan.communities,
                source: SOURCE_SIGHTINGS.to_string(),
                events: 0,
                indicators_seen: rows.len() as u64,
            },
            rows,
        };
        self.save_telemetry_report(&report)?;
        Ok(report)
    }
}

/// Most sightings first, ties by observable (then id, for a stable order).
fn sort_rows(rows: &mut [TelemetryRow]) {
    rows.sort_by(|a, b| {
        b.sightings
            .cmp(&a.sightings)
            .then_with(|| a.observable.cmp(&b.observable))
            .then_with(|| a.indicator_id.cmp(&b.indicator_id))
    });
}

/// Parse a window such as `365d` (see [`crate::time::parse_duration`]); zero is refused.
///
/// # Errors
/// A validation error naming the value.
pub fn parse_window(s: &str) -> Result<Duration> {
    let d = crate::time::parse_duration(s)?;
    if d.is_zero() {
        return Err(Error::invalid(s, format!("invalid window '{s}': it must be longer than zero")));
    }
    Ok(d)
}
