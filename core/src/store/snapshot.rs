//! Reading the store into an index: every active indicator, with its collection and community.

use super::Store;
use crate::error::{Error, ErrorKind, Result};
use crate::index::{CollectionRecord, CommunityRecord, Index, IndexBuilder, IndicatorRecord};
use crate::killchain::{PhaseSet, COMMAND_AND_CONTROL};
use crate::observable::{IndicatorValue, Kind};
use crate::scope::KindMask;
use crate::time::Timestamp;
use rusqlite::Connection;
use rustc_hash::FxHashMap;
use std::time::Duration;

fn bad(what: &str, v: &str) -> Error {
    Error::new(ErrorKind::Corrupt, format!("store holds an invalid {what}: '{v}'"))
}

/// Fill a builder with the communities and collections of the store; returns the maps from
/// store row ids to builder indexes.
fn tables(conn: &Connection, b: &mut IndexBuilder) -> Result<FxHashMap<i64, (u32, bool)>> {
    let mut comm_idx: FxHashMap<i64, u32> = FxHashMap::default();
    let mut parents: Vec<(i64, Option<i64>, String)> = Vec::new();
    let mut st = conn.prepare("SELECT id, parent_id, uuid FROM communities ORDER BY id")?;
    for r in st.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Option<i64>>(1)?, r.get::<_, String>(2)?)))? {
        parents.push(r?);
    }
    for (i, (rowid, _, _)) in parents.iter().enumerate() {
        comm_idx.insert(*rowid, i as u32);
    }
    for (_, parent, u) in &parents {
        let id = uuid::Uuid::try_parse(u).map_err(|_| bad("community id", u))?;
        b.add_community(CommunityRecord { id, parent: parent.and_then(|p| comm_idx.get(&p).copied()) });
    }
    let mut colls = FxHashMap::default();
    let mut st = conn.prepare(
        "SELECT id, uuid, community_id, available_for_sub_communities, match_subdomains FROM collections ORDER BY id",
    )?;
    let rows = st.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, i64>(2)?,
            r.get::<_, bool>(3)?,
            r.get::<_, bool>(4)?,
        ))
    })?;
    for r in rows {
        let (rowid, u, comm, avail, sub) = r?;
        let id = uuid::Uuid::try_parse(&u).map_err(|_| bad("collection id", &u))?;
        let community = *comm_idx.get(&comm).ok_or_else(|| bad("community reference", &comm.to_string()))?;
        let i = b.add_collection(CollectionRecord { id, community, available_for_sub_communities: avail });
        colls.insert(rowid, (i, sub));
    }
    Ok(colls)
}

/// The record of one stored indicator for the index.
pub(crate) fn record(colls: &FxHashMap<i64, (u32, bool)>, r: &rusqlite::Row<'_>) -> Result<Option<IndicatorRecord>> {
    let uuid_bytes: Vec<u8> = r.get(0)?;
    let coll: i64 = r.get(1)?;
    let key: String = r.get(2)?;
    let kinds: i64 = r.get(3)?;
    let Some(&(collection, coll_sub)) = colls.get(&coll) else { return Ok(None) };
    let value = IndicatorValue::from_stored(&key, kinds as u16).ok_or_else(|| bad("indicator value", &key))?;
    let phases = PhaseSet(r.get::<_, i64>(6)? as u32);
    let is_ip = value.observables.iter().any(|o| matches!(o.kind, Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr));
    Ok(Some(IndicatorRecord {
        id: uuid::Uuid::from_slice(&uuid_bytes).map_err(|_| bad("indicator id", &key))?,
        collection,
        value,
        valid_from: Timestamp(r.get(4)?),
        valid_until: r.get::<_, Option<i64>>(5)?.map(Timestamp),
        c2: is_ip && phases.intersects(COMMAND_AND_CONTROL),
        subdomains: r.get::<_, Option<bool>>(7)?.unwrap_or(coll_sub),
    }))
}

/// Columns read by [`record`].
pub(crate) const RECORD_COLUMNS: &str =
    "i.uuid, i.collection_id, i.value, i.kinds, i.valid_from, i.valid_until, i.kill_chain, i.match_subdomains";

/// Which indicators a purpose-built compile takes (retrohunt, telemetry), and how it reads
/// their validity windows. The default takes every active indicator as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CompileFilter {
    /// Only indicators of these collections (ids or names); every collection when `None`.
    pub collections: Option<Vec<String>>,
    /// Only indicators written (created, edited) after this change sequence.
    pub changed_after: Option<i64>,
    /// Only observables of these kinds ([`crate::scope`] masks); an indicator left with none
    /// is skipped.
    pub kinds: Option<KindMask>,
    /// Widen every validity window by this much on each side (the retrohunt margin).
    pub margin: Option<Duration>,
    /// Ignore validity windows: every indicator is in force at all times (telemetry).
    pub ignore_validity: bool,
}

impl Store {
    /// Compile the active indicators that `filter` takes into an index snapshot, their
    /// windows read as it says. The index keeps every community and collection of the store,
    /// so matchers over it resolve ids as usual.
    ///
    /// # Errors
    /// Not-found for an unknown collection; as [`Store::compile`].
    pub fn compile_filtered(&self, filter: &CompileFilter) -> Result<Index> {
        let conn = self.conn();
        conn.execute_batch("BEGIN")?;
        let out = (|| {
            let mut b = IndexBuilder::new();
            b.set_seq(super::current_seq(&conn)?);
            let colls = tables(&conn, &mut b)?;
            let wanted: Option<Vec<i64>> = match &filter.collections {
                None => None,
                Some(list) => Some(
                    list.iter().map(|c| super::collection_by_ref(&conn, c).map(|c| c.rowid)).collect::<Result<_>>()?,
                ),
            };
            let margin = filter.margin.map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
            let mut st = conn.prepare(&format!(
                "SELECT {RECORD_COLUMNS} FROM indicators i WHERE i.revoked_at IS NULL AND i.seq > ?1 ORDER BY i.id"
            ))?;
            let mut rows = st.query([filter.changed_after.unwrap_or(i64::MIN)])?;
            while let Some(r) = rows.next()? {
                if let Some(w) = &wanted {
                    if !w.contains(&r.get::<_, i64>(1)?) {
                        continue;
                    }
                }
                let Some(mut rec) = record(&colls, r)? else { continue };
                if let Some(mask) = filter.kinds {
                    rec.value.observables.retain(|o| mask & o.kind.bit() != 0);
                    if rec.value.observables.is_empty() {
                        continue;
                    }
                }
                if filter.ignore_validity {
                    rec.valid_from = Timestamp(i64::MIN);
                    rec.valid_until = None;
                } else if margin > 0 {
                    rec.valid_from = Timestamp(rec.valid_from.0.saturating_sub(margin));
                    rec.valid_until = rec.valid_until.map(|t| Timestamp(t.0.saturating_add(margin)));
                }
                b.add_indicator(rec);
            }
            drop(rows);
            drop(st);
            Ok::<_, Error>(b)
        })();
        conn.execute_batch("COMMIT")?;
        drop(conn);
        out?.build()
    }

    /// Compile every active indicator into an index snapshot.
    ///
    /// # Errors
    /// Storage errors, and [`ErrorKind::Corrupt`] if the store holds values it cannot have
    /// written.
    pub fn compile(&self) -> Result<Index> {
        let conn = self.conn();
        // one read transaction: a consistent snapshot even while others write
        conn.execute_batch("BEGIN")?;
        let out = (|| {
            let mut b = IndexBuilder::new();
            b.set_seq(super::current_seq(&conn)?);
            let colls = tables(&conn, &mut b)?;
            let mut st = conn.prepare(&format!(
                "SELECT {RECORD_COLUMNS} FROM indicators i WHERE i.revoked_at IS NULL ORDER BY i.id"
            ))?;
            let mut rows = st.query([])?;
            while let Some(r) = rows.next()? {
                if let Some(rec) = record(&colls, r)? {
                    b.add_indicator(rec);
                }
            }
            drop(rows);
            drop(st);
            Ok::<_, Error>(b)
        })();
        conn.execute_batch("COMMIT")?;
        drop(conn);
        out?.build()
    }
}

impl Store {
    /// A digest of what the index keeps of communities and collections: when it changes, a
    /// snapshot must be recompiled rather than patched.
    pub(crate) fn collections_digest(&self) -> Result<u64> {
        let conn = self.conn();
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        let mut st = conn.prepare_cached(
            "SELECT c.id, c.uuid, c.community_id, c.available_for_sub_communities, c.match_subdomains FROM collections c ORDER BY c.id",
        )?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            h.update(&r.get::<_, i64>(0)?.to_le_bytes());
            h.update(r.get::<_, String>(1)?.as_bytes());
            h.update(&r.get::<_, i64>(2)?.to_le_bytes());
            h.update(&[r.get::<_, bool>(3)? as u8, r.get::<_, bool>(4)? as u8]);
        }
        drop(rows);
        let mut st = conn.prepare_cached("SELECT id, uuid, COALESCE(parent_id, -1) FROM communities ORDER BY id")?;
        let mut rows = st.query([])?;
        while let Some(r) = rows.next()? {
            h.update(&r.get::<_, i64>(0)?.to_le_bytes());
            h.update(r.get::<_, String>(1)?.as_bytes());
            h.update(&r.get::<_, i64>(2)?.to_le_bytes());
        }
        Ok(h.digest())
    }

    /// Every indicator written after change `seq`: `superseded` is told each one's id (its old
    /// version is out of date), and the active ones go into `delta` with the store's tables.
    /// Returns the change sequence read.
    pub(crate) fn changes_since(
        &self,
        seq: i64,
        delta: &mut IndexBuilder,
        superseded: &mut dyn FnMut(uuid::Uuid),
    ) -> Result<i64> {
        let conn = self.conn();
        conn.execute_batch("BEGIN")?;
        let out = (|| {
            let now = super::current_seq(&conn)?;
            let colls = tables(&conn, delta)?;
            let mut st = conn.prepare(&format!(
                "SELECT {RECORD_COLUMNS}, i.revoked_at FROM indicators i WHERE i.seq > ?1 ORDER BY i.id"
            ))?;
            let mut rows = st.query([seq])?;
            while let Some(r) = rows.next()? {
                let id = uuid::Uuid::from_slice(&r.get::<_, Vec<u8>>(0)?).map_err(|_| bad("indicator id", "?"))?;
                superseded(id);
                if r.get::<_, Option<i64>>(8)?.is_none() {
                    if let Some(rec) = record(&colls, r)? {
                        delta.add_indicator(rec);
                    }
                }
            }
            Ok::<_, Error>(now)
        })();
        conn.execute_batch("COMMIT")?;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ImportDefaults, MatchOptions, Matcher, NewCollection};
    use std::sync::Arc;

    const DAY: u64 = 86_400;

    fn day(d: &str) -> Timestamp {
        Timestamp::parse(d).unwrap()
    }

    /// The observables of `filter`'s index that match an event holding every test value at `at`.
    fn found(s: &Store, filter: &CompileFilter, at: &str) -> Vec<String> {
        let index = Arc::new(s.compile_filtered(filter).unwrap());
        let m = Matcher::new(index, &MatchOptions::default()).unwrap();
        let ev = br#"{"url":{"domain":"a.example"},"dns":{"question":{"name":"b.example"}},"destination":{"ip":"10.0.0.3"}}"#;
        let mut v: Vec<String> =
            m.match_event(ev, Some(day(at))).unwrap().matches.into_iter().map(|m| m.observable).collect();
        v.sort();
        v.dedup();
        v
    }

    fn store() -> (Store, i64) {
        let s = Store::open_in_memory().unwrap();
        s.create_collection(&NewCollection::named("one")).unwrap();
        s.create_collection(&NewCollection::named("two")).unwrap();
        let window = ImportDefaults {
            valid_from: Some(day("2024-01-10")),
            valid_until: Some(day("2024-01-20")),
            ..Default::default()
        };
        s.import_text("one", b"a.example\n", &window).unwrap();
        s.import_text("two", b"b.example\n", &window).unwrap();
        let mid = s.change_seq().unwrap();
        s.import_text("two", b"10.0.0.3\n", &window).unwrap();
        (s, mid)
    }

    #[test]
    fn filters_by_collection_and_by_change() {
        let (s, mid) = store();
        let all = CompileFilter::default();
        let cases: Vec<(CompileFilter, Vec<&str>)> = vec![
            (all.clone(), vec!["10.0.0.3", "a.example", "b.example"]),
            (CompileFilter { collections: Some(vec!["one".into()]), ..all.clone() }, vec!["a.example"]),
            (
                CompileFilter { collections: Some(vec![s.collection("two").unwrap().id]), ..all.clone() },
                vec!["10.0.0.3", "b.example"],
            ),
            (CompileFilter { collections: Some(vec![]), ..all.clone() }, vec![]),
            (CompileFilter { changed_after: Some(mid), ..all.clone() }, vec!["10.0.0.3"]),
            (CompileFilter { changed_after: Some(s.change_seq().unwrap()), ..all.clone() }, vec![]),
            (CompileFilter { collections: Some(vec!["one".into()]), changed_after: Some(mid), ..all.clone() }, vec![]),
        ];
        for (filter, want) in cases {
            assert_eq!(found(&s, &filter, "2024-01-15"), want, "{filter:?}");
        }
        let e = s.compile_filtered(&CompileFilter { collections: Some(vec!["ghost".into()]), ..all }).unwrap_err();
        assert!(e.to_string().contains("'ghost'"), "{e}");
    }

    #[test]
    fn margin_widens_both_ends_of_every_window() {
        let (s, _) = store();
        let margin = CompileFilter { margin: Some(Duration::from_secs(5 * DAY)), ..Default::default() };
        let none = CompileFilter::default();
        let every = vec!["10.0.0.3", "a.example", "b.example"];
        let cases: Vec<(&str, &CompileFilter, Vec<&str>)> = vec![
            ("2024-01-09", &none, vec![]),
            ("2024-01-09", &margin, every.clone()),
            ("2024-01-05", &margin, every.clone()), // exactly 5 days before
            ("2024-01-04", &margin, vec![]),
            ("2024-01-21", &none, vec![]),
            ("2024-01-25", &margin, every.clone()), // exactly 5 days after
            ("2024-01-26", &margin, vec![]),
        ];
        for (at, filter, want) in cases {
            assert_eq!(found(&s, filter, at), want, "at {at} with {filter:?}");
        }
    }
}
