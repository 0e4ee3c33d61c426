//! Collections: named sets of indicators inside a community.

use super::community;
use super::{Page, Pagination, Store};
use crate::error::{Error, ErrorKind, Result};
use crate::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;

/// Prefix of collection ids.
pub const COLLECTION_PREFIX: &str = "ioc-collection";
/// The longest description, in characters (the spec's limit).
pub const MAX_DESCRIPTION_CHARS: usize = 500;
const MAX_NAME_CHARS: usize = 200;

/// An IOC collection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Collection {
    /// `ioc-collection--<uuid>`.
    pub id: String,
    /// Its name, unique within its community (case-insensitively).
    pub name: String,
    /// Free text, at most 500 characters.
    pub description: Option<String>,
    /// The uuid of the community it belongs to.
    pub community_id: String,
    /// Whether sub-communities of its community see it too.
    pub available_for_sub_communities: bool,
    /// Whether its domain indicators also match sub-domains (unless an indicator says otherwise).
    pub match_subdomains: bool,
    /// Number of active (not revoked) indicators.
    pub indicator_count: u64,
    /// Number of revoked indicators, kept for audit.
    pub revoked_count: u64,
    /// When it was created.
    pub created: Timestamp,
    /// When it was last changed.
    pub modified: Timestamp,
    #[serde(skip)]
    pub(crate) rowid: i64,
    #[serde(skip)]
    pub(crate) community_rowid: i64,
}

/// What is needed to create a collection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewCollection {
    /// Required; unique within the community.
    pub name: String,
    /// Optional, at most 500 characters.
    pub description: Option<String>,
    /// Community id or name; the default community when `None`.
    pub community: Option<String>,
    /// Whether sub-communities see this collection.
    pub available_for_sub_communities: bool,
    /// Whether its domain indicators also match sub-domains by default.
    pub match_subdomains: bool,
    /// Also create a detection rule covering it, in the same transaction, named
    /// `IOC collection: <name>` (with its id added when that name is taken).
    pub create_rule: bool,
}

impl NewCollection {
    /// A collection named `name` in the default community.
    pub fn named(name: impl Into<String>) -> Self {
        NewCollection { name: name.into(), ..Default::default() }
    }
}

/// Changes to a collection; `None` leaves a property as it is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectionUpdate {
    /// A new name.
    pub name: Option<String>,
    /// A new description; `Some(None)` clears it.
    pub description: Option<Option<String>>,
    /// A new visibility for sub-communities.
    pub available_for_sub_communities: Option<bool>,
    /// Sub-domain matching for its domain indicators.
    pub match_subdomains: Option<bool>,
}

const SELECT: &str = "SELECT c.id, c.uuid, c.name, c.description, m.uuid, c.available_for_sub_communities,
        (SELECT COUNT(*) FROM indicators i WHERE i.collection_id = c.id AND i.revoked_at IS NULL),
        (SELECT COUNT(*) FROM indicators i WHERE i.collection_id = c.id AND i.revoked_at IS NOT NULL),
        c.created, c.modified, c.community_id, c.match_subdomains
    FROM collections c JOIN communities m ON m.id = c.community_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Collection> {
    Ok(Collection {
        rowid: r.get(0)?,
        id: format!("{COLLECTION_PREFIX}--{}", r.get::<_, String>(1)?),
        name: r.get(2)?,
        description: r.get(3)?,
        community_id: r.get(4)?,
        available_for_sub_communities: r.get(5)?,
        indicator_count: r.get::<_, i64>(6)? as u64,
        revoked_count: r.get::<_, i64>(7)? as u64,
        created: Timestamp(r.get(8)?),
        modified: Timestamp(r.get(9)?),
        community_rowid: r.get(10)?,
        match_subdomains: r.get(11)?,
    })
}

fn check_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid(name, "a collection name is required"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(name, format!("a collection name has at most {MAX_NAME_CHARS} characters")));
    }
    Ok(name)
}

/// Check a description against the spec's 500-character limit.
pub(crate) fn check_description(d: &str) -> Result<()> {
    let n = d.chars().count();
    if n > MAX_DESCRIPTION_CHARS {
        let head: String = d.chars().take(40).collect();
        return Err(Error::invalid(
            d,
            format!("description '{head}…' has {n} characters: at most {MAX_DESCRIPTION_CHARS} are allowed"),
        ));
    }
    Ok(())
}

/// Find a collection by id (`ioc-collection--<uuid>` or the bare uuid) or by name. A name
/// used in several communities is ambiguous: the id must be used then.
pub(crate) fn resolve(conn: &Connection, id_or_name: &str) -> Result<Collection> {
    if let Some(u) = super::parse_prefixed_uuid(id_or_name, COLLECTION_PREFIX) {
        if let Some(c) = conn.query_row(&format!("{SELECT} WHERE c.uuid = ?1"), [u.to_string()], from_row).optional()? {
            return Ok(c);
        }
    }
    let mut st = conn.prepare(&format!("{SELECT} WHERE c.name = ?1 LIMIT 2"))?;
    let mut found = st.query_map([id_or_name.trim()], from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
    match found.len() {
        0 => Err(Error::not_found("collection", id_or_name)),
        1 => Ok(found.remove(0)),
        _ => Err(Error::new(
            ErrorKind::Conflict,
            format!("collection name '{id_or_name}' is used in several communities: name it by id"),
        )),
    }
}

impl Store {
    /// Create a collection.
    ///
    /// # Errors
    /// Validation (name, description), not-found (community), conflict (name taken).
    pub fn create_collection(&self, new: &NewCollection) -> Result<Collection> {
        let name = check_name(&new.name)?;
        if let Some(d) = &new.description {
            check_description(d)?;
        }
        self.write(|tx| {
            let community = match &new.community {
                Some(c) => community::resolve(tx, c)?,
                None => community::resolve(tx, super::DEFAULT_COMMUNITY)?,
            };
            let taken: Option<i64> = tx
                .query_row(
                    "SELECT id FROM collections WHERE community_id = ?1 AND name = ?2",
                    rusqlite::params![community.rowid, name],
                    |r| r.get(0),
                )
                .optional()?;
            if taken.is_some() {
                return Err(Error::new(
                    ErrorKind::Conflict,
                    format!("a collection named '{name}' already exists in community '{}'", community.name),
                ));
            }
            let now = Timestamp::now().0;
            let u = uuid::Uuid::new_v4().to_string();
            tx.execute(
                "INSERT INTO collections (uuid, community_id, name, description, available_for_sub_communities, created, modified, match_subdomains)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
                rusqlite::params![u, community.rowid, name, new.description, new.available_for_sub_communities, now, new.match_subdomains],
            )?;
            let c = resolve(tx, &u)?;
            if new.create_rule {
                let mut rule_name = format!("IOC collection: {name}");
                if super::rule::resolve(tx, &rule_name).is_ok() {
                    rule_name = format!("IOC collection: {name} ({})", c.id);
                }
                super::rule::insert(tx, &rule_name, None, None, &[c.rowid], true)?;
            }
            Ok(c)
        })
    }

    /// A collection by id or name.
    pub fn collection(&self, id_or_name: &str) -> Result<Collection> {
        resolve(&self.conn(), id_or_name)
    }

    /// Collections with their indicator counts, oldest first, optionally of one community.
    pub fn collections(&self, community: Option<&str>, page: Pagination) -> Result<Page<Collection>> {
        let conn = self.conn();
        let community = community.map(|c| community::resolve(&conn, c)).transpose()?;
        let filter = community.as_ref().map(|c| c.rowid).unwrap_or(-1);
        let total: i64 =
            conn.query_row("SELECT COUNT(*) FROM collections WHERE ?1 < 0 OR community_id = ?1", [filter], |r| {
                r.get(0)
            })?;
        let mut st =
            conn.prepare(&format!("{SELECT} WHERE ?1 < 0 OR c.community_id = ?1 ORDER BY c.id LIMIT ?2 OFFSET ?3"))?;
        let items = st
            .query_map(rusqlite::params![filter, page.limit as i64, page.offset as i64], from_row)?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(Page { items, total: total as u64 })
    }

    /// Change a collection's name, description or visibility.
    pub fn update_collection(&self, id_or_name: &str, update: &CollectionUpdate) -> Result<Collection> {
        let name = update.name.as_deref().map(check_name).transpose()?;
        if let Some(Some(d)) = &update.description {
            check_description(d)?;
        }
        self.write(|tx| {
            let c = resolve(tx, id_or_name)?;
            if let Some(name) = name {
                let clash: Option<i64> = tx
                    .query_row(
                        "SELECT id FROM collections WHERE community_id = ?1 AND name = ?2 AND id <> ?3",
                        rusqlite::params![c.community_rowid, name, c.rowid],
                        |r| r.get(0),
                    )
                    .optional()?;
                if clash.is_some() {
                    return Err(Error::new(
                        ErrorKind::Conflict,
                        format!("a collection named '{name}' already exists in its community"),
                    ));
                }
                tx.execute("UPDATE collections SET name = ?1 WHERE id = ?2", rusqlite::params![name, c.rowid])?;
            }
            if let Some(d) = &update.description {
                tx.execute("UPDATE collections SET description = ?1 WHERE id = ?2", rusqlite::params![d, c.rowid])?;
            }
            if let Some(a) = update.available_for_sub_communities {
                tx.execute(
                    "UPDATE collections SET available_for_sub_communities = ?1 WHERE id = ?2",
                    rusqlite::params![a, c.rowid],
                )?;
            }
            if let Some(m) = update.match_subdomains {
                tx.execute(
                    "UPDATE collections SET match_subdomains = ?1 WHERE id = ?2",
                    rusqlite::params![m, c.rowid],
                )?;
            }
            tx.execute(
                "UPDATE collections SET modified = ?1 WHERE id = ?2",
                rusqlite::params![Timestamp::now().0, c.rowid],
            )?;
            resolve(tx, &c.id)
        })
    }

    /// Delete a collection and all its indicators; returns how many indicators went with it.
    pub fn delete_collection(&self, id_or_name: &str) -> Result<u64> {
        self.write(|tx| {
            let c = resolve(tx, id_or_name)?;
            let n = tx.execute("DELETE FROM indicators WHERE collection_id = ?1", [c.rowid])?;
            tx.execute("DELETE FROM collections WHERE id = ?1", [c.rowid])?;
            Ok(n as u64)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_get_list_update_delete() {
        let s = Store::open_in_memory().unwrap();
        let c = s.create_collection(&NewCollection::named("APT feed")).unwrap();
        assert!(c.id.starts_with("ioc-collection--"));
        assert_eq!(s.collection("apt feed").unwrap().id, c.id);
        assert_eq!(s.collection(&c.id).unwrap().name, "APT feed");
        assert_eq!(s.collection(c.id.trim_start_matches("ioc-collection--")).unwrap().id, c.id);
        assert_eq!(s.create_collection(&NewCollection::named("apt FEED")).unwrap_err().kind(), ErrorKind::Conflict);

        s.create_community("other", None).unwrap();
        let o = s
            .create_collection(&NewCollection { community: Some("other".into()), ..NewCollection::named("APT feed") })
            .unwrap();
        // the same name in two communities is ambiguous by name, fine by id
        assert_eq!(s.collection("APT feed").unwrap_err().kind(), ErrorKind::Conflict);
        assert_eq!(s.collection(&o.id).unwrap().community_id, s.community("other").unwrap().id);

        let page = s.collections(None, Pagination { offset: 0, limit: 1 }).unwrap();
        assert_eq!((page.total, page.items.len()), (2, 1));
        assert_eq!(s.collections(Some("other"), Pagination::default()).unwrap().total, 1);

        let u = s
            .update_collection(
                &c.id,
                &CollectionUpdate {
                    description: Some(Some("d".into())),
                    available_for_sub_communities: Some(true),
                    ..Default::default()
                },
            )
            .unwrap();
        assert_eq!(u.description.as_deref(), Some("d"));
        assert!(u.available_for_sub_communities);
        assert!(u.modified >= c.modified);
        assert_eq!(s.delete_collection(&c.id).unwrap(), 0);
        assert_eq!(s.collection(&c.id).unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn validation() {
        let s = Store::open_in_memory().unwrap();
        assert_eq!(s.create_collection(&NewCollection::named(" ")).unwrap_err().kind(), ErrorKind::Validation);
        let long = "x".repeat(501);
        let e =
            s.create_collection(&NewCollection { description: Some(long), ..NewCollection::named("a") }).unwrap_err();
        assert!(e.to_string().contains("501 characters"), "{e}");
        let ok = "é".repeat(500);
        s.create_collection(&NewCollection { description: Some(ok), ..NewCollection::named("a") }).unwrap();
        let e = s
            .create_collection(&NewCollection { community: Some("nope".into()), ..NewCollection::named("b") })
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::NotFound);
    }
}
