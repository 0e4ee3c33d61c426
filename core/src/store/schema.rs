//! The database schema, versioned with `PRAGMA user_version` and upgraded by migrations.

use crate::error::{Error, ErrorKind, Result};
use rusqlite::Connection;

/// Each entry upgrades the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1: communities, collections, threats, indicators, settings.
    r#"
    CREATE TABLE settings (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    ) WITHOUT ROWID;

    CREATE TABLE communities (
        id        INTEGER PRIMARY KEY,
        uuid      TEXT NOT NULL UNIQUE,
        name      TEXT NOT NULL UNIQUE COLLATE NOCASE,
        parent_id INTEGER REFERENCES communities(id) ON DELETE RESTRICT,
        created   INTEGER NOT NULL
    );

    CREATE TABLE collections (
        id            INTEGER PRIMARY KEY,
        uuid          TEXT NOT NULL UNIQUE,
        community_id  INTEGER NOT NULL REFERENCES communities(id) ON DELETE RESTRICT,
        name          TEXT NOT NULL COLLATE NOCASE,
        description   TEXT,
        available_for_sub_communities INTEGER NOT NULL DEFAULT 0,
        created       INTEGER NOT NULL,
        modified      INTEGER NOT NULL,
        UNIQUE (community_id, name)
    );

    CREATE TABLE threats (
        id      TEXT PRIMARY KEY,
        name    TEXT NOT NULL UNIQUE COLLATE NOCASE,
        aliases TEXT NOT NULL DEFAULT '',
        created INTEGER NOT NULL
    );

    -- value: the canonical observable text (several hashes of one file joined by ',');
    -- kinds: bit mask of observable kinds; kill_chain: bit mask of known phases;
    -- threats: related threat ids joined by ','; times in microseconds since the epoch.
    CREATE TABLE indicators (
        id            INTEGER PRIMARY KEY,
        uuid          BLOB NOT NULL UNIQUE,
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        value         TEXT NOT NULL,
        kinds         INTEGER NOT NULL,
        port          INTEGER,
        valid_from    INTEGER NOT NULL,
        valid_until   INTEGER,
        kill_chain    INTEGER NOT NULL DEFAULT 0,
        threats       TEXT NOT NULL DEFAULT '',
        description   TEXT,
        created       INTEGER NOT NULL,
        modified      INTEGER NOT NULL,
        revoked_at    INTEGER
    );
    CREATE INDEX indicators_by_collection ON indicators (collection_id, revoked_at);
    "#,
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Bring the database up to [`SCHEMA_VERSION`], in one transaction.
pub(crate) fn migrate(conn: &mut Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if version > SCHEMA_VERSION {
        return Err(Error::new(
            ErrorKind::Storage,
            format!(
                "store schema version {version} is newer than this iocmatch supports ({SCHEMA_VERSION}): upgrade iocmatch"
            ),
        ));
    }
    if version == SCHEMA_VERSION {
        return Ok(());
    }
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        tx.execute_batch(sql)?;
        tx.pragma_update(None, "user_version", (i + 1) as i64)?;
    }
    tx.commit()?;
    Ok(())
}
