//! Matching events against an index: validity windows, visibility by community, field scopes
//! and the Command and Control rule.

mod field_ids;
mod live;
mod ndjson;
mod output;
mod raw;
mod sightings;

pub use live::LiveMatcher;
pub(crate) use ndjson::stream_lines;
pub use ndjson::{NdjsonItem, NdjsonSummary};
pub use sightings::{Sighting, SightingsRecorder};

use crate::error::{Error, ErrorKind, Result};
use crate::event::{self, FieldPaths};
use crate::index::{self, Index, FLAG_C2, UNTIL_NEVER};
use crate::observable::Kind;
use crate::scope::{self, KindMask, Profile};
use crate::time::Timestamp;
use rayon::prelude::*;
use serde::Serialize;
use std::borrow::Cow;
use std::sync::Arc;

/// Who decides which collections a matcher sees, and how events are read.
#[derive(Debug, Clone, Default)]
pub struct MatchOptions {
    /// Field scopes; [`Profile::default`] when `None`.
    pub profile: Option<Profile>,
    /// The community events come from (its uuid): the matcher sees that community's
    /// collections and those of its ancestors made available to sub-communities. Every
    /// collection when `None`.
    pub community: Option<String>,
    /// Only these collections (ids `ioc-collection--<uuid>` or bare uuids).
    pub collections: Option<Vec<String>>,
    /// The time of events whose `@timestamp` cannot be read; the time of matching when `None`.
    pub default_time: Option<Timestamp>,
    /// Count sightings (per indicator and UTC day, ignoring validity windows) into this
    /// recorder; off when `None`. Only [`Matcher::match_event`], [`Matcher::match_fields`] and
    /// what builds on them count (not raw-text scans).
    pub sightings: Option<Arc<SightingsRecorder>>,
}

/// Where the time an event was matched at came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeSource {
    /// The caller gave it.
    Caller,
    /// The event's `@timestamp`.
    Event,
    /// The event had no readable `@timestamp`: the default time was used.
    Default,
}

/// One indicator found in one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Match {
    /// `indicator--<uuid>`.
    pub indicator_id: String,
    /// `ioc-collection--<uuid>`.
    pub collection_id: String,
    /// The kind of the indicator's observable.
    pub kind: Kind,
    /// The indicator's normalised observable (the parent domain for a sub-domain match, the
    /// range for a CIDR).
    pub observable: String,
    /// The event field it was found in.
    pub field: String,
    /// The event's value, as it was in the event.
    pub value: String,
    /// Byte offset of the value in the event (or in the line, for raw text).
    pub offset: usize,
}

/// The matches of one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EventMatches {
    /// What was found, in document order.
    pub matches: Vec<Match>,
    /// The time the event was matched at.
    pub time: Timestamp,
    /// Where that time came from.
    pub time_source: TimeSource,
}

/// Where a value was found: field, text and position.
struct Site<'a> {
    field: u32,
    value: &'a str,
    offset: usize,
}

/// Where [`Matcher::lookup_in`] reports a row found: `(row, kind, its observable, made on demand)`.
type PushHit<'a> = dyn FnMut(u32, Kind, &dyn Fn() -> String) + 'a;

/// A match found before the event's time was known.
struct Pending {
    layer: u32,
    row: u32,
    flags: u32,
    field: u32,
    m: Match,
}

/// Values of one event already looked up: (kinds looked for, value, its pending matches).
const SEEN: usize = 16;

/// The look-ups of one event. A value seen before in the event with the same kinds (`related.ip`
/// repeats `source.ip`, `related.hash` repeats `process.hash.sha256`) is not looked up again.
struct Candidates<'a> {
    pending: Vec<Pending>,
    seen: [(KindMask, &'a str, u32, u32); SEEN],
    n_seen: usize,
}

impl Default for Candidates<'_> {
    fn default() -> Self {
        Candidates { pending: Vec::new(), seen: [(0, "", 0, 0); SEEN], n_seen: 0 }
    }
}

impl<'a> Candidates<'a> {
    fn add(&mut self, m: &Matcher, field: u32, value: Cow<'a, str>, offset: usize) {
        let kinds = m.field_kinds.get(field as usize).copied().unwrap_or(0);
        if kinds == 0 {
            return;
        }
        if let Cow::Borrowed(v) = value {
            if let Some(&(_, _, lo, hi)) = self.seen[..self.n_seen].iter().find(|(k, s, _, _)| *k == kinds && *s == v) {
                for i in lo..hi {
                    let p = &self.pending[i as usize];
                    let mut dup = p.m.clone();
                    dup.field = m.paths.name(field).to_string();
                    dup.value = v.to_string();
                    dup.offset = offset;
                    self.pending.push(Pending { field, m: dup, ..*p });
                }
                return;
            }
            let lo = self.pending.len() as u32;
            m.lookup(&Site { field, value: v, offset }, &mut self.pending);
            if self.n_seen < SEEN {
                self.seen[self.n_seen] = (kinds, v, lo, self.pending.len() as u32);
                self.n_seen += 1;
            }
        } else {
            m.lookup(&Site { field, value: &value, offset }, &mut self.pending);
        }
    }

    /// The matches in force at `t`, in document order.
    fn finish(self, m: &Matcher, t: u32) -> Vec<Match> {
        if self.pending.is_empty() {
            return Vec::new();
        }
        if let Some(rec) = &m.sightings {
            self.record(m, rec, t);
        }
        let mut out = Vec::with_capacity(self.pending.len());
        for p in self.pending {
            let layer = &m.layers[p.layer as usize];
            if m.in_force(layer, p.row, p.flags, p.field, t) {
                out.push(p.m);
            }
        }
        out
    }
}

impl Candidates<'_> {
    /// Count each indicator found once, at `t`, whatever its validity window (the Command and
    /// Control rule still applies).
    #[cold]
    fn record(&self, m: &Matcher, rec: &SightingsRecorder, t: u32) {
        let day = Timestamp::from_secs(i64::from(t)).day();
        let counts = |p: &Pending| m.c2_allows(p.flags, p.field);
        for (i, p) in self.pending.iter().enumerate() {
            if !counts(p) || self.pending[..i].iter().any(|q| q.layer == p.layer && q.row == p.row && counts(q)) {
                continue;
            }
            if let Some(id) = m.layers[p.layer as usize].index.row_uuid(p.row) {
                rec.record(id, day, 1);
            }
        }
    }
}

/// A bit per row of an index: set for rows superseded since it was compiled.
pub(crate) type Tombstones = Arc<Vec<u64>>;

/// One index a matcher reads, with what it may report of it.
#[derive(Debug, Clone)]
struct Layer {
    index: Arc<Index>,
    /// Per collection: may this matcher report it?
    visible: Vec<bool>,
    /// Rows superseded by a later layer (edited or revoked since this index was compiled).
    dead: Option<Tombstones>,
}

/// Matches events against index snapshots. `Send + Sync`: share it between threads.
#[derive(Debug, Clone)]
pub struct Matcher {
    layers: Vec<Layer>,
    paths: FieldPaths,
    field_kinds: Vec<KindMask>,
    c2_field: Option<u32>,
    default_time: Option<Timestamp>,
    sightings: Option<Arc<SightingsRecorder>>,
}

fn uuid_of(s: &str, prefix: &str) -> Result<uuid::Uuid> {
    let t = s.trim();
    let rest = t.strip_prefix(prefix).and_then(|r| r.strip_prefix("--")).unwrap_or(t);
    uuid::Uuid::try_parse(rest).map_err(|_| Error::invalid(s, format!("invalid {prefix} id '{s}'")))
}

impl Matcher {
    /// A matcher over `index` with `options`.
    ///
    /// # Errors
    /// Not-found when the community or a collection is not in the index; validation for
    /// malformed ids.
    pub fn new(index: Arc<Index>, options: &MatchOptions) -> Result<Matcher> {
        Matcher::layered(vec![(index, None)], options)
    }

    /// A matcher over several indexes (a base and the changes since), each with the rows of it
    /// that later layers superseded.
    pub(crate) fn layered(indexes: Vec<(Arc<Index>, Option<Tombstones>)>, options: &MatchOptions) -> Result<Matcher> {
        let profile = options.profile.clone().unwrap_or_default();
        let names: Vec<&str> = profile.rules().iter().map(|r| r.field.as_str()).collect();
        let paths = FieldPaths::new(&names);
        let field_kinds = profile.rules().iter().map(|r| r.kinds).collect();
        let c2_field = paths.id(scope::C2_FIELD);
        let mut layers = Vec::with_capacity(indexes.len());
        for (i, (index, dead)) in indexes.into_iter().enumerate() {
            // the community and collections must exist in the base; later layers share its tables
            let visible = visibility(&index, options, i == 0)?;
            layers.push(Layer { index, visible, dead });
        }
        Ok(Matcher {
            layers,
            paths,
            field_kinds,
            c2_field,
            default_time: options.default_time,
            sightings: options.sightings.clone(),
        })
    }

    /// The (base) index this matcher reads.
    pub fn index(&self) -> &Arc<Index> {
        &self.layers[0].index
    }

    /// The recorder it counts sightings into, if any.
    pub fn sightings(&self) -> Option<&Arc<SightingsRecorder>> {
        self.sightings.as_ref()
    }

    /// Whether it may report some collection at all (an empty view reports nothing).
    pub(crate) fn sees_any(&self) -> bool {
        self.layers[0].visible.iter().any(|&v| v)
    }

    /// The field paths it extracts.
    pub fn fields(&self) -> &FieldPaths {
        &self.paths
    }

    /// The collection of `row` when this matcher may report it at all (visible collection, not
    /// superseded), with its flags: what does not depend on the event's time or field.
    #[inline]
    fn visible(&self, layer: &Layer, row: u32) -> Option<(u32, u32)> {
        let (coll, flags) = layer.index.row_cf(row)?;
        if !layer.visible.get(coll as usize).copied().unwrap_or(false) {
            return None;
        }
        if let Some(dead) = &layer.dead {
            if dead.get(row as usize / 64).is_some_and(|w| w & (1 << (row % 64)) != 0) {
                return None;
            }
        }
        Some((coll, flags))
    }

    /// Does `row` (with `flags`) match a value of `field` at `t`: validity window and the
    /// Command and Control rule.
    #[inline]
    fn in_force(&self, layer: &Layer, row: u32, flags: u32, field: u32, t: u32) -> bool {
        let (from, until) = layer.index.row_window(row);
        if t < from || (until != UNTIL_NEVER && t > until) {
            return false;
        }
        self.c2_allows(flags, field)
    }

    /// The Command and Control rule: an IP indicator of that phase (`flags`) counts in the
    /// `destination.ip` field only.
    #[inline]
    fn c2_allows(&self, flags: u32, field: u32) -> bool {
        flags & FLAG_C2 == 0 || Some(field) == self.c2_field
    }

    fn accept(&self, layer: &Layer, row: u32, field: u32, t: u32) -> Option<u32> {
        let (coll, flags) = self.visible(layer, row)?;
        self.in_force(layer, row, flags, field, t).then_some(coll)
    }

    fn hit(&self, layer: &Layer, row: u32, coll: u32, kind: Kind, observable: String, at: &Site<'_>) -> Match {
        Match {
            indicator_id: format!("indicator--{}", layer.index.row_uuid(row).unwrap_or_default()),
            collection_id: format!("ioc-collection--{}", layer.index.collection_uuid(coll).unwrap_or_default()),
            kind,
            observable,
            field: self.paths.name(at.field).to_string(),
            value: at.value.to_string(),
            offset: at.offset,
        }
    }

    /// Look one value of one field up in every layer; push what this matcher may report,
    /// whatever the time (the caller checks that with [`Matcher::in_force`]).
    fn lookup(&self, at: &Site<'_>, out: &mut Vec<Pending>) {
        for (li, layer) in self.layers.iter().enumerate() {
            let mut push = |row: u32, kind: Kind, observable: &dyn Fn() -> String| {
                if let Some((coll, flags)) = self.visible(layer, row) {
                    let m = self.hit(layer, row, coll, kind, observable(), at);
                    out.push(Pending { layer: li as u32, row, flags, field: at.field, m });
                }
            };
            self.lookup_in(layer, at, &mut push);
        }
    }

    fn lookup_in(&self, layer: &Layer, at: &Site<'_>, push: &mut PushHit<'_>) {
        let value = at.value;
        let wanted = self.field_kinds.get(at.field as usize).copied().unwrap_or(0);
        // kinds this index has no key of are not looked up (but an IP is still nothing else)
        let kinds = wanted & layer.index.present();
        if wanted & scope::IP != 0 {
            if let Some(ip) = index::parse_ip(value) {
                if kinds & scope::IP != 0 {
                    layer.index.lookup_ip(ip, &mut |row, kind| {
                        if kinds & kind.bit() != 0 {
                            push(row, kind, &|| match kind {
                                Kind::Cidr => layer.index.row_cidr(row).map(|n| n.to_string()).unwrap_or_default(),
                                _ => ip.to_string(),
                            });
                        }
                    });
                }
                return; // an IP is nothing else
            }
        }
        if kinds & scope::DOMAIN != 0 {
            if let Some(d) = index::domain_key(value) {
                layer.index.lookup_domain(&d, &mut |row, matched| push(row, Kind::Domain, &|| matched.to_string()));
            }
        }
        let mut string = |kind: Kind, key: &str| {
            layer.index.lookup_string(kind, key, &mut |row| push(row, kind, &|| key.to_string()));
        };
        if kinds & scope::URL != 0 && value.contains("://") {
            if let Some(u) = index::url_key(value) {
                string(Kind::Url, &u);
            }
        }
        if kinds & scope::EMAIL != 0 && value.contains('@') {
            if let Some(e) = index::email_key(value) {
                string(Kind::Email, &e);
            }
        }
        if kinds & Kind::Username.bit() != 0 {
            let u = value.trim();
            if !u.is_empty() {
                string(Kind::Username, u);
            }
        }
        if kinds & scope::HASH != 0 {
            let h = value.trim();
            let kind = match h.len() {
                _ if h.contains(':') => Kind::Ssdeep,
                32 => Kind::Md5,
                40 => Kind::Sha1,
                64 => Kind::Sha256,
                128 => Kind::Sha512,
                _ => Kind::Ssdeep,
            };
            if kind == Kind::Ssdeep {
                if kinds & Kind::Ssdeep.bit() != 0 {
                    string(Kind::Ssdeep, h);
                }
            } else if kinds & kind.bit() != 0 {
                let mut buf = [0u8; 64];
                let bytes = &mut buf[..h.len() / 2];
                if index::decode_hex_into(h.as_bytes(), bytes) {
                    layer.index.lookup_hash(kind, bytes, &mut |row| push(row, kind, &|| h.to_ascii_lowercase()));
                }
            }
        }
    }

    fn secs(t: Timestamp) -> u32 {
        t.secs().clamp(0, i64::from(u32::MAX - 1)) as u32
    }

    fn default_time(&self) -> Timestamp {
        self.default_time.unwrap_or_else(Timestamp::now)
    }

    /// Match one ECS event (JSON bytes). The time is `at` when given, else the event's
    /// `@timestamp`, else the default time (and the result says so).
    ///
    /// # Errors
    /// A validation error when the bytes are not a JSON object.
    pub fn match_event(&self, json: &[u8], at: Option<Timestamp>) -> Result<EventMatches> {
        // Values are looked up as the scan finds them; the time (which may come after them in
        // the document) is applied to the few candidates at the end.
        let mut c = Candidates::default();
        let meta = event::scan_event(json, &self.paths, &mut |v| {
            c.add(self, v.field, v.value, v.offset);
        })?;
        let (time, time_source) = match (at, meta.timestamp) {
            (Some(t), _) => (t, TimeSource::Caller),
            (None, Some(t)) => (t, TimeSource::Event),
            (None, None) => (self.default_time(), TimeSource::Default),
        };
        Ok(EventMatches { matches: c.finish(self, Self::secs(time)), time, time_source })
    }

    /// Match already extracted `(field, value)` pairs at time `at` (the default time when
    /// `None`). Fields outside the profile are ignored; `offset` is the pair's position.
    pub fn match_fields<F: AsRef<str>, V: AsRef<str>>(&self, fields: &[(F, V)], at: Option<Timestamp>) -> EventMatches {
        let (time, time_source) = match at {
            Some(t) => (t, TimeSource::Caller),
            None => (self.default_time(), TimeSource::Default),
        };
        let mut c = Candidates::default();
        for (i, (f, v)) in fields.iter().enumerate() {
            if let Some(field) = self.paths.id(f.as_ref()) {
                c.add(self, field, Cow::Borrowed(v.as_ref()), i);
            }
        }
        EventMatches { matches: c.finish(self, Self::secs(time)), time, time_source }
    }

    /// Match many events in parallel; the results come back in input order.
    pub fn match_batch<E: AsRef<[u8]> + Sync>(&self, events: &[E], at: Option<Timestamp>) -> Vec<Result<EventMatches>> {
        events.par_iter().with_min_len(64).map(|e| self.match_event(e.as_ref(), at)).collect()
    }
}

pub(crate) fn bad_line(line: u64, e: Error) -> Error {
    Error::new(ErrorKind::Validation, e.message().to_string()).at_line(line)
}

/// Which collections of `index` a matcher with `options` may report. Ids that the index does
/// not know are errors for the base layer, and ignored for later layers.
fn visibility(index: &Index, options: &MatchOptions, strict: bool) -> Result<Vec<bool>> {
    let n = index.collection_count();
    let mut visible = vec![true; n];
    if let Some(c) = &options.community {
        let want = uuid_of(c, "community")?;
        let Some(comm) = (0..index.community_count() as u32).find(|&i| index.community_uuid(i) == Some(want)) else {
            if strict {
                return Err(Error::not_found("community", c.as_str()));
            }
            return Ok(vec![false; n]);
        };
        let mut ancestors = Vec::new();
        let mut cur = index.community_parent(comm);
        while let Some(p) = cur {
            if ancestors.contains(&p) || p == comm {
                break;
            }
            ancestors.push(p);
            cur = index.community_parent(p);
        }
        for (i, v) in visible.iter_mut().enumerate() {
            *v = match index.collection_scope(i as u32) {
                Some((owner, _)) if owner == comm => true,
                Some((owner, avail)) => avail && ancestors.contains(&owner),
                None => false,
            };
        }
    }
    if let Some(list) = &options.collections {
        let mut keep = vec![false; n];
        for c in list {
            let want = uuid_of(c, "ioc-collection")?;
            match (0..n as u32).find(|&i| index.collection_uuid(i) == Some(want)) {
                Some(i) => keep[i as usize] = true,
                None if strict => return Err(Error::not_found("collection", c.as_str())),
                None => {}
            }
        }
        for (v, k) in visible.iter_mut().zip(keep) {
            *v &= k;
        }
    }
    Ok(visible)
}
