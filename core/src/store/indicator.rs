//! Indicators: one observable (or several hashes of one file) in a collection, with its validity
//! window, kill chain phases, related threats and description; edits and irreversible revocation.

use super::collection::{self, Collection};
use super::{Page, Pagination, Store, ThreatRegistry};
use crate::error::{Error, ErrorKind, Result};
use crate::killchain::PhaseSet;
use crate::observable::{self, IndicatorValue, Kind};
use crate::time::Timestamp;
use rayon::prelude::*;
use rusqlite::{Connection, OptionalExtension, Row, Transaction};
use rustc_hash::FxHashMap;

/// Prefix of indicator ids.
pub const INDICATOR_PREFIX: &str = "indicator";

/// An indicator as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Indicator {
    /// `indicator--<uuid>`.
    pub id: String,
    /// The id of its collection.
    pub collection_id: String,
    /// The observable(s), and the port an IP was seen with.
    pub value: IndicatorValue,
    /// Start of validity.
    pub valid_from: Timestamp,
    /// End of validity, `None` when it never expires.
    pub valid_until: Option<Timestamp>,
    /// Kill chain phases.
    pub kill_chain_phases: PhaseSet,
    /// Ids of the related threats.
    pub threats: Vec<String>,
    /// Free text, at most 500 characters.
    pub description: Option<String>,
    /// When it was created.
    pub created: Timestamp,
    /// When it was last changed.
    pub modified: Timestamp,
    /// When it was revoked; a revoked indicator never matches again.
    pub revoked_at: Option<Timestamp>,
    /// Whether a domain indicator also matches its sub-domains; `None`: as its collection says.
    pub match_subdomains: Option<bool>,
}

impl Indicator {
    /// Whether it has been revoked.
    pub fn revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    /// Its display name: the canonical observable text.
    pub fn name(&self) -> String {
        self.value.key()
    }

    /// Whether it is valid at `t` (inside `[valid_from, valid_until]`, and not revoked).
    pub fn is_valid_at(&self, t: Timestamp) -> bool {
        !self.revoked() && self.valid_from <= t && self.valid_until.is_none_or(|u| t <= u)
    }
}

/// Filters and page of an indicator listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndicatorQuery {
    /// Keep values containing this text (refanged, case-insensitive).
    pub search: Option<String>,
    /// Keep indicators of this kind.
    pub kind: Option<Kind>,
    /// `Some(true)`: only revoked ones; `Some(false)`: only active ones.
    pub revoked: Option<bool>,
    /// Which page.
    pub page: Pagination,
}

/// Changes to an indicator; `None` leaves a property as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IndicatorEdit {
    /// The observable cannot change: a different value is an [`ErrorKind::ImmutableField`] error.
    pub value: Option<String>,
    /// A new description; `Some(None)` clears it.
    pub description: Option<Option<String>>,
    /// A new start of validity.
    pub valid_from: Option<Timestamp>,
    /// A new end of validity; `Some(None)` makes it never expire.
    pub valid_until: Option<Option<Timestamp>>,
    /// New kill chain phases (replacing the old ones).
    pub kill_chain_phases: Option<PhaseSet>,
    /// New related threats by id, name or alias (replacing the old ones).
    pub threats: Option<Vec<String>>,
    /// Sub-domain matching; `Some(None)`: as its collection says.
    pub match_subdomains: Option<Option<bool>>,
}

/// One indicator about to be written by an import.
#[derive(Debug, Clone)]
pub(crate) struct Draft {
    pub value: IndicatorValue,
    pub valid_from: Timestamp,
    pub valid_until: Option<Timestamp>,
    pub phases: PhaseSet,
    pub threats: Vec<String>,
    pub description: Option<String>,
    pub match_subdomains: Option<bool>,
}

/// What [`insert_drafts`] did.
#[derive(Debug, Clone, Default)]
pub(crate) struct InsertOutcome {
    /// Per draft: the rowid of the indicator that holds it, and whether that one is new.
    pub rows: Vec<(i64, bool)>,
    /// New indicators written.
    pub inserted: u64,
    /// Drafts merged into an indicator that already existed or came earlier in the import.
    pub duplicates: u64,
}

const SELECT: &str = "SELECT i.uuid, c.uuid, i.value, i.kinds, i.port, i.valid_from, i.valid_until,
        i.kill_chain, i.threats, i.description, i.created, i.modified, i.revoked_at, i.id, i.match_subdomains
    FROM indicators i JOIN collections c ON c.id = i.collection_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Indicator> {
    let uuid_bytes: Vec<u8> = r.get(0)?;
    let uuid = uuid::Uuid::from_slice(&uuid_bytes)
        .map_err(|e| rusqlite::Error::FromSqlConversionFailure(0, rusqlite::types::Type::Blob, Box::new(e)))?;
    let key: String = r.get(2)?;
    let kinds: i64 = r.get(3)?;
    let mut value = IndicatorValue::from_stored(&key, kinds as u16).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            2,
            rusqlite::types::Type::Text,
            format!("stored indicator value '{key}' does not match its kinds {kinds}").into(),
        )
    })?;
    value.port = r.get::<_, Option<i64>>(4)?.and_then(|p| u16::try_from(p).ok());
    let threats: String = r.get(8)?;
    Ok(Indicator {
        id: format!("{INDICATOR_PREFIX}--{uuid}"),
        collection_id: format!("{}--{}", collection::COLLECTION_PREFIX, r.get::<_, String>(1)?),
        value,
        valid_from: Timestamp(r.get(5)?),
        valid_until: r.get::<_, Option<i64>>(6)?.map(Timestamp),
        kill_chain_phases: PhaseSet(r.get::<_, i64>(7)? as u32),
        threats: threats.split(',').filter(|t| !t.is_empty()).map(str::to_string).collect(),
        description: r.get(9)?,
        created: Timestamp(r.get(10)?),
        modified: Timestamp(r.get(11)?),
        revoked_at: r.get::<_, Option<i64>>(12)?.map(Timestamp),
        match_subdomains: r.get(14)?,
    })
}

/// Check that a validity window is well formed.
pub(crate) fn check_window(from: Timestamp, until: Option<Timestamp>) -> Result<()> {
    if let Some(u) = until {
        if u <= from {
            return Err(Error::invalid(u.to_rfc3339(), format!("valid_until {u} must be after valid_from {from}")));
        }
    }
    Ok(())
}

fn rowid_of(conn: &Connection, id: &str) -> Result<i64> {
    let u = super::parse_prefixed_uuid(id, INDICATOR_PREFIX)
        .ok_or_else(|| Error::invalid(id, format!("invalid indicator id '{id}': expected indicator--<uuid>")))?;
    conn.query_row("SELECT id FROM indicators WHERE uuid = ?1", [u.as_bytes().as_slice()], |r| r.get(0))
        .optional()?
        .ok_or_else(|| Error::not_found("indicator", id))
}

pub(crate) fn by_rowid(conn: &Connection, rowid: i64) -> Result<Indicator> {
    Ok(conn.prepare_cached(&format!("{SELECT} WHERE i.id = ?1"))?.query_row([rowid], from_row)?)
}

/// The wider of two windows: the earlier start, the later end (`None` = never ends).
fn widen(a: (Timestamp, Option<Timestamp>), b: (Timestamp, Option<Timestamp>)) -> (Timestamp, Option<Timestamp>) {
    let until = match (a.1, b.1) {
        (Some(x), Some(y)) => Some(x.max(y)),
        _ => None,
    };
    (a.0.min(b.0), until)
}

struct Entry {
    rowid: Option<i64>,
    /// Index of its key in the caller's list of keys.
    key: usize,
    draft: Draft,
    dirty: bool,
}

/// Indicator ids of one import: UUIDv7 with the import's millisecond and a counter started at a
/// random point, so ids are unique and increasing (appended to the id index, not scattered),
/// with one call to the system's random source per import instead of one per indicator.
struct IdGen {
    millis: u64,
    head: [u8; 2],
    counter: u64,
}

impl IdGen {
    fn new() -> IdGen {
        let seed = uuid::Uuid::new_v4().as_u128();
        let millis = u64::try_from(Timestamp::now().0 / 1000).unwrap_or_default();
        // 61 random bits: the counter can never reach 2^62, the bits the variant overwrites.
        IdGen { millis, head: [(seed >> 120) as u8, (seed >> 112) as u8], counter: (seed as u64) >> 3 }
    }

    fn next(&mut self) -> uuid::Uuid {
        self.counter += 1;
        let mut r = [0u8; 10];
        r[..2].copy_from_slice(&self.head);
        r[2..].copy_from_slice(&self.counter.to_be_bytes());
        uuid::Builder::from_unix_timestamp_millis(self.millis, &r).into_uuid()
    }
}

impl Entry {
    /// Fold a duplicate into this entry: widen the window, add phases and threats, keep a
    /// description. Nothing of either is lost.
    fn absorb(&mut self, d: &Draft) {
        let e = &mut self.draft;
        let before = (e.valid_from, e.valid_until, e.phases, e.threats.len(), e.description.is_some());
        (e.valid_from, e.valid_until) = widen((e.valid_from, e.valid_until), (d.valid_from, d.valid_until));
        e.phases = e.phases.union(d.phases);
        for t in &d.threats {
            if !e.threats.contains(t) {
                e.threats.push(t.clone());
            }
        }
        if e.description.is_none() {
            e.description.clone_from(&d.description);
        }
        if e.value.port.is_none() {
            e.value.port = d.value.port;
        }
        if d.match_subdomains.is_some() && e.match_subdomains != d.match_subdomains {
            e.match_subdomains = d.match_subdomains;
            self.dirty = true;
        }
        let after = (e.valid_from, e.valid_until, e.phases, e.threats.len(), e.description.is_some());
        self.dirty |= before != after;
    }
}

/// Write `drafts` into `collection` inside the caller's transaction. An observable already
/// active in the collection, or seen earlier in the same drafts, is merged (see
/// [`Entry::absorb`]) and counted as a duplicate. The per-community limit is checked before
/// anything is written; going past it fails the whole call.
pub(crate) fn insert_drafts(
    tx: &Transaction<'_>,
    collection: &Collection,
    drafts: Vec<Draft>,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<InsertOutcome> {
    let mut entries: Vec<Entry> = Vec::new();
    // keys of the active indicators, then of the drafts (made in parallel); an entry's key is
    // `keys[entry.key]`
    let mut keys: Vec<String> = Vec::new();
    {
        let mut st = tx.prepare(&format!("{SELECT} WHERE i.collection_id = ?1 AND i.revoked_at IS NULL"))?;
        let rows = st.query_map([collection.rowid], |r| Ok((r.get::<_, i64>(13)?, from_row(r)?)))?;
        for row in rows {
            let (rowid, ind) = row?;
            keys.push(ind.value.key());
            entries.push(Entry {
                rowid: Some(rowid),
                key: keys.len() - 1,
                draft: Draft {
                    value: ind.value,
                    valid_from: ind.valid_from,
                    valid_until: ind.valid_until,
                    phases: ind.kill_chain_phases,
                    threats: ind.threats,
                    description: ind.description,
                    match_subdomains: ind.match_subdomains,
                },
                dirty: false,
            });
        }
    }
    let existing = entries.len();
    keys.par_extend(drafts.par_iter().with_min_len(4096).map(|d| d.value.key()));
    let mut slot_of_draft = Vec::with_capacity(drafts.len());
    let mut duplicates = 0u64;
    let mut by_key: FxHashMap<&str, usize> = FxHashMap::default();
    by_key.reserve(keys.len());
    for (i, k) in keys[..existing].iter().enumerate() {
        by_key.insert(k, i);
    }
    entries.reserve(drafts.len());
    for (j, d) in drafts.into_iter().enumerate() {
        let key = existing + j;
        match by_key.get(keys[key].as_str()) {
            Some(&i) => {
                entries[i].absorb(&d);
                duplicates += 1;
                slot_of_draft.push(i);
            }
            None => {
                by_key.insert(&keys[key], entries.len());
                slot_of_draft.push(entries.len());
                entries.push(Entry { rowid: None, key, draft: d, dirty: true });
            }
        }
    }
    drop(by_key);
    let new = (entries.len() - existing) as u64;
    let max = super::max_indicators(tx)?;
    let count = super::community_count(tx, collection.community_rowid)?;
    if count + new > max {
        return Err(Error::new(
            ErrorKind::LimitExceeded,
            format!(
                "import refused: {new} new indicators would bring the community to {} active indicators, over its limit of {max}",
                count + new
            ),
        ));
    }

    let now = Timestamp::now().0;
    let seq = super::current_seq(tx)?;
    let mut ids = IdGen::new();
    let total = (entries.len() - existing) as u64 + entries[..existing].iter().filter(|e| e.dirty).count() as u64;
    let mut done = 0u64;
    let mut insert = tx.prepare_cached(
        "INSERT INTO indicators (uuid, collection_id, value, kinds, port, valid_from, valid_until,
                                 kill_chain, threats, description, created, modified, match_subdomains, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12, ?13)",
    )?;
    let mut update = tx.prepare_cached(
        "UPDATE indicators SET valid_from = ?2, valid_until = ?3, kill_chain = ?4, threats = ?5,
                description = ?6, port = ?7, modified = ?8, match_subdomains = ?9, seq = ?10 WHERE id = ?1",
    )?;
    for e in entries.iter_mut().filter(|e| e.dirty) {
        let d = &e.draft;
        match e.rowid {
            Some(rowid) => {
                update.execute(rusqlite::params![
                    rowid,
                    d.valid_from.0,
                    d.valid_until.map(|t| t.0),
                    d.phases.0 as i64,
                    d.threats.join(","),
                    d.description,
                    d.value.port,
                    now,
                    d.match_subdomains,
                    seq
                ])?;
            }
            None => {
                let uuid = ids.next();
                insert.execute(rusqlite::params![
                    uuid.as_bytes().as_slice(),
                    collection.rowid,
                    keys[e.key],
                    d.value.kinds_mask() as i64,
                    d.value.port,
                    d.valid_from.0,
                    d.valid_until.map(|t| t.0),
                    d.phases.0 as i64,
                    d.threats.join(","),
                    d.description,
                    now,
                    d.match_subdomains,
                    seq
                ])?;
                e.rowid = Some(tx.last_insert_rowid());
            }
        }
        done += 1;
        if done % 16_384 == 0 {
            progress(done, total);
        }
    }
    progress(done, total);
    let rows = slot_of_draft.iter().map(|&i| (entries[i].rowid.unwrap_or_default(), i >= existing)).collect();
    Ok(InsertOutcome { rows, inserted: new, duplicates })
}

impl Store {
    /// An indicator by id (`indicator--<uuid>` or the bare uuid).
    pub fn indicator(&self, id: &str) -> Result<Indicator> {
        let conn = self.conn();
        let rowid = rowid_of(&conn, id)?;
        by_rowid(&conn, rowid)
    }

    /// The indicators of a collection, oldest first, filtered and paginated.
    pub fn indicators(&self, collection: &str, query: &IndicatorQuery) -> Result<Page<Indicator>> {
        let conn = self.conn();
        let c = collection::resolve(&conn, collection)?;
        let term =
            query.search.as_deref().map(|s| observable::refang(s.trim()).to_lowercase()).filter(|s| !s.is_empty());
        let kind = query.kind.map(|k| k.bit() as i64).unwrap_or(0);
        let revoked = query.revoked.map(i64::from);
        let filter = "i.collection_id = ?1 AND (?2 IS NULL OR instr(lower(i.value), ?2) > 0)
            AND (?3 = 0 OR (i.kinds & ?3) <> 0) AND (?4 IS NULL OR (i.revoked_at IS NOT NULL) = ?4)";
        let total: i64 = conn.query_row(
            &format!("SELECT COUNT(*) FROM indicators i WHERE {filter}"),
            rusqlite::params![c.rowid, term, kind, revoked],
            |r| r.get(0),
        )?;
        let mut st = conn.prepare(&format!("{SELECT} WHERE {filter} ORDER BY i.id LIMIT ?5 OFFSET ?6"))?;
        let items = st
            .query_map(
                rusqlite::params![c.rowid, term, kind, revoked, query.page.limit as i64, query.page.offset as i64],
                from_row,
            )?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Page { items, total: total as u64 })
    }

    /// Change an indicator's description, validity, kill chain phases or threats.
    ///
    /// # Errors
    /// [`ErrorKind::ImmutableField`] when `edit.value` names another observable;
    /// [`ErrorKind::InvalidState`] for a revoked indicator; validation errors for a bad
    /// window, description or threat.
    pub fn edit_indicator(&self, id: &str, edit: &IndicatorEdit) -> Result<Indicator> {
        if let Some(Some(d)) = &edit.description {
            collection::check_description(d)?;
        }
        self.write(|tx| {
            let rowid = rowid_of(tx, id)?;
            let cur = by_rowid(tx, rowid)?;
            if let Some(v) = &edit.value {
                let same = observable::parse_indicator(v, None).map(|p| p.key() == cur.value.key()).unwrap_or(false);
                if !same {
                    return Err(Error::new(
                        ErrorKind::ImmutableField,
                        format!(
                            "the observable of indicator {} cannot be changed (from '{}' to '{v}')",
                            cur.id,
                            cur.name()
                        ),
                    ));
                }
            }
            if cur.revoked() {
                return Err(Error::new(
                    ErrorKind::InvalidState,
                    format!("indicator {} is revoked and cannot be edited", cur.id),
                ));
            }
            let from = edit.valid_from.unwrap_or(cur.valid_from);
            let until = edit.valid_until.unwrap_or(cur.valid_until);
            check_window(from, until)?;
            let threats = match &edit.threats {
                Some(refs) => ThreatRegistry::load(tx)?.resolve_all(refs)?,
                None => cur.threats.clone(),
            };
            let description = edit.description.clone().unwrap_or(cur.description.clone());
            let phases = edit.kill_chain_phases.unwrap_or(cur.kill_chain_phases);
            let subdomains = edit.match_subdomains.unwrap_or(cur.match_subdomains);
            tx.execute(
                "UPDATE indicators SET valid_from = ?2, valid_until = ?3, kill_chain = ?4, threats = ?5,
                        description = ?6, modified = ?7, match_subdomains = ?8, seq = ?9 WHERE id = ?1",
                rusqlite::params![
                    rowid,
                    from.0,
                    until.map(|t| t.0),
                    phases.0 as i64,
                    threats.join(","),
                    description,
                    Timestamp::now().0,
                    subdomains,
                    super::current_seq(tx)?
                ],
            )?;
            by_rowid(tx, rowid)
        })
    }

    /// Revoke an indicator, for good: it never matches again, its row stays for audit, and
    /// importing the same observable later creates a new indicator.
    ///
    /// # Errors
    /// [`ErrorKind::InvalidState`] when it is already revoked.
    pub fn revoke_indicator(&self, id: &str) -> Result<Indicator> {
        self.write(|tx| {
            let rowid = rowid_of(tx, id)?;
            let cur = by_rowid(tx, rowid)?;
            if cur.revoked() {
                return Err(Error::new(ErrorKind::InvalidState, format!("indicator {} is already revoked", cur.id)));
            }
            let now = Timestamp::now().0;
            tx.execute(
                "UPDATE indicators SET revoked_at = ?2, modified = ?2, seq = ?3 WHERE id = ?1",
                rusqlite::params![rowid, now, super::current_seq(tx)?],
            )?;
            by_rowid(tx, rowid)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_v7_unique_and_increasing() {
        let mut g = IdGen::new();
        let mut prev = g.next();
        assert_eq!(prev.get_version_num(), 7);
        assert_eq!(prev.get_variant(), uuid::Variant::RFC4122);
        for _ in 0..100_000 {
            let id = g.next();
            assert!(id > prev, "{id} after {prev}");
            prev = id;
        }
        // two imports in the same millisecond still differ
        let (a, b) = (IdGen::new().next(), IdGen::new().next());
        assert_ne!(a, b);
    }

    #[test]
    fn widen_takes_the_outer_bounds() {
        let t = |s: i64| Timestamp::from_secs(s);
        assert_eq!(widen((t(10), Some(t(20))), (t(5), Some(t(15)))), (t(5), Some(t(20))));
        assert_eq!(widen((t(10), Some(t(20))), (t(15), None)), (t(10), None));
    }
}
