//! Threats: a small registry of intrusion sets, malware, campaigns… that indicators relate to,
//! so imports can name them by STIX id (`intrusion-set--<uuid>`), by name or by alias (`APT-29`).

use super::Store;
use crate::error::{Error, ErrorKind, Result};
use crate::time::Timestamp;
use rusqlite::{Connection, Row};
use serde::Serialize;
use std::collections::HashMap;

/// STIX object types a threat may have.
pub const THREAT_TYPES: [&str; 7] =
    ["intrusion-set", "threat-actor", "malware", "campaign", "tool", "attack-pattern", "vulnerability"];

/// A known threat.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Threat {
    /// STIX id, e.g. `intrusion-set--202fc7e0-1580-4ad1-83d8-5f98be4fe1a2`.
    pub id: String,
    /// Unique name (case-insensitive).
    pub name: String,
    /// Other names it is known by.
    pub aliases: Vec<String>,
    /// When it was registered.
    pub created: Timestamp,
}

/// What is needed to register a threat.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewThreat {
    /// A STIX id; when `None`, `<threat_type>--<new uuid>` is made.
    pub id: Option<String>,
    /// The threat's name.
    pub name: String,
    /// Other names.
    pub aliases: Vec<String>,
    /// STIX type for a made id (`intrusion-set` when `None`).
    pub threat_type: Option<String>,
}

fn from_row(r: &Row<'_>) -> rusqlite::Result<Threat> {
    let aliases: String = r.get(2)?;
    Ok(Threat {
        id: r.get(0)?,
        name: r.get(1)?,
        aliases: aliases.split('\n').filter(|a| !a.is_empty()).map(str::to_string).collect(),
        created: Timestamp(r.get(3)?),
    })
}

/// Check a STIX id of a threat: `<type>--<id>` with a known threat type.
fn check_id(id: &str) -> Result<String> {
    let id = id.trim().to_ascii_lowercase();
    let ok = id.split_once("--").is_some_and(|(t, rest)| {
        THREAT_TYPES.contains(&t)
            && !rest.is_empty()
            && rest.len() <= 64
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if !ok {
        return Err(Error::invalid(
            &id,
            format!("invalid threat id '{id}': expected <type>--<uuid> with type one of {}", THREAT_TYPES.join(", ")),
        ));
    }
    Ok(id)
}

/// The threats of a store, loaded once to resolve many references quickly.
#[derive(Debug, Clone, Default)]
pub struct ThreatRegistry {
    by_key: HashMap<String, String>,
}

impl ThreatRegistry {
    pub(crate) fn load(conn: &Connection) -> Result<ThreatRegistry> {
        let mut st = conn.prepare("SELECT id, name, aliases, created FROM threats")?;
        let mut by_key = HashMap::new();
        for t in st.query_map([], from_row)? {
            let t = t?;
            for k in t.aliases.iter().chain(std::iter::once(&t.name)) {
                by_key.entry(k.to_lowercase()).or_insert_with(|| t.id.clone());
            }
            by_key.insert(t.id.clone(), t.id);
        }
        Ok(ThreatRegistry { by_key })
    }

    /// The id of the threat named by `reference` (id, name or alias, case-insensitive).
    ///
    /// # Errors
    /// A validation error naming the reference when no threat has it.
    pub fn resolve(&self, reference: &str) -> Result<String> {
        let key = reference.trim().to_lowercase();
        self.by_key.get(&key).cloned().ok_or_else(|| {
            Error::invalid(
                reference,
                format!("unknown threat '{}': register it first (iocmatch threat add)", reference.trim()),
            )
        })
    }

    /// Resolve every reference, keeping the first occurrence of each id.
    pub fn resolve_all<S: AsRef<str>>(&self, refs: &[S]) -> Result<Vec<String>> {
        let mut out: Vec<String> = Vec::with_capacity(refs.len());
        for r in refs {
            let id = self.resolve(r.as_ref())?;
            if !out.contains(&id) {
                out.push(id);
            }
        }
        Ok(out)
    }
}

impl Store {
    /// Register a threat.
    ///
    /// # Errors
    /// Validation (id, empty name), conflict (id, name or alias already known).
    pub fn add_threat(&self, new: &NewThreat) -> Result<Threat> {
        let name = new.name.trim();
        if name.is_empty() || name.contains('\n') || name.contains(',') {
            return Err(Error::invalid(name, "a threat name must be non-empty, without commas or line breaks"));
        }
        let id = match &new.id {
            Some(id) => check_id(id)?,
            None => {
                let t = new.threat_type.as_deref().unwrap_or("intrusion-set");
                check_id(&format!("{t}--{}", uuid::Uuid::new_v4()))?
            }
        };
        let aliases: Vec<String> = new
            .aliases
            .iter()
            .map(|a| a.trim().to_string())
            .filter(|a| !a.is_empty() && !a.eq_ignore_ascii_case(name))
            .collect();
        if let Some(bad) = aliases.iter().find(|a| a.contains('\n') || a.contains(',')) {
            return Err(Error::invalid(bad, format!("invalid alias '{bad}': no commas or line breaks")));
        }
        self.write(|tx| {
            let reg = ThreatRegistry::load(tx)?;
            for key in
                std::iter::once(name).chain(aliases.iter().map(String::as_str)).chain(std::iter::once(id.as_str()))
            {
                if let Ok(existing) = reg.resolve(key) {
                    return Err(Error::new(
                        ErrorKind::Conflict,
                        format!("threat '{key}' is already known as {existing}"),
                    ));
                }
            }
            tx.execute(
                "INSERT INTO threats (id, name, aliases, created) VALUES (?1, ?2, ?3, ?4)",
                rusqlite::params![id, name, aliases.join("\n"), Timestamp::now().0],
            )?;
            Ok(tx.query_row("SELECT id, name, aliases, created FROM threats WHERE id = ?1", [&id], from_row)?)
        })
    }

    /// Every registered threat, by name.
    pub fn threats(&self) -> Result<Vec<Threat>> {
        let conn = self.conn();
        let mut st = conn.prepare("SELECT id, name, aliases, created FROM threats ORDER BY name")?;
        let rows = st.query_map([], from_row)?.collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows)
    }

    /// The threat named by id, name or alias.
    pub fn threat(&self, reference: &str) -> Result<Threat> {
        let conn = self.conn();
        let id = ThreatRegistry::load(&conn)?.resolve(reference).map_err(|_| Error::not_found("threat", reference))?;
        Ok(conn.query_row("SELECT id, name, aliases, created FROM threats WHERE id = ?1", [&id], from_row)?)
    }

    /// The registry, to resolve many references at once.
    pub fn threat_registry(&self) -> Result<ThreatRegistry> {
        ThreatRegistry::load(&self.conn())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_and_resolve() {
        let s = Store::open_in_memory().unwrap();
        let t = s
            .add_threat(&NewThreat {
                id: Some("intrusion-set--202fc7e0-1580-4ad1-83d8-5f98be4fe1a2".into()),
                name: "APT29".into(),
                aliases: vec!["APT-29".into(), "Cozy Bear".into()],
                threat_type: None,
            })
            .unwrap();
        let reg = s.threat_registry().unwrap();
        for r in ["apt-29", "COZY BEAR", "APT29", "intrusion-set--202fc7e0-1580-4ad1-83d8-5f98be4fe1a2"] {
            assert_eq!(reg.resolve(r).unwrap(), t.id, "{r}");
        }
        assert_eq!(reg.resolve_all(&["apt29", "apt-29"]).unwrap(), vec![t.id.clone()]);
        let e = reg.resolve("Lazarus").unwrap_err();
        assert!(e.to_string().contains("'Lazarus'"), "{e}");
        let made = s
            .add_threat(&NewThreat {
                name: "Phishing".into(),
                threat_type: Some("attack-pattern".into()),
                ..Default::default()
            })
            .unwrap();
        assert!(made.id.starts_with("attack-pattern--"));
        assert_eq!(s.threats().unwrap().len(), 2);
        assert_eq!(s.threat("cozy bear").unwrap(), t);
    }

    #[test]
    fn rejects_bad_ids_and_clashes() {
        let s = Store::open_in_memory().unwrap();
        for id in ["apt29", "country--x", "malware--", "malware--a b"] {
            let e =
                s.add_threat(&NewThreat { id: Some(id.into()), name: "X".into(), ..Default::default() }).unwrap_err();
            assert_eq!(e.kind(), ErrorKind::Validation, "{id}");
        }
        s.add_threat(&NewThreat { name: "Emotet".into(), aliases: vec!["Heodo".into()], ..Default::default() })
            .unwrap();
        let e = s.add_threat(&NewThreat { name: "heodo".into(), ..Default::default() }).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Conflict);
    }
}
