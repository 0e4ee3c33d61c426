//! Retrohunt: replay archived events against the indicators of the enabled rules' collections,
//! each in force over its validity window widened by a margin (5 days by default), at each
//! event's own `@timestamp`. Alerts are typed `cti_retrohunt` and carry the file and line.
//!
//! # Incremental mode
//!
//! With [`Retrohunt::incremental`], the store remembers, per archive file (by its canonical
//! path), its size and modification time when hunted and the store change sequence it was
//! hunted up to. The next run then:
//!
//! - hunts a file seen before, with the same size and modification time, only with the
//!   indicators created or changed since (and skips reading it when there are none);
//! - hunts a plain (not compressed) file that grew by appends (its first bytes and the last
//!   bytes hunted are unchanged, and they ended with a newline) with every indicator, but reports
//!   from the lines hunted before only the matches of indicators changed since: the new lines
//!   get every alert, the old ones only new alerts (it is read whole, once);
//! - hunts a new file, or a file otherwise changed (rewritten, truncated, a compressed file that
//!   grew), **whole** with every indicator: its alerts may be reported again;
//! - does not record a file that could not be read to its end, so it is hunted again.
//!
//! A rule created or enabled after a file was hunted makes the next run hunt the file with
//! every indicator of that rule's collections (alerts of other rules sharing a collection with
//! it may then be reported again). An indicator edited since (e.g. its validity widened) is
//! hunted again over its whole window.

use super::alert::{Alert, DetectionType};
use super::rules::RuleSet;
use super::source::{EventSource, ProgressFn, SourceError, SourceFile};
use crate::error::{Error, Result};
use crate::matcher::{EventMatches, MatchOptions, Matcher, NdjsonItem, TimeSource};
use crate::scope::Profile;
use crate::store::{CompileFilter, Store};
use crate::time::Timestamp;
use rusqlite::OptionalExtension;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The default margin added on both sides of every validity window: 5 days.
pub const DEFAULT_MARGIN: Duration = Duration::from_secs(5 * 86_400);
/// Bad lines kept with their line numbers in a summary; the others are only counted.
pub const MAX_BAD_LINES_KEPT: usize = 1000;

/// A retrohunt: which indicators, over which windows, seen from which community.
#[derive(Debug, Clone)]
pub struct Retrohunt {
    /// Only indicators created or modified at or after this time; every indicator when `None`.
    pub since: Option<Timestamp>,
    /// Added on both sides of each indicator's validity window (default 5 days).
    pub margin: Duration,
    /// Field scopes; [`Profile::default`] when `None`.
    pub profile: Option<Profile>,
    /// The community (id or name) the events come from, as in [`MatchOptions::community`].
    pub community: Option<String>,
    /// Remember what was hunted and hunt only what is new (see the module documentation).
    pub incremental: bool,
}

impl Default for Retrohunt {
    fn default() -> Self {
        Retrohunt { since: None, margin: DEFAULT_MARGIN, profile: None, community: None, incremental: false }
    }
}

/// A line that held no event, with where it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BadLine {
    /// The file, when the events came from files.
    pub source: Option<String>,
    /// 1-based line (or position in the stream).
    pub line: u64,
    /// Why it was skipped.
    pub message: String,
}

/// What a retrohunt did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RetrohuntSummary {
    /// Enabled rules hunted for.
    pub rules: u64,
    /// Indicators hunted, summed over the compiles (one per distinct starting point).
    pub indicators: u64,
    /// Files read.
    pub files: u64,
    /// Files not read: already hunted, and no indicator changed since (incremental mode).
    pub files_skipped: u64,
    /// Events matched.
    pub events: u64,
    /// Bytes of events read (uncompressed).
    pub bytes: u64,
    /// Bytes read from disk (compressed).
    pub disk_bytes: u64,
    /// Alerts raised.
    pub alerts: u64,
    /// Lines skipped: not JSON objects, or events without a readable `@timestamp`.
    pub bad_lines: u64,
    /// The first [`MAX_BAD_LINES_KEPT`] of them, with their files and line numbers.
    pub bad_line_details: Vec<BadLine>,
    /// Files that could not be read to their end (what was read of them was hunted).
    pub errors: Vec<SourceError>,
    /// The store change sequence hunted up to.
    pub seq: i64,
}

/// Where alerts go; returning an error stops the hunt.
pub type AlertSink<'a> = &'a (dyn Fn(&Alert) -> Result<()> + Sync);

/// What was hunted of one file: size, modification time (µs, 0 when unknown), sequence, the
/// last line number read and a fingerprint of its first and last bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Hunted {
    size: i64,
    mtime: i64,
    seq: i64,
    lines: i64,
    fingerprint: i64,
}

/// Bytes hashed at each end of a file for its fingerprint.
const FINGERPRINT_BYTES: u64 = 4096;

fn state_key(f: &SourceFile) -> String {
    std::fs::canonicalize(&f.path).unwrap_or_else(|_| f.path.clone()).to_string_lossy().into_owned()
}

fn size_mtime(f: &SourceFile) -> (i64, i64) {
    (i64::try_from(f.size).unwrap_or(i64::MAX), f.modified.map_or(0, |t| t.0))
}

/// A hash of the first `size` bytes of a file (its first and last 4 KiB of them, and `size`),
/// and whether they end with a newline; `None` when it cannot be read that far.
fn fingerprint(path: &Path, size: u64) -> Option<(i64, bool)> {
    let mut f = File::open(path).ok()?;
    let mut head = vec![0u8; size.min(FINGERPRINT_BYTES) as usize];
    f.read_exact(&mut head).ok()?;
    let start = size.saturating_sub(FINGERPRINT_BYTES);
    f.seek(SeekFrom::Start(start)).ok()?;
    let mut tail = vec![0u8; (size - start) as usize];
    f.read_exact(&mut tail).ok()?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&size.to_le_bytes());
    h.update(&head);
    h.update(&tail);
    Some((h.digest() as i64, tail.last() == Some(&b'\n')))
}

fn load_state(store: &Store) -> Result<HashMap<String, Hunted>> {
    let conn = store.conn();
    let mut st = conn.prepare("SELECT source, size, mtime, seq, lines, fingerprint FROM retrohunt_state")?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get(0)?,
            Hunted { size: r.get(1)?, mtime: r.get(2)?, seq: r.get(3)?, lines: r.get(4)?, fingerprint: r.get(5)? },
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Record what was hunted. Not a [`Store::write`]: bookkeeping does not bump the change
/// sequence (no indicator changed).
fn save_state(store: &Store, done: &[(String, Hunted)]) -> Result<()> {
    if done.is_empty() {
        return Ok(());
    }
    let mut conn = store.conn();
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    {
        let mut st = tx.prepare(
            "INSERT INTO retrohunt_state (source, size, mtime, seq, hunted, lines, fingerprint)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (source) DO UPDATE SET size = excluded.size, mtime = excluded.mtime,
                 seq = excluded.seq, hunted = excluded.hunted, lines = excluded.lines,
                 fingerprint = excluded.fingerprint",
        )?;
        let now = Timestamp::now().0;
        for (k, h) in done {
            st.execute(rusqlite::params![k, h.size, h.mtime, h.seq, now, h.lines, h.fingerprint])?;
        }
    }
    tx.commit()?;
    Ok(())
}

/// The change sequence after which every indicator created or modified at or after `since`
/// was written (a write's rows all carry its sequence, and `modified` is the write's time).
fn seq_before(store: &Store, since: Timestamp) -> Result<i64> {
    let conn = store.conn();
    let first: Option<i64> = conn
        .query_row("SELECT MIN(seq) FROM indicators WHERE modified >= ?1", [since.0], |r| r.get(0))
        .optional()?
        .flatten();
    match first {
        Some(s) => Ok(s - 1),
        None => crate::store::current_seq(&conn),
    }
}

/// What every pass of one run shares.
struct Plan {
    rules: RuleSet,
    options: MatchOptions,
    since_seq: Option<i64>,
}

impl Retrohunt {
    /// A retrohunt of every indicator with the default margin.
    pub fn new() -> Retrohunt {
        Retrohunt::default()
    }

    fn plan(&self, store: &Store) -> Result<Plan> {
        let rules = RuleSet::load(store)?;
        let community = self.community.as_deref().map(|c| store.community(c).map(|c| c.id)).transpose()?;
        let since_seq = self.since.map(|t| seq_before(store, t)).transpose()?;
        let options =
            MatchOptions { profile: self.profile.clone(), community, collections: None, ..Default::default() };
        Ok(Plan { rules, options, since_seq })
    }

    /// The indicators of `collections` written after `changed_after`, windows widened.
    fn compile(
        &self,
        store: &Store,
        collections: Vec<String>,
        changed_after: Option<i64>,
    ) -> Result<Arc<crate::Index>> {
        let filter = CompileFilter {
            collections: Some(collections),
            changed_after,
            margin: Some(self.margin),
            ..Default::default()
        };
        Ok(Arc::new(store.compile_filtered(&filter)?))
    }

    /// The indexes to hunt a group of files with: the indicators of the rules' collections
    /// written after `from`; for files already hunted up to `hunted`, the collections of rules
    /// created or enabled since are taken whole (from [`Retrohunt::since`]) instead.
    fn compile_pass(
        &self,
        store: &Store,
        plan: &Plan,
        from: Option<i64>,
        hunted: Option<i64>,
    ) -> Result<Vec<Arc<crate::Index>>> {
        let mut fresh: Vec<String> = match hunted {
            Some(s) => {
                plan.rules.rules().iter().filter(|r| r.seq > s).flat_map(|r| r.collections.iter().cloned()).collect()
            }
            None => Vec::new(),
        };
        fresh.sort();
        fresh.dedup();
        let old: Vec<String> =
            plan.rules.collections().into_iter().filter(|c| fresh.binary_search(c).is_err()).collect();
        let mut out = vec![self.compile(store, old, from)?];
        if !fresh.is_empty() {
            out.push(self.compile(store, fresh, plan.since_seq)?);
        }
        Ok(out)
    }

    /// Hunt the files of `source`: `sink` gets every alert (in line order within a file, files
    /// interleaved) and `progress` `(bytes read, bytes to read)`. A file that cannot be read
    /// to its end, and lines that hold no event (not JSON, or no readable `@timestamp`), are
    /// reported in the summary and the hunt goes on.
    ///
    /// # Errors
    /// Storage errors, an unknown community, and whatever `sink` returns (which stops the hunt).
    pub fn run(
        &self,
        store: &Store,
        source: &EventSource,
        sink: AlertSink<'_>,
        progress: Option<ProgressFn<'_>>,
    ) -> Result<RetrohuntSummary> {
        let plan = self.plan(store)?;
        let state = if self.incremental { load_state(store)? } else { HashMap::new() };
        // files grouped by (the change sequence to hunt from, the one they were hunted up to);
        // a plain file that grew by appends is hunted with every indicator, its hunted lines
        // keeping only the matches of indicators (and rules) changed since
        type Group = (Option<i64>, Option<i64>);
        let mut groups: BTreeMap<Group, Vec<(usize, String, Option<Hunted>)>> = BTreeMap::new();
        let mut grown: Vec<(PathBuf, u64, i64)> = Vec::new();
        for (i, f) in source.files().iter().enumerate() {
            let key = state_key(f);
            let prev = state.get(&key).copied();
            let (size, mtime) = size_mtime(f);
            let group = match prev {
                Some(h) if (h.size, h.mtime) == (size, mtime) => {
                    (Some(plan.since_seq.map_or(h.seq, |s| s.max(h.seq))), Some(h.seq))
                }
                Some(h)
                    if !f.gzip
                        && size > h.size
                        && h.lines > 0
                        && fingerprint(&f.path, h.size as u64) == Some((h.fingerprint, true)) =>
                {
                    grown.push((f.path.clone(), h.lines as u64, h.seq));
                    (plan.since_seq, None)
                }
                _ => (plan.since_seq, None),
            };
            groups.entry(group).or_default().push((i, key, prev));
        }
        // per grown file: its hunted lines, and the indicators changed since it was hunted
        let mut changed_since: HashMap<i64, Arc<HashSet<String>>> = HashMap::new();
        let mut tails: HashMap<PathBuf, (u64, Arc<HashSet<String>>)> = HashMap::new();
        for (path, lines, seq) in grown {
            let changed = match changed_since.get(&seq) {
                Some(c) => c.clone(),
                None => {
                    let from = Some(plan.since_seq.map_or(seq, |s| s.max(seq)));
                    let mut ids = HashSet::new();
                    for index in self.compile_pass(store, &plan, from, Some(seq))? {
                        for row in 0..index.len() as u32 {
                            if let Some(u) = index.row_uuid(row) {
                                ids.insert(format!("indicator--{u}"));
                            }
                        }
                    }
                    let ids = Arc::new(ids);
                    changed_since.insert(seq, ids.clone());
                    ids
                }
            };
            tails.insert(path, (lines, changed));
        }
        let mut summary = RetrohuntSummary { rules: plan.rules.rules().len() as u64, ..Default::default() };
        let mut passes = Vec::new();
        for ((from, hunted), files) in groups {
            let indexes = self.compile_pass(store, &plan, from, hunted)?;
            for index in &indexes {
                summary.seq = summary.seq.max(index.seq());
                summary.indicators += index.len() as u64;
            }
            passes.push((indexes, files));
        }
        let total: u64 = passes
            .iter()
            .filter(|(indexes, _)| indexes.iter().any(|i| !i.is_empty()))
            .flat_map(|(_, files)| files.iter().map(|(i, _, _)| source.files()[*i].size))
            .sum();
        let alerts = AtomicU64::new(0);
        let bad = Mutex::new(Vec::new());
        let mut offset = 0u64;
        for (indexes, files) in passes {
            let mut done: Vec<(String, Hunted)> = Vec::new();
            let seq = indexes.iter().map(|i| i.seq()).max().unwrap_or(0);
            if indexes.iter().all(|i| i.is_empty()) {
                summary.files_skipped += files.len() as u64;
                for (i, key, prev) in &files {
                    let (size, mtime) = size_mtime(&source.files()[*i]);
                    let (lines, fingerprint) = prev.map_or((0, 0), |h| (h.lines, h.fingerprint));
                    done.push((key.clone(), Hunted { size, mtime, seq, lines, fingerprint }));
                }
            } else {
                let layers = indexes.into_iter().map(|i| (i, None)).collect();
                let matcher = Matcher::layered(layers, &plan.options)?;
                let mut part = source.clone();
                let wanted: HashSet<PathBuf> = files.iter().map(|(i, _, _)| source.files()[*i].path.clone()).collect();
                part.retain(|f| wanted.contains(&f.path));
                // the last line read of each file (for incremental runs)
                let last_line: HashMap<PathBuf, AtomicU64> = match self.incremental {
                    true => wanted.iter().map(|p| (p.clone(), AtomicU64::new(0))).collect(),
                    false => HashMap::new(),
                };
                let per_line = |l: &[u8]| timed_match(&matcher, l);
                let on_item = |f: &SourceFile, item: NdjsonItem<'_>| -> Result<()> {
                    let line = match &item {
                        NdjsonItem::Event { line, .. } | NdjsonItem::BadLine { line, .. } => *line,
                    };
                    if let Some(l) = last_line.get(&f.path) {
                        l.fetch_max(line, Ordering::Relaxed);
                    }
                    let Some((_, changed)) = tails.get(&f.path).filter(|(hunted, _)| line <= *hunted) else {
                        return on_event(&plan.rules, Some(&f.path), item, sink, &alerts, &bad);
                    };
                    // a line hunted before: only what changed since (its bad lines were reported)
                    let NdjsonItem::Event { matches, .. } = item else { return Ok(()) };
                    let kept: Vec<_> =
                        matches.matches.iter().filter(|m| changed.contains(&m.indicator_id)).cloned().collect();
                    if kept.is_empty() {
                        return Ok(());
                    }
                    let m = EventMatches { matches: kept, time: matches.time, time_source: matches.time_source };
                    on_event(&plan.rules, Some(&f.path), NdjsonItem::Event { line, matches: &m }, sink, &alerts, &bad)
                };
                let shifted = |d: u64, _: u64| {
                    if let Some(p) = progress {
                        p(offset + d, total);
                    }
                };
                let s = part.for_each_line(&per_line, &on_item, Some(&shifted))?;
                offset += part.total_bytes();
                summary.files += s.files;
                summary.events += s.totals.events;
                summary.bytes += s.totals.bytes;
                summary.disk_bytes += s.disk_bytes;
                summary.bad_lines += s.totals.bad_lines;
                if self.incremental {
                    let failed: HashSet<&PathBuf> = s.errors.iter().map(|e| &e.path).collect();
                    for (i, key, _) in &files {
                        let f = &source.files()[*i];
                        if failed.contains(&f.path) {
                            continue;
                        }
                        let (size, mtime) = size_mtime(f);
                        let lines = last_line.get(&f.path).map_or(0, |l| l.load(Ordering::Relaxed)) as i64;
                        let fingerprint = fingerprint(&f.path, f.size).map_or(0, |(h, _)| h);
                        done.push((key.clone(), Hunted { size, mtime, seq, lines, fingerprint }));
                    }
                }
                summary.errors.extend(s.errors);
            }
            if self.incremental {
                save_state(store, &done)?;
            }
        }
        summary.alerts = alerts.into_inner();
        let mut bad = bad.into_inner().unwrap_or_else(|p| p.into_inner());
        bad.sort_by(|a: &BadLine, b: &BadLine| (&a.source, a.line).cmp(&(&b.source, b.line)));
        summary.bad_line_details = bad;
        summary.errors.sort_by(|a, b| a.path.cmp(&b.path));
        Ok(summary)
    }

    /// Hunt events given one by one (JSON bytes each), e.g. from a database or a message bus;
    /// an alert's `line` is the event's 1-based position and its `source` is `None`.
    /// [`Retrohunt::incremental`] does not apply (there are no files to remember).
    ///
    /// # Errors
    /// Storage errors, an unknown community, and whatever `sink` returns.
    pub fn run_events<I, B>(&self, store: &Store, events: I, sink: AlertSink<'_>) -> Result<RetrohuntSummary>
    where
        I: IntoIterator<Item = B>,
        B: AsRef<[u8]>,
    {
        let plan = self.plan(store)?;
        let index = self.compile(store, plan.rules.collections(), plan.since_seq)?;
        let mut summary = RetrohuntSummary {
            rules: plan.rules.rules().len() as u64,
            indicators: index.len() as u64,
            seq: index.seq(),
            ..Default::default()
        };
        let matcher = Matcher::new(index, &plan.options)?;
        let alerts = AtomicU64::new(0);
        let bad = Mutex::new(Vec::new());
        for (i, e) in events.into_iter().enumerate() {
            let line = i as u64 + 1;
            let e = e.as_ref();
            summary.bytes += e.len() as u64;
            match timed_match(&matcher, e) {
                Ok(m) => {
                    summary.events += 1;
                    on_event(&plan.rules, None, NdjsonItem::Event { line, matches: &m }, sink, &alerts, &bad)?;
                }
                Err(err) => {
                    summary.bad_lines += 1;
                    let err = err.at_line(line);
                    on_event(&plan.rules, None, NdjsonItem::BadLine { line, error: &err }, sink, &alerts, &bad)?;
                }
            }
        }
        summary.alerts = alerts.into_inner();
        summary.bad_line_details = bad.into_inner().unwrap_or_else(|p| p.into_inner());
        Ok(summary)
    }
}

/// Match an event at its own time; an event without a readable `@timestamp` is an error (a
/// retrohunt cannot tell which indicators were in force then).
fn timed_match(matcher: &Matcher, line: &[u8]) -> Result<EventMatches> {
    let m = matcher.match_event(line, None)?;
    if m.time_source == TimeSource::Default {
        return Err(Error::invalid("@timestamp", "the event has no readable @timestamp"));
    }
    Ok(m)
}

fn on_event(
    rules: &RuleSet,
    source: Option<&Path>,
    item: NdjsonItem<'_>,
    sink: AlertSink<'_>,
    alerts: &AtomicU64,
    bad: &Mutex<Vec<BadLine>>,
) -> Result<()> {
    match item {
        NdjsonItem::Event { line, matches } => {
            if matches.matches.is_empty() {
                return Ok(());
            }
            let name = source.map(|p| p.display().to_string());
            for a in rules.alerts(matches, DetectionType::CtiRetrohunt, name.as_deref(), Some(line)) {
                sink(&a)?;
                alerts.fetch_add(1, Ordering::Relaxed);
            }
        }
        NdjsonItem::BadLine { line, error } => {
            let mut b = bad.lock().unwrap_or_else(|p| p.into_inner());
            if b.len() < MAX_BAD_LINES_KEPT {
                let source = source.map(|p| p.display().to_string());
                b.push(BadLine { source, line, message: error.message().to_string() });
            }
        }
    }
    Ok(())
}
