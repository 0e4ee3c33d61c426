//! The store: the source of truth, in SQLite (WAL mode). Communities, collections, threats and
//! indicators; every write is one transaction.
//!
//! A [`Store`] is `Send + Sync`: it holds one connection behind a mutex, so calls from several
//! threads are serialised. Open several stores on the same file (one per process, say) to write
//! from several processes: SQLite serialises their writes.

mod collection;
mod community;
mod indicator;
mod rule;
mod schema;
mod snapshot;
mod telemetry;
mod threat;

pub(crate) use collection::{check_description, resolve as collection_by_ref};
pub use collection::{Collection, CollectionUpdate, NewCollection};
pub use community::Community;
pub(crate) use indicator::{by_rowid, check_window, insert_drafts, Draft};
pub use indicator::{Indicator, IndicatorEdit, IndicatorQuery};
pub use rule::{NewRule, Rule, RULE_PREFIX};
pub use schema::SCHEMA_VERSION;
pub use snapshot::CompileFilter;
pub use threat::{NewThreat, Threat, ThreatRegistry, THREAT_TYPES};

use crate::error::{Error, ErrorKind, Result};
use rusqlite::{Connection, OptionalExtension, Transaction, TransactionBehavior};
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

/// The default maximum number of active indicators in one community (the spec's limit).
pub const DEFAULT_MAX_INDICATORS_PER_COMMUNITY: u64 = 500_000;

/// Name of the community that always exists.
pub const DEFAULT_COMMUNITY: &str = "default";

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// How many items match in all pages.
    pub total: u64,
}

/// Where a listing starts and how long a page is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pagination {
    /// Items to skip.
    pub offset: u64,
    /// Items per page at most.
    pub limit: u64,
}

impl Default for Pagination {
    fn default() -> Self {
        Pagination { offset: 0, limit: 100 }
    }
}

/// A durable IOC store backed by one SQLite file, or held in memory.
pub struct Store {
    conn: Mutex<Connection>,
    path: Option<PathBuf>,
    /// Bumped after every write committed through this handle (cheap freshness check).
    generation: AtomicU64,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish_non_exhaustive()
    }
}

impl Store {
    /// Open (creating if needed) the store at `path`, upgrading its schema.
    ///
    /// # Errors
    /// A storage error when the file cannot be opened, is not an iocmatch store, or was
    /// written by a newer version.
    pub fn open(path: impl AsRef<Path>) -> Result<Store> {
        let path = path.as_ref();
        let conn = Connection::open(path)
            .map_err(|e| Error::new(ErrorKind::Storage, format!("cannot open store '{}': {e}", path.display())))?;
        Self::init(conn, Some(path.to_path_buf()))
            .map_err(|e| Error::new(e.kind(), format!("cannot open store '{}': {}", path.display(), e.message())))
    }

    /// A throwaway store in memory.
    pub fn open_in_memory() -> Result<Store> {
        Self::init(Connection::open_in_memory()?, None)
    }

    fn init(mut conn: Connection, path: Option<PathBuf>) -> Result<Store> {
        conn.busy_timeout(std::time::Duration::from_secs(10))?;
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             PRAGMA synchronous = FULL;
             PRAGMA cache_size = -65536;
             PRAGMA temp_store = MEMORY;",
        )?;
        if path.is_some() {
            let mode: String = conn.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))?;
            if !mode.eq_ignore_ascii_case("wal") {
                return Err(Error::new(ErrorKind::Storage, format!("cannot switch to WAL mode (got '{mode}')")));
            }
        }
        schema::migrate(&mut conn)?;
        community::ensure_default(&conn)?;
        Ok(Store { conn: Mutex::new(conn), path, generation: AtomicU64::new(0) })
    }

    /// The file behind the store, `None` in memory.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The connection, for one call. A panic in another thread never leaves it unusable:
    /// every write is a transaction that SQLite rolls back when dropped unfinished.
    pub(crate) fn conn(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Run `f` inside one write transaction: it lands whole or not at all. The store's change
    /// sequence is bumped first; rows the transaction writes carry it (see [`current_seq`]).
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("UPDATE settings SET value = CAST(value AS INTEGER) + 1 WHERE key = 'change_seq'", [])?;
        let out = f(&tx)?;
        tx.commit()?;
        self.generation.fetch_add(1, Ordering::Release);
        Ok(out)
    }

    /// A counter bumped by every write committed through this handle: when it has not moved,
    /// nothing changed (in this process). See [`Store::change_seq`] for changes made by others.
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The store's change sequence: bumped by every write transaction, from any process.
    pub fn change_seq(&self) -> Result<i64> {
        current_seq(&self.conn())
    }

    /// The maximum number of active indicators in one community.
    pub fn max_indicators_per_community(&self) -> Result<u64> {
        max_indicators(&self.conn())
    }

    /// Change the maximum number of active indicators in one community, for this store.
    pub fn set_max_indicators_per_community(&self, max: u64) -> Result<()> {
        self.write(|tx| {
            tx.execute(
                "INSERT INTO settings (key, value) VALUES ('max_indicators_per_community', ?1)
                 ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                [max.to_string()],
            )?;
            Ok(())
        })
    }

    /// The number of active (not revoked) indicators across the collections of a community,
    /// named by id or name.
    pub fn indicator_count(&self, community: &str) -> Result<u64> {
        let conn = self.conn();
        let c = community::resolve(&conn, community)?;
        community_count(&conn, c.rowid)
    }
}

/// The change sequence of the running write transaction (or of the last one).
pub(crate) fn current_seq(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT CAST(value AS INTEGER) FROM settings WHERE key = 'change_seq'", [], |r| r.get(0))?)
}

pub(crate) fn max_indicators(conn: &Connection) -> Result<u64> {
    let v: Option<String> = conn
        .query_row("SELECT value FROM settings WHERE key = 'max_indicators_per_community'", [], |r| r.get(0))
        .optional()?;
    Ok(v.and_then(|s| s.parse().ok()).unwrap_or(DEFAULT_MAX_INDICATORS_PER_COMMUNITY))
}

pub(crate) fn community_count(conn: &Connection, community_rowid: i64) -> Result<u64> {
    let n: i64 = conn.query_row(
        "SELECT COUNT(*) FROM indicators
         WHERE revoked_at IS NULL
           AND collection_id IN (SELECT id FROM collections WHERE community_id = ?1)",
        [community_rowid],
        |r| r.get(0),
    )?;
    Ok(n as u64)
}

/// A prefixed STIX-style id (`ioc-collection--<uuid>`): the uuid part, if `s` is one (the
/// prefix may be left out).
pub(crate) fn parse_prefixed_uuid(s: &str, prefix: &str) -> Option<uuid::Uuid> {
    let s = s.trim();
    let rest = s.strip_prefix(prefix).and_then(|r| r.strip_prefix("--")).unwrap_or(s);
    uuid::Uuid::try_parse(rest).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_is_send_and_sync() {
        fn assert_send_sync<T: Send + Sync>() {}
        assert_send_sync::<Store>();
    }

    #[test]
    fn reopening_keeps_schema_and_default_community() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        let a = Store::open(&p).unwrap().default_community().unwrap();
        let b = Store::open(&p).unwrap().default_community().unwrap();
        assert_eq!(a, b);
        let conn = Connection::open(&p).unwrap();
        let v: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
    }

    #[test]
    fn refuses_a_newer_schema_and_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("new.db");
        Store::open(&p).unwrap();
        Connection::open(&p).unwrap().pragma_update(None, "user_version", SCHEMA_VERSION + 1).unwrap();
        let e = Store::open(&p).unwrap_err();
        assert!(e.to_string().contains("newer"), "{e}");

        let q = dir.path().join("junk.db");
        std::fs::write(&q, vec![0x5au8; 8192]).unwrap();
        let e = Store::open(&q).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Storage);
        assert!(e.to_string().contains("junk.db"), "{e}");
    }

    #[test]
    fn limit_is_configurable_and_persistent() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.db");
        let s = Store::open(&p).unwrap();
        assert_eq!(s.max_indicators_per_community().unwrap(), DEFAULT_MAX_INDICATORS_PER_COMMUNITY);
        s.set_max_indicators_per_community(7).unwrap();
        drop(s);
        assert_eq!(Store::open(&p).unwrap().max_indicators_per_community().unwrap(), 7);
    }
}
