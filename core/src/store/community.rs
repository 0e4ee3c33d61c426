//! Communities: tenants of an MSSP, in a tree. A default community always exists.

use super::{Store, DEFAULT_COMMUNITY};
use crate::error::{Error, ErrorKind, Result};
use crate::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;

/// A community (tenant). Collections belong to one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Community {
    /// The community's uuid.
    pub id: String,
    /// Its unique name.
    pub name: String,
    /// The parent community's uuid, `None` for a root.
    pub parent_id: Option<String>,
    /// When it was created.
    pub created: Timestamp,
    #[serde(skip)]
    pub(crate) rowid: i64,
}

const SELECT: &str = "SELECT c.id, c.uuid, c.name, p.uuid, c.created FROM communities c
                      LEFT JOIN communities p ON p.id = c.parent_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Community> {
    Ok(Community {
        rowid: r.get(0)?,
        id: r.get(1)?,
        name: r.get(2)?,
        parent_id: r.get(3)?,
        created: Timestamp(r.get(4)?),
    })
}

pub(crate) fn ensure_default(conn: &Connection) -> Result<()> {
    conn.execute(
        "INSERT INTO communities (uuid, name, parent_id, created)
         SELECT ?1, ?2, NULL, ?3 WHERE NOT EXISTS (SELECT 1 FROM communities WHERE name = ?2)",
        rusqlite::params![uuid::Uuid::new_v4().to_string(), DEFAULT_COMMUNITY, Timestamp::now().0],
    )?;
    Ok(())
}

/// Find a community by uuid or by name.
pub(crate) fn resolve(conn: &Connection, id_or_name: &str) -> Result<Community> {
    let key = id_or_name.trim();
    let by_id =
        conn.query_row(&format!("{SELECT} WHERE c.uuid = ?1"), [key.to_ascii_lowercase()], from_row).optional()?;
    if let Some(c) = by_id {
        return Ok(c);
    }
    conn.query_row(&format!("{SELECT} WHERE c.name = ?1"), [key], from_row)
        .optional()?
        .ok_or_else(|| Error::not_found("community", id_or_name))
}

impl Store {
    /// The community that always exists (`default`).
    pub fn default_community(&self) -> Result<Community> {
        resolve(&self.conn(), DEFAULT_COMMUNITY)
    }

    /// Create a community, optionally under a parent (named by id or name).
    ///
    /// # Errors
    /// Validation for an empty name, conflict when the name is taken, not-found for the parent.
    pub fn create_community(&self, name: &str, parent: Option<&str>) -> Result<Community> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 200 {
            return Err(Error::invalid(name, "a community name must have 1 to 200 characters"));
        }
        self.write(|tx| {
            let parent_rowid = parent.map(|p| resolve(tx, p)).transpose()?.map(|c| c.rowid);
            if resolve(tx, name).is_ok() {
                return Err(Error::new(ErrorKind::Conflict, format!("a community named '{name}' already exists")));
            }
            tx.execute(
                "INSERT INTO communities (uuid, name, parent_id, created) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![uuid::Uuid::new_v4().to_string(), name, parent_rowid, Timestamp::now().0],
            )?;
            resolve(tx, name)
        })
    }

    /// Every community, oldest first.
    pub fn communities(&self) -> Result<Vec<Community>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!("{SELECT} ORDER BY c.id"))?;
        let rows = st.query_map([], from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// A community by uuid or name.
    pub fn community(&self, id_or_name: &str) -> Result<Community> {
        resolve(&self.conn(), id_or_name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tree_and_errors() {
        let s = Store::open_in_memory().unwrap();
        let mssp = s.create_community("mssp", None).unwrap();
        let child = s.create_community("client-a", Some("mssp")).unwrap();
        assert_eq!(child.parent_id.as_deref(), Some(mssp.id.as_str()));
        assert_eq!(s.community(&child.id).unwrap(), child);
        assert_eq!(s.communities().unwrap().len(), 3);
        assert_eq!(s.create_community("MSSP", None).unwrap_err().kind(), ErrorKind::Conflict);
        assert_eq!(s.create_community("x", Some("nope")).unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(s.create_community("  ", None).unwrap_err().kind(), ErrorKind::Validation);
    }
}
