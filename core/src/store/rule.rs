//! Detection rules: what turns matches into alerts. A rule covers one or more collections, or
//! every collection of a community (present and future ones).

use super::collection::{self, check_description, COLLECTION_PREFIX};
use super::community;
use super::Store;
use crate::error::{Error, ErrorKind, Result};
use crate::time::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row};
use serde::Serialize;

/// Prefix of rule ids.
pub const RULE_PREFIX: &str = "rule";
const MAX_NAME_CHARS: usize = 200;

/// A detection rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// `rule--<uuid>`.
    pub id: String,
    /// Its name, unique in the store (case-insensitively).
    pub name: String,
    /// Free text, at most 500 characters.
    pub description: Option<String>,
    /// Whether it raises alerts; a disabled rule alerts nothing.
    pub enabled: bool,
    /// The community (uuid) whose every collection it covers, present and future; `None` when
    /// it covers the collections it lists.
    pub community_id: Option<String>,
    /// The collections it covers now (`ioc-collection--<uuid>`), oldest first: those it lists,
    /// or every collection of its community.
    pub collections: Vec<String>,
    /// When it was created.
    pub created: Timestamp,
    /// When it was last changed.
    pub modified: Timestamp,
    #[serde(skip)]
    pub(crate) rowid: i64,
    /// The change sequence of its creation or last enabling.
    #[serde(skip)]
    pub(crate) seq: i64,
}

/// What is needed to create a rule: a name and a scope, either collections or a community.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRule {
    /// Required; unique in the store.
    pub name: String,
    /// Optional, at most 500 characters.
    pub description: Option<String>,
    /// Collections (ids or names) it covers; leave empty when `community` is set.
    pub collections: Vec<String>,
    /// A community (id or name) whose every collection it covers, present and future.
    pub community: Option<String>,
    /// Whether it raises alerts from the start (default `true`).
    pub enabled: bool,
}

impl Default for NewRule {
    fn default() -> Self {
        NewRule { name: String::new(), description: None, collections: Vec::new(), community: None, enabled: true }
    }
}

impl NewRule {
    /// An enabled rule named `name` covering `collections` (ids or names).
    pub fn for_collections<S: Into<String>>(name: impl Into<String>, collections: impl IntoIterator<Item = S>) -> Self {
        NewRule {
            name: name.into(),
            collections: collections.into_iter().map(Into::into).collect(),
            ..Default::default()
        }
    }

    /// An enabled rule named `name` covering every collection of `community` (id or name).
    pub fn for_community(name: impl Into<String>, community: impl Into<String>) -> Self {
        NewRule { name: name.into(), community: Some(community.into()), ..Default::default() }
    }
}

const SELECT: &str =
    "SELECT r.id, r.uuid, r.name, r.description, r.enabled, m.uuid, r.created, r.modified, r.community_id,
        r.seq FROM rules r LEFT JOIN communities m ON m.id = r.community_id";

fn from_row(r: &Row<'_>) -> rusqlite::Result<(Rule, Option<i64>)> {
    Ok((
        Rule {
            rowid: r.get(0)?,
            id: format!("{RULE_PREFIX}--{}", r.get::<_, String>(1)?),
            name: r.get(2)?,
            description: r.get(3)?,
            enabled: r.get(4)?,
            community_id: r.get(5)?,
            collections: Vec::new(),
            created: Timestamp(r.get(6)?),
            modified: Timestamp(r.get(7)?),
            seq: r.get(9)?,
        },
        r.get(8)?,
    ))
}

/// Fill in the collections a rule covers now.
fn with_collections(conn: &Connection, (mut rule, community): (Rule, Option<i64>)) -> Result<Rule> {
    let mut st = match community {
        Some(_) => conn.prepare_cached("SELECT uuid FROM collections WHERE community_id = ?1 ORDER BY id")?,
        None => conn.prepare_cached(
            "SELECT c.uuid FROM rule_collections rc JOIN collections c ON c.id = rc.collection_id
             WHERE rc.rule_id = ?1 ORDER BY c.id",
        )?,
    };
    let key = community.unwrap_or(rule.rowid);
    rule.collections = st
        .query_map([key], |r| r.get::<_, String>(0))?
        .map(|u| u.map(|u| format!("{COLLECTION_PREFIX}--{u}")))
        .collect::<rusqlite::Result<_>>()?;
    Ok(rule)
}

fn check_name(name: &str) -> Result<&str> {
    let name = name.trim();
    if name.is_empty() {
        return Err(Error::invalid(name, "a rule name is required"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid(name, format!("rule name '{name}' is longer than {MAX_NAME_CHARS} characters")));
    }
    Ok(name)
}

/// Find a rule by id (`rule--<uuid>` or the bare uuid) or by name.
pub(crate) fn resolve(conn: &Connection, id_or_name: &str) -> Result<Rule> {
    let mut found = None;
    if let Some(u) = super::parse_prefixed_uuid(id_or_name, RULE_PREFIX) {
        found = conn.query_row(&format!("{SELECT} WHERE r.uuid = ?1"), [u.to_string()], from_row).optional()?;
    }
    if found.is_none() {
        found = conn.query_row(&format!("{SELECT} WHERE r.name = ?1"), [id_or_name.trim()], from_row).optional()?;
    }
    match found {
        Some(f) => with_collections(conn, f),
        None => Err(Error::not_found("rule", id_or_name)),
    }
}

/// Insert a rule; `collections` are collection row ids (empty when `community` is set).
pub(crate) fn insert(
    conn: &Connection,
    name: &str,
    description: Option<&str>,
    community: Option<i64>,
    collections: &[i64],
    enabled: bool,
) -> Result<Rule> {
    let taken: Option<i64> = conn.query_row("SELECT id FROM rules WHERE name = ?1", [name], |r| r.get(0)).optional()?;
    if taken.is_some() {
        return Err(Error::new(ErrorKind::Conflict, format!("a rule named '{name}' already exists")));
    }
    let now = Timestamp::now().0;
    let u = uuid::Uuid::new_v4().to_string();
    conn.execute(
        "INSERT INTO rules (uuid, name, description, community_id, enabled, created, modified, seq)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6, ?7)",
        rusqlite::params![u, name, description, community, enabled, now, super::current_seq(conn)?],
    )?;
    let rowid = conn.last_insert_rowid();
    for c in collections {
        conn.execute(
            "INSERT OR IGNORE INTO rule_collections (rule_id, collection_id) VALUES (?1, ?2)",
            rusqlite::params![rowid, c],
        )?;
    }
    resolve(conn, &u)
}

impl Store {
    /// Create a detection rule.
    ///
    /// # Errors
    /// Validation (empty or long name, long description, no scope or both scopes), not-found
    /// (a collection or the community), conflict (name taken).
    pub fn create_rule(&self, new: &NewRule) -> Result<Rule> {
        let name = check_name(&new.name)?;
        if let Some(d) = &new.description {
            check_description(d)?;
        }
        match (new.collections.is_empty(), &new.community) {
            (true, None) => {
                return Err(Error::invalid(
                    name,
                    format!("rule '{name}' needs a scope: one or more collections, or a community"),
                ))
            }
            (false, Some(c)) => {
                return Err(Error::invalid(
                    c.as_str(),
                    format!("rule '{name}' covers either collections or a community ('{c}'), not both"),
                ))
            }
            _ => {}
        }
        self.write(|tx| {
            let community = new.community.as_deref().map(|c| community::resolve(tx, c)).transpose()?;
            let collections = new
                .collections
                .iter()
                .map(|c| collection::resolve(tx, c).map(|c| c.rowid))
                .collect::<Result<Vec<_>>>()?;
            insert(tx, name, new.description.as_deref(), community.map(|c| c.rowid), &collections, new.enabled)
        })
    }

    /// Every rule, oldest first.
    pub fn rules(&self) -> Result<Vec<Rule>> {
        let conn = self.conn();
        let mut st = conn.prepare(&format!("{SELECT} ORDER BY r.id"))?;
        let rows = st.query_map([], from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        rows.into_iter().map(|r| with_collections(&conn, r)).collect()
    }

    /// The enabled rules, oldest first.
    pub fn enabled_rules(&self) -> Result<Vec<Rule>> {
        Ok(self.rules()?.into_iter().filter(|r| r.enabled).collect())
    }

    /// A rule by id or name.
    pub fn rule(&self, id_or_name: &str) -> Result<Rule> {
        resolve(&self.conn(), id_or_name)
    }

    /// Enable or disable a rule; returns it as it is now.
    pub fn set_rule_enabled(&self, id_or_name: &str, enabled: bool) -> Result<Rule> {
        self.write(|tx| {
            let r = resolve(tx, id_or_name)?;
            if r.enabled != enabled {
                // enabling moves its sequence: an incremental retrohunt hunts its collections whole
                tx.execute(
                    "UPDATE rules SET enabled = ?1, modified = ?2, seq = CASE WHEN ?1 THEN ?4 ELSE seq END
                     WHERE id = ?3",
                    rusqlite::params![enabled, Timestamp::now().0, r.rowid, super::current_seq(tx)?],
                )?;
            }
            resolve(tx, &r.id)
        })
    }

    /// Delete a rule (its collections and their indicators stay); returns it as it was.
    pub fn delete_rule(&self, id_or_name: &str) -> Result<Rule> {
        self.write(|tx| {
            let r = resolve(tx, id_or_name)?;
            tx.execute("DELETE FROM rules WHERE id = ?1", [r.rowid])?;
            Ok(r)
        })
    }

    /// The rules (enabled or not) that cover a collection (id or name), oldest first.
    pub fn rules_for_collection(&self, collection: &str) -> Result<Vec<Rule>> {
        let c = self.collection(collection)?;
        Ok(self.rules()?.into_iter().filter(|r| r.collections.contains(&c.id)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::NewCollection;

    #[test]
    fn rules_over_collections_and_over_a_community() {
        let s = Store::open_in_memory().unwrap();
        let a = s.create_collection(&NewCollection::named("a")).unwrap();
        let b = s.create_collection(&NewCollection::named("b")).unwrap();
        s.create_community("tenant", None).unwrap();
        let t1 = s
            .create_collection(&NewCollection { community: Some("tenant".into()), ..NewCollection::named("t1") })
            .unwrap();

        let r1 = s.create_rule(&NewRule::for_collections("r1", ["a", b.id.as_str()])).unwrap();
        assert!(r1.id.starts_with("rule--"));
        assert_eq!(r1.collections, vec![a.id.clone(), b.id.clone()]);
        assert!(r1.enabled && r1.community_id.is_none());
        let r2 = s.create_rule(&NewRule::for_community("r2", "tenant")).unwrap();
        assert_eq!(r2.collections, vec![t1.id.clone()]);
        assert_eq!(r2.community_id, Some(s.community("tenant").unwrap().id));
        // a collection created after the rule is covered too
        let t2 = s
            .create_collection(&NewCollection { community: Some("tenant".into()), ..NewCollection::named("t2") })
            .unwrap();
        assert_eq!(s.rule("R2").unwrap().collections, vec![t1.id.clone(), t2.id.clone()]);
        assert_eq!(s.rules_for_collection(&t2.id).unwrap().iter().map(|r| &r.name).collect::<Vec<_>>(), ["r2"]);
        assert_eq!(s.rules_for_collection("a").unwrap().len(), 1);

        // by id, bare uuid, name
        assert_eq!(s.rule(&r1.id).unwrap(), r1);
        assert_eq!(s.rule(r1.id.trim_start_matches("rule--")).unwrap().name, "r1");
        let off = s.set_rule_enabled("r1", false).unwrap();
        assert!(!off.enabled && off.modified >= r1.modified);
        assert_eq!(s.enabled_rules().unwrap().len(), 1);
        assert!(s.set_rule_enabled(&r1.id, true).unwrap().enabled);

        // deleting a collection drops it from its rules; deleting a rule keeps the collections
        s.delete_collection("b").unwrap();
        assert_eq!(s.rule("r1").unwrap().collections, vec![a.id.clone()]);
        assert_eq!(s.delete_rule("r1").unwrap().id, r1.id);
        assert_eq!(s.rule("r1").unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(s.collection("a").unwrap().id, a.id);
        assert_eq!(s.rules().unwrap().len(), 1);
    }

    #[test]
    fn validation_names_the_value() {
        let s = Store::open_in_memory().unwrap();
        s.create_collection(&NewCollection::named("a")).unwrap();
        s.create_rule(&NewRule::for_collections("taken", ["a"])).unwrap();
        let cases: Vec<(NewRule, ErrorKind, &str)> = vec![
            (NewRule::for_collections("  ", ["a"]), ErrorKind::Validation, "name is required"),
            (NewRule::for_collections("x", ["nope"]), ErrorKind::NotFound, "'nope'"),
            (NewRule::for_community("x", "nowhere"), ErrorKind::NotFound, "'nowhere'"),
            (NewRule::for_collections("TAKEN", ["a"]), ErrorKind::Conflict, "'TAKEN'"),
            (NewRule { name: "x".into(), ..Default::default() }, ErrorKind::Validation, "needs a scope"),
            (
                NewRule { community: Some("default".into()), ..NewRule::for_collections("x", ["a"]) },
                ErrorKind::Validation,
                "not both",
            ),
            (
                NewRule { description: Some("d".repeat(501)), ..NewRule::for_collections("x", ["a"]) },
                ErrorKind::Validation,
                "501 characters",
            ),
        ];
        for (new, kind, needle) in cases {
            let e = s.create_rule(&new).unwrap_err();
            assert_eq!(e.kind(), kind, "{new:?}: {e}");
            assert!(e.to_string().contains(needle), "{new:?}: '{needle}' not in '{e}'");
        }
        assert_eq!(s.rules().unwrap().len(), 1);
        assert_eq!(s.set_rule_enabled("ghost", true).unwrap_err().kind(), ErrorKind::NotFound);
        assert_eq!(s.delete_rule("ghost").unwrap_err().kind(), ErrorKind::NotFound);
    }

    #[test]
    fn a_collection_can_come_with_its_rule() {
        let s = Store::open_in_memory().unwrap();
        let c = s.create_collection(&NewCollection { create_rule: true, ..NewCollection::named("phish") }).unwrap();
        let r = s.rule("IOC collection: phish").unwrap();
        assert_eq!(r.collections, vec![c.id.clone()]);
        assert!(r.enabled);
        // the same collection name in another community still gets a rule, with a distinct name
        s.create_community("other", None).unwrap();
        let o = s
            .create_collection(&NewCollection {
                create_rule: true,
                community: Some("other".into()),
                ..NewCollection::named("phish")
            })
            .unwrap();
        let rs = s.rules_for_collection(&o.id).unwrap();
        assert_eq!(rs.len(), 1);
        assert_ne!(rs[0].name, r.name);
        // without the option, no rule
        s.create_collection(&NewCollection::named("plain")).unwrap();
        assert!(s.rules_for_collection("plain").unwrap().is_empty());
    }
}
