//! Sightings and telemetry reports in the store: sightings counted by live matchers, added up
//! per indicator and UTC day; reports saved with their rows.
//!
//! Neither bumps the store's change sequence: they change no indicator, so matchers following
//! the store have nothing to recompile.

use super::{collection, community, parse_prefixed_uuid, Store};
use crate::detect::telemetry::{DayCount, TelemetryReport, TelemetryRow, TelemetrySummary, REPORT_PREFIX};
use crate::error::{Error, ErrorKind, Result};
use crate::matcher::{Sighting, SightingsRecorder};
use crate::observable::Kind;
use crate::scope::KindMask;
use crate::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior};

/// Run `f` in one write transaction that leaves the change sequence alone.
fn quiet_write<T>(store: &Store, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
    let mut conn = store.conn();
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let out = f(&tx)?;
    tx.commit()?;
    Ok(out)
}

/// One indicator's stored sightings: uuid, stored value, kinds mask, `(day, count)` in day order.
pub(crate) type IndicatorSightings = (uuid::Uuid, String, u16, Vec<(i64, u64)>);

/// Sightings of one collection's indicators read from the `sightings` table.
pub(crate) struct StoredSightings {
    /// Per indicator, in row order.
    pub(crate) indicators: Vec<IndicatorSightings>,
}

impl Store {
    /// Add sightings to the store: per indicator and day, counts add to those already stored.
    /// Sightings of indicators no longer in the store are skipped. Returns the sightings
    /// written (summed counts).
    ///
    /// # Errors
    /// Storage errors (nothing is written then).
    pub fn add_sightings(&self, sightings: &[Sighting]) -> Result<u64> {
        if sightings.is_empty() {
            return Ok(0);
        }
        quiet_write(self, |tx| {
            let mut st = tx.prepare_cached(
                "INSERT INTO sightings (indicator_id, day, count)
                 SELECT id, ?2, ?3 FROM indicators WHERE uuid = ?1
                 ON CONFLICT (indicator_id, day) DO UPDATE SET count = count + excluded.count",
            )?;
            let mut written = 0u64;
            for s in sightings {
                let count = i64::try_from(s.count).unwrap_or(i64::MAX);
                if st.execute(rusqlite::params![s.indicator.as_bytes().as_slice(), s.day, count])? > 0 {
                    written = written.saturating_add(s.count);
                }
            }
            Ok(written)
        })
    }

    /// Take the counts out of `recorder` and add them to the store ([`Store::add_sightings`]);
    /// on failure they are put back for the next flush. Returns the sightings written.
    ///
    /// # Errors
    /// Storage errors.
    pub fn flush_sightings(&self, recorder: &SightingsRecorder) -> Result<u64> {
        let counts = recorder.take();
        self.add_sightings(&counts).inspect_err(|_| recorder.restore(&counts))
    }

    /// The stored sightings of one indicator (`indicator--<uuid>` or the bare uuid), as
    /// `(day, count)` in day order.
    ///
    /// # Errors
    /// Validation error for a malformed id; storage errors.
    pub fn sightings(&self, indicator: &str) -> Result<Vec<(i64, u64)>> {
        let id = parse_prefixed_uuid(indicator, "indicator")
            .ok_or_else(|| Error::invalid(indicator, format!("invalid indicator id '{indicator}'")))?;
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT s.day, s.count FROM sightings s JOIN indicators i ON i.id = s.indicator_id
             WHERE i.uuid = ?1 ORDER BY s.day",
        )?;
        let rows =
            st.query_map([id.as_bytes().as_slice()], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)? as u64)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The stored sightings of the active indicators of a collection (by row id) of `kinds`,
    /// on days `first..=last`.
    pub(crate) fn collection_sightings(
        &self,
        collection_rowid: i64,
        kinds: KindMask,
        first: i64,
        last: i64,
    ) -> Result<StoredSightings> {
        let conn = self.conn();
        let mut st = conn.prepare_cached(
            "SELECT i.uuid, i.value, i.kinds, s.day, s.count FROM sightings s JOIN indicators i ON i.id = s.indicator_id
             WHERE i.collection_id = ?1 AND i.revoked_at IS NULL AND (i.kinds & ?2) != 0
               AND s.day BETWEEN ?3 AND ?4
             ORDER BY i.id, s.day",
        )?;
        let mut rows = st.query(rusqlite::params![collection_rowid, i64::from(kinds), first, last])?;
        let mut out: Vec<IndicatorSightings> = Vec::new();
        while let Some(r) = rows.next()? {
            let bytes: Vec<u8> = r.get(0)?;
            let id = uuid::Uuid::from_slice(&bytes)
                .map_err(|_| Error::new(ErrorKind::Corrupt, "store holds an invalid indicator id"))?;
            let day: i64 = r.get(3)?;
            let count = r.get::<_, i64>(4)?.max(0) as u64;
            match out.last_mut() {
                Some(last) if last.0 == id => last.3.push((day, count)),
                _ => out.push((id, r.get(1)?, r.get::<_, i64>(2)? as u16, vec![(day, count)])),
            }
        }
        Ok(StoredSightings { indicators: out })
    }

    /// The stored value and kinds mask of indicators, by uuid (those still stored).
    pub(crate) fn indicator_values(&self, ids: &[uuid::Uuid]) -> Result<Vec<Option<(String, u16)>>> {
        let conn = self.conn();
        let mut st = conn.prepare_cached("SELECT value, kinds FROM indicators WHERE uuid = ?1")?;
        ids.iter()
            .map(|id| {
                Ok(st
                    .query_row([id.as_bytes().as_slice()], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)? as u16)))
                    .optional()?)
            })
            .collect()
    }

    /// Save a report (its id and every field as given).
    pub(crate) fn save_telemetry_report(&self, report: &TelemetryReport) -> Result<()> {
        let s = &report.summary;
        let uuid = parse_prefixed_uuid(&s.id, REPORT_PREFIX)
            .ok_or_else(|| Error::invalid(&s.id, format!("invalid telemetry report id '{}'", s.id)))?;
        quiet_write(self, |tx| {
            let coll = collection::resolve(tx, &s.collection_id)?;
            tx.execute(
                "INSERT INTO telemetry_reports (uuid, collection_id, created, window_start, window_end, communities, source, events)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                rusqlite::params![
                    uuid.to_string(),
                    coll.rowid,
                    s.created.0,
                    s.window_start.0,
                    s.window_end.0,
                    s.communities.join(","),
                    s.source,
                    i64::try_from(s.events).unwrap_or(i64::MAX),
                ],
            )?;
            let rid = tx.last_insert_rowid();
            let mut st = tx.prepare_cached(
                "INSERT INTO telemetry_rows (report_id, indicator, observable, kind, sightings, first_seen, last_seen, days)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?;
            for r in &report.rows {
                let days: Vec<(i64, u64)> = r.days.iter().map(|d| (d.day, d.count)).collect();
                let days = serde_json::to_string(&days)
                    .map_err(|e| Error::new(ErrorKind::Storage, format!("cannot encode days: {e}")))?;
                st.execute(rusqlite::params![
                    rid,
                    r.indicator_id,
                    r.observable,
                    r.kind.as_str(),
                    i64::try_from(r.sightings).unwrap_or(i64::MAX),
                    r.first_seen.0,
                    r.last_seen.0,
                    days,
                ])?;
            }
            Ok(())
        })
    }

    /// A saved telemetry report, with its rows ordered by sightings (most first, ties by
    /// observable).
    ///
    /// # Errors
    /// Not-found for an unknown id; storage errors.
    pub fn telemetry_report(&self, id: &str) -> Result<TelemetryReport> {
        let conn = self.conn();
        let (rowid, summary) = summary_by_id(&conn, id)?;
        let mut st = conn.prepare_cached(
            "SELECT indicator, observable, kind, sightings, first_seen, last_seen, days FROM telemetry_rows
             WHERE report_id = ?1 ORDER BY sightings DESC, observable, indicator",
        )?;
        let mut rows = st.query([rowid])?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(row_from(r)?);
        }
        Ok(TelemetryReport { summary, rows: out })
    }

    /// The saved telemetry reports of a collection (id or name), newest first, without rows.
    ///
    /// # Errors
    /// Not-found for an unknown collection; storage errors.
    pub fn telemetry_reports(&self, collection: &str) -> Result<Vec<TelemetrySummary>> {
        let conn = self.conn();
        let coll = collection::resolve(&conn, collection)?;
        let mut st =
            conn.prepare_cached(&format!("{SELECT} WHERE r.collection_id = ?1 ORDER BY r.created DESC, r.id DESC"))?;
        let rows = st.query_map([coll.rowid], |r| summary_from(r).map(|(_, s)| s))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Delete a saved telemetry report.
    ///
    /// # Errors
    /// Not-found for an unknown id; storage errors.
    pub fn delete_telemetry_report(&self, id: &str) -> Result<()> {
        let rowid = summary_by_id(&self.conn(), id)?.0;
        quiet_write(self, |tx| {
            tx.execute("DELETE FROM telemetry_reports WHERE id = ?1", [rowid])?;
            Ok(())
        })
    }

    /// Community uuids for a report: those named (ids or names), or the collection's own. Each
    /// must see the collection (its own, or an ancestor's made available to sub-communities).
    pub(crate) fn report_communities(&self, coll: &super::Collection, named: &[String]) -> Result<Vec<String>> {
        if named.is_empty() {
            return Ok(vec![coll.community_id.clone()]);
        }
        let conn = self.conn();
        let mut out: Vec<String> = Vec::new();
        for n in named {
            let c = community::resolve(&conn, n)?;
            let mut sees = c.rowid == coll.community_rowid;
            let mut cur = c.parent_id.clone();
            let mut depth = 0;
            while let (false, Some(p), true) = (sees, cur.take(), depth < 64) {
                let parent = community::resolve(&conn, &p)?;
                sees = coll.available_for_sub_communities && parent.rowid == coll.community_rowid;
                cur = parent.parent_id;
                depth += 1;
            }
            if !sees {
                return Err(Error::invalid(
                    n,
                    format!("community '{n}' does not see collection '{}' ({})", coll.name, coll.id),
                ));
            }
            if !out.contains(&c.id) {
                out.push(c.id);
            }
        }
        Ok(out)
    }
}

const SELECT: &str =
    "SELECT r.id, r.uuid, c.uuid, r.created, r.window_start, r.window_end, r.communities, r.source, r.events,
        (SELECT COUNT(*) FROM telemetry_rows t WHERE t.report_id = r.id)
    FROM telemetry_reports r JOIN collections c ON c.id = r.collection_id";

fn summary_from(r: &Row<'_>) -> rusqlite::Result<(i64, TelemetrySummary)> {
    let communities: String = r.get(6)?;
    Ok((
        r.get(0)?,
        TelemetrySummary {
            id: format!("{REPORT_PREFIX}--{}", r.get::<_, String>(1)?),
            collection_id: format!("{}--{}", collection::COLLECTION_PREFIX, r.get::<_, String>(2)?),
            created: Timestamp(r.get(3)?),
            window_start: Timestamp(r.get(4)?),
            window_end: Timestamp(r.get(5)?),
            communities: communities.split(',').filter(|s| !s.is_empty()).map(str::to_string).collect(),
            source: r.get(7)?,
            events: r.get::<_, i64>(8)?.max(0) as u64,
            indicators_seen: r.get::<_, i64>(9)?.max(0) as u64,
        },
    ))
}

fn summary_by_id(conn: &Connection, id: &str) -> Result<(i64, TelemetrySummary)> {
    let Some(u) = parse_prefixed_uuid(id, REPORT_PREFIX) else {
        return Err(Error::not_found("telemetry report", id));
    };
    conn.query_row(&format!("{SELECT} WHERE r.uuid = ?1"), [u.to_string()], summary_from)
        .optional()?
        .ok_or_else(|| Error::not_found("telemetry report", id))
}

fn row_from(r: &Row<'_>) -> Result<TelemetryRow> {
    let corrupt = |what: &str, v: &str| Error::new(ErrorKind::Corrupt, format!("store holds an invalid {what}: '{v}'"));
    let kind: String = r.get(2)?;
    let days: String = r.get(6)?;
    let parsed: Vec<(i64, u64)> = serde_json::from_str(&days).map_err(|_| corrupt("telemetry day list", &days))?;
    Ok(TelemetryRow {
        indicator_id: r.get(0)?,
        observable: r.get(1)?,
        kind: kind.parse::<Kind>().map_err(|_| corrupt("kind", &kind))?,
        sightings: r.get::<_, i64>(3)?.max(0) as u64,
        first_seen: Timestamp(r.get::<_, Option<i64>>(4)?.unwrap_or(0)),
        last_seen: Timestamp(r.get::<_, Option<i64>>(5)?.unwrap_or(0)),
        days: parsed.into_iter().map(|(day, count)| DayCount { day, count }).collect(),
    })
}
