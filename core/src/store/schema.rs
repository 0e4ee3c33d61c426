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
    // 1 -> 2: sub-domain matching per collection and per indicator (NULL: as its collection);
    // a change sequence so that a live matcher can fetch what changed since its snapshot.
    r#"
    ALTER TABLE collections ADD COLUMN match_subdomains INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE indicators ADD COLUMN match_subdomains INTEGER;
    ALTER TABLE indicators ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
    CREATE INDEX indicators_by_seq ON indicators (seq);
    INSERT OR IGNORE INTO settings (key, value) VALUES ('change_seq', '0');
    "#,
    // 2 -> 3: detection rules, sightings, telemetry reports and retrohunt state.
    r#"
    -- a rule covers its listed collections, or every collection of `community_id` when set;
    -- seq: the change sequence of its creation or of its last enabling (incremental retrohunt)
    CREATE TABLE rules (
        id           INTEGER PRIMARY KEY,
        uuid         TEXT NOT NULL UNIQUE,
        name         TEXT NOT NULL UNIQUE COLLATE NOCASE,
        description  TEXT,
        community_id INTEGER REFERENCES communities(id) ON DELETE CASCADE,
        enabled      INTEGER NOT NULL DEFAULT 1,
        created      INTEGER NOT NULL,
        modified     INTEGER NOT NULL,
        seq          INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE rule_collections (
        rule_id       INTEGER NOT NULL REFERENCES rules(id) ON DELETE CASCADE,
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        PRIMARY KEY (rule_id, collection_id)
    ) WITHOUT ROWID;
    CREATE INDEX rule_collections_by_collection ON rule_collections (collection_id);

    -- sightings per indicator and UTC day (days since 1970-01-01), recorded by live matchers
    CREATE TABLE sightings (
        indicator_id INTEGER NOT NULL REFERENCES indicators(id) ON DELETE CASCADE,
        day          INTEGER NOT NULL,
        count        INTEGER NOT NULL,
        PRIMARY KEY (indicator_id, day)
    ) WITHOUT ROWID;

    -- telemetry reports; communities: community uuids joined by ','
    CREATE TABLE telemetry_reports (
        id            INTEGER PRIMARY KEY,
        uuid          TEXT NOT NULL UNIQUE,
        collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
        created       INTEGER NOT NULL,
        window_start  INTEGER NOT NULL,
        window_end    INTEGER NOT NULL,
        communities   TEXT NOT NULL DEFAULT '',
        source        TEXT NOT NULL,
        events        INTEGER NOT NULL DEFAULT 0
    );
    -- days: JSON [[day, count], ...] in day order
    CREATE TABLE telemetry_rows (
        report_id   INTEGER NOT NULL REFERENCES telemetry_reports(id) ON DELETE CASCADE,
        indicator   TEXT NOT NULL,
        observable  TEXT NOT NULL,
        kind        TEXT NOT NULL,
        sightings   INTEGER NOT NULL,
        first_seen  INTEGER,
        last_seen   INTEGER,
        days        TEXT NOT NULL
    );
    CREATE INDEX telemetry_rows_by_report ON telemetry_rows (report_id, sightings DESC);

    -- what an incremental retrohunt already hunted: per archive file, its size and mtime when
    -- hunted and the store change sequence hunted up to; lines: the last line number read;
    -- fingerprint: a hash of its first and last 4 KiB (to tell an append from a rewrite)
    CREATE TABLE retrohunt_state (
        source      TEXT PRIMARY KEY,
        size        INTEGER NOT NULL,
        mtime       INTEGER NOT NULL,
        seq         INTEGER NOT NULL,
        hunted      INTEGER NOT NULL,
        lines       INTEGER NOT NULL DEFAULT 0,
        fingerprint INTEGER NOT NULL DEFAULT 0
    ) WITHOUT ROWID;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Store;

    #[test]
    fn a_version_1_store_is_upgraded_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("v1.db");
        {
            let conn = Connection::open(&p).unwrap();
            conn.execute_batch(MIGRATIONS[0]).unwrap();
            conn.pragma_update(None, "user_version", 1).unwrap();
            conn.execute(
                "INSERT INTO communities (uuid, name, parent_id, created) VALUES ('c0', 'default', NULL, 0)",
                [],
            )
            .unwrap();
            conn.execute(
                "INSERT INTO collections (uuid, community_id, name, created, modified)
                 VALUES ('5f0c9a3e-0000-4000-8000-000000000001', 1, 'old', 0, 0)",
                [],
            )
            .unwrap();
        }
        let s = Store::open(&p).unwrap();
        let c = s.collection("old").unwrap();
        assert!(!c.match_subdomains);
        let v: i64 = s.conn().query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap();
        assert_eq!(v, SCHEMA_VERSION);
        assert_eq!(s.change_seq().unwrap(), 0);
    }

    #[test]
    fn every_write_bumps_the_change_sequence() {
        let s = Store::open_in_memory().unwrap();
        let (g0, q0) = (s.generation(), s.change_seq().unwrap());
        s.create_collection(&crate::NewCollection::named("a")).unwrap();
        s.import_text("a", b"evil.example\n", &Default::default()).unwrap();
        assert_eq!(s.generation(), g0 + 2);
        assert_eq!(s.change_seq().unwrap(), q0 + 2);
        let seq: i64 = s.conn().query_row("SELECT seq FROM indicators", [], |r| r.get(0)).unwrap();
        assert_eq!(seq, q0 + 2);
        // a failed write changes nothing
        assert!(s.create_collection(&crate::NewCollection::named("a")).is_err());
        assert_eq!(s.change_seq().unwrap(), q0 + 2);
    }
}
