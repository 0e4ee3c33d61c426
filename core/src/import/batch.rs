//! The spec's batch payload: `default_fields` + `indicators: [{value, ...}]`, answered with
//! `{"items": [...], "total": n}`.

use super::{excerpt, ImportDefaults};
use crate::error::{Error, Result};
use crate::killchain::{KillChainPhase, PhaseSet};
use crate::observable::{self, Kind};
use crate::store::{self, Draft, Indicator, Store, ThreatRegistry};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A kill chain phase in a payload: the STIX object, or a bare name (`"reconnaissance"`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum PhaseRef {
    /// `{kill_chain_name, phase_name}`.
    Phase(KillChainPhase),
    /// A bare phase name, ATT&CK tactic id or `chain:phase`.
    Name(String),
}

/// Properties of indicators in a payload (the defaults, or one item's own).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchFields {
    /// Description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// Start of validity (RFC 3339, a date, or epoch seconds).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_from: Option<String>,
    /// End of validity.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// Kill chain phases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kill_chain_phases: Option<Vec<PhaseRef>>,
    /// Related threats: STIX ids, names or aliases.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub x_ic_related_threat_refs: Option<Vec<String>>,
    /// (iocmatch) Whether a domain indicator also matches its sub-domains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_subdomains: Option<bool>,
}

/// One item of a payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchItem {
    /// The observable (defanged values are accepted).
    pub value: String,
    /// Force the kind (`username`, ...); guessed when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// This item's own properties; they override the defaults.
    #[serde(flatten)]
    pub fields: BatchFields,
}

/// The payload of the spec's batch endpoint.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BatchPayload {
    /// Properties of every item that does not set its own.
    #[serde(default)]
    pub default_fields: BatchFields,
    /// The items, kept as JSON so that one malformed item is reported on its own.
    pub indicators: Vec<serde_json::Value>,
}

/// An item a batch rejected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BatchError {
    /// 0-based position of the item in `indicators`.
    pub index: usize,
    /// Its value (cut to 200 characters), when it had one.
    pub value: Option<String>,
    /// Why it was rejected.
    pub reason: String,
}

/// The answer to a batch: the indicators in the spec's STIX shape, and what was rejected.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchResponse {
    /// One indicator per accepted item, in input order (a duplicate gives the indicator it was
    /// merged into).
    pub items: Vec<Indicator>,
    /// Number of items.
    pub total: u64,
    /// Items that were already in the collection (merged, not added).
    pub duplicates: u64,
    /// Items rejected, with reasons; the others landed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<BatchError>,
}

impl BatchPayload {
    /// Parse a payload from JSON text.
    ///
    /// # Errors
    /// A validation error saying where the JSON is wrong.
    pub fn from_json(json: &str) -> Result<BatchPayload> {
        serde_json::from_str(json).map_err(|e| Error::invalid(excerpt(json, 80), format!("invalid batch payload: {e}")))
    }
}

fn phases(refs: &[PhaseRef]) -> Result<PhaseSet> {
    let mut set = PhaseSet::EMPTY;
    for r in refs {
        set = set.union(match r {
            PhaseRef::Phase(p) => PhaseSet::from_phases(std::slice::from_ref(p))?,
            PhaseRef::Name(n) => PhaseSet::parse_list(n)?,
        });
    }
    Ok(set)
}

fn time(s: &Option<String>) -> Result<Option<Timestamp>> {
    s.as_deref().map(Timestamp::parse).transpose()
}

impl BatchFields {
    /// These fields as import defaults (threat references still unresolved).
    pub fn to_defaults(&self) -> Result<ImportDefaults> {
        Ok(ImportDefaults {
            valid_from: time(&self.valid_from)?,
            valid_until: time(&self.valid_until)?,
            kill_chain_phases: phases(self.kill_chain_phases.as_deref().unwrap_or_default())?,
            threats: self.x_ic_related_threat_refs.clone().unwrap_or_default(),
            description: self.description.clone(),
            kind: None,
            match_subdomains: self.match_subdomains,
        })
    }
}

fn item_draft(item: &BatchItem, defaults: &ImportDefaults, threats: &ThreatRegistry, now: Timestamp) -> Result<Draft> {
    let f = &item.fields;
    let kind = item.kind.as_deref().map(str::parse::<Kind>).transpose()?;
    let value = observable::parse_indicator(&item.value, kind)?;
    let merged = ImportDefaults {
        valid_from: time(&f.valid_from)?.or(defaults.valid_from),
        valid_until: time(&f.valid_until)?.or(defaults.valid_until),
        kill_chain_phases: match &f.kill_chain_phases {
            Some(p) => phases(p)?,
            None => defaults.kill_chain_phases,
        },
        threats: f.x_ic_related_threat_refs.clone().unwrap_or_else(|| defaults.threats.clone()),
        description: f.description.clone().or_else(|| defaults.description.clone()),
        kind,
        match_subdomains: f.match_subdomains.or(defaults.match_subdomains),
    };
    Ok(merged.resolve(threats, now)?.draft(value))
}

impl Store {
    /// Add indicators to a collection from the spec's batch payload. Each item's own fields
    /// override `default_fields`; `valid_from` defaults to now. Invalid items are reported in
    /// `errors` and the valid ones land, in one transaction.
    ///
    /// # Errors
    /// Not-found for the collection; validation for an empty `indicators` list or bad
    /// `default_fields`; limit-exceeded (nothing is written then).
    pub fn add_indicators(&self, collection: &str, payload: &BatchPayload) -> Result<BatchResponse> {
        if payload.indicators.is_empty() {
            return Err(Error::invalid("indicators", "the batch payload must hold at least one indicator"));
        }
        let defaults = payload.default_fields.to_defaults()?;
        let now = Timestamp::now();
        defaults.check(now)?;
        self.write(|tx| {
            let coll = store::collection_by_ref(tx, collection)?;
            let threats = ThreatRegistry::load(tx)?;
            defaults.resolve(&threats, now)?;
            let mut drafts = Vec::new();
            let mut errors = Vec::new();
            for (index, raw) in payload.indicators.iter().enumerate() {
                let shown = raw.get("value").and_then(|v| v.as_str()).map(|v| excerpt(v, 200));
                let draft = serde_json::from_value::<BatchItem>(raw.clone())
                    .map_err(|e| Error::invalid(raw.to_string(), format!("invalid indicator: {e}")))
                    .and_then(|item| item_draft(&item, &defaults, &threats, now));
                match draft {
                    Ok(d) => drafts.push(d),
                    Err(e) => errors.push(BatchError { index, value: shown, reason: e.message().to_string() }),
                }
            }
            let out = store::insert_drafts(tx, &coll, drafts, &mut |_, _| {})?;
            let items = out.rows.iter().map(|&(rowid, _)| store::by_rowid(tx, rowid)).collect::<Result<Vec<_>>>()?;
            Ok(BatchResponse { total: items.len() as u64, items, duplicates: out.duplicates, errors })
        })
    }

    /// [`Store::add_indicators`] with the payload as JSON text.
    pub fn add_indicators_json(&self, collection: &str, payload: &str) -> Result<BatchResponse> {
        self.add_indicators(collection, &BatchPayload::from_json(payload)?)
    }
}
