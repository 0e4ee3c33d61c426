//! The write path shared by the STIX and MISP imports: parsed records (an indicator value with
//! its own properties) and rejections, written like a text or batch import (one transaction,
//! duplicates merged, the community's limit checked, progress reported).

use super::{excerpt, ImportReport, Progress, Rejected, Stage};
use crate::error::Result;
use crate::killchain::PhaseSet;
use crate::observable::IndicatorValue;
use crate::store::{self, Draft, Store, ThreatRegistry};
use crate::time::Timestamp;
use rusqlite::{OptionalExtension, Transaction};

/// A threat an import registers when the store does not know it yet.
#[derive(Debug, Clone)]
pub(crate) struct ThreatDef {
    /// STIX id (`intrusion-set--<uuid>`), or `None` to look it up by name (and make an id).
    pub id: Option<String>,
    /// Its name.
    pub name: String,
    /// Other names.
    pub aliases: Vec<String>,
    /// STIX type used when an id must be made.
    pub threat_type: &'static str,
}

/// One indicator an import wants to write.
#[derive(Debug, Clone)]
pub(crate) struct Record {
    pub value: IndicatorValue,
    pub valid_from: Option<Timestamp>,
    pub valid_until: Option<Timestamp>,
    pub phases: PhaseSet,
    /// References into `Parsed::threats` (by index).
    pub threats: Vec<usize>,
    pub description: Option<String>,
    pub match_subdomains: Option<bool>,
    /// Item number (object or line) and the text naming it, for a report entry if the record
    /// turns out to be invalid.
    pub line: u64,
    pub name: String,
}

/// What a parser read from one input.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    pub records: Vec<Record>,
    pub rejected: Vec<Rejected>,
    pub threats: Vec<ThreatDef>,
    /// Items considered (indicator objects, attributes, rows).
    pub lines: u64,
}

impl Parsed {
    /// Record a rejection.
    pub fn reject(&mut self, line: u64, text: &str, reason: impl Into<String>) {
        self.rejected.push(Rejected { line, text: excerpt(text, 200), reason: reason.into() });
    }

    /// Index of a threat, added when new (same id, or same name without id).
    pub fn threat(&mut self, def: ThreatDef) -> usize {
        let same = |t: &ThreatDef| match (&t.id, &def.id) {
            (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
            (None, None) => t.name.eq_ignore_ascii_case(&def.name),
            _ => false,
        };
        match self.threats.iter().position(same) {
            Some(i) => i,
            None => {
                self.threats.push(def);
                self.threats.len() - 1
            }
        }
    }
}

/// A description cut to the store's 500-character limit.
pub(crate) fn clip_description(d: &str) -> Option<String> {
    let d = d.trim();
    if d.is_empty() {
        return None;
    }
    Some(d.chars().take(500).collect())
}

/// A threat name the registry accepts: no commas or line breaks.
fn clean_name(name: &str) -> String {
    let n: String = name.chars().map(|c| if c == ',' || c == '\n' || c == '\r' { ' ' } else { c }).collect();
    n.trim().to_string()
}

/// The registry id of `def`: an existing threat with that id or name, else a new one.
fn ensure_threat(tx: &Transaction<'_>, reg: &ThreatRegistry, def: &ThreatDef) -> Result<Option<String>> {
    if let Some(id) = &def.id {
        let id = id.trim().to_ascii_lowercase();
        if let Ok(found) = reg.resolve(&id) {
            return Ok(Some(found));
        }
    }
    let name = clean_name(&def.name);
    if name.is_empty() {
        return Ok(None);
    }
    if let Ok(found) = reg.resolve(&name) {
        return Ok(Some(found));
    }
    let id = match &def.id {
        Some(id) => id.trim().to_ascii_lowercase(),
        None => format!("{}--{}", def.threat_type, uuid::Uuid::new_v4()),
    };
    let ok = id.split_once("--").is_some_and(|(t, rest)| {
        store::THREAT_TYPES.contains(&t)
            && !rest.is_empty()
            && rest.len() <= 64
            && rest.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    });
    if !ok {
        return Ok(None);
    }
    let exists: Option<String> =
        tx.query_row("SELECT id FROM threats WHERE id = ?1", [&id], |r| r.get(0)).optional()?;
    if exists.is_none() {
        let aliases: Vec<String> = def
            .aliases
            .iter()
            .map(|a| clean_name(a))
            .filter(|a| !a.is_empty() && !a.eq_ignore_ascii_case(&name) && reg.resolve(a).is_err())
            .collect();
        tx.execute(
            "INSERT INTO threats (id, name, aliases, created) VALUES (?1, ?2, ?3, ?4)",
            rusqlite::params![id, name, aliases.join("\n"), Timestamp::now().0],
        )?;
    }
    Ok(Some(id))
}

impl Store {
    /// Write what a STIX or MISP parser read: register its threats, then write its records as
    /// a text import writes its lines.
    pub(crate) fn write_parsed(
        &self,
        collection: &str,
        mut parsed: Parsed,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        let now = Timestamp::now();
        let total = parsed.records.len() as u64;
        progress(Progress { stage: Stage::Parse, done: total, total });
        self.write(|tx| {
            let coll = store::collection_by_ref(tx, collection)?;
            let mut threat_ids: Vec<Option<String>> = Vec::with_capacity(parsed.threats.len());
            for def in &parsed.threats {
                // Reload so that threats registered by this import resolve by name too.
                let reg = ThreatRegistry::load(tx)?;
                threat_ids.push(ensure_threat(tx, &reg, def)?);
            }
            let mut drafts: Vec<Draft> = Vec::with_capacity(parsed.records.len());
            for r in std::mem::take(&mut parsed.records) {
                let from = r.valid_from.unwrap_or(now);
                if let Err(e) = store::check_window(from, r.valid_until) {
                    parsed.reject(r.line, &r.name, e.message());
                    continue;
                }
                let mut threats: Vec<String> = Vec::new();
                for id in r.threats.iter().filter_map(|&i| threat_ids.get(i).cloned().flatten()) {
                    if !threats.contains(&id) {
                        threats.push(id);
                    }
                }
                drafts.push(Draft {
                    value: r.value,
                    valid_from: from,
                    valid_until: r.valid_until,
                    phases: r.phases,
                    threats,
                    description: r.description,
                    match_subdomains: r.match_subdomains,
                });
            }
            let out = store::insert_drafts(tx, &coll, drafts, &mut |done, total| {
                progress(Progress { stage: Stage::Write, done, total })
            })?;
            parsed.rejected.sort_by_key(|r| r.line);
            Ok(ImportReport {
                lines: parsed.lines,
                imported: out.inserted,
                duplicates: out.duplicates,
                rejected: std::mem::take(&mut parsed.rejected),
            })
        })
    }
}

/// `text` without trailing commas (`,` before `}` or `]`, outside strings), which some
/// published JSON files have; `None` when there are none.
pub(crate) fn without_trailing_commas(text: &str) -> Option<String> {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let (mut in_str, mut esc, mut changed) = (false, false, false);
    for (i, &c) in b.iter().enumerate() {
        if in_str {
            match (esc, c) {
                (true, _) => esc = false,
                (false, b'\\') => esc = true,
                (false, b'"') => in_str = false,
                _ => {}
            }
        } else if c == b'"' {
            in_str = true;
        } else if c == b',' {
            let next = b[i + 1..].iter().find(|x| !x.is_ascii_whitespace());
            if matches!(next, Some(b'}') | Some(b']')) {
                changed = true;
                continue;
            }
        }
        out.push(c);
    }
    if changed {
        String::from_utf8(out).ok()
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trailing_commas() {
        assert_eq!(
            without_trailing_commas(r#"{"a": [1, 2, ], "b": ",]", }"#).unwrap(),
            r#"{"a": [1, 2 ], "b": ",]" }"#
        );
        assert_eq!(without_trailing_commas(r#"{"a": 1}"#), None);
    }
}
