//! A collection as a STIX 2.1 bundle: an `identity` for the collection, one `indicator` per
//! indicator (in the shape of [`super::StixIndicator`], empty lists left out as STIX requires),
//! the related threats as `intrusion-set`/`malware`/… objects, and an `indicates` relationship
//! from each indicator to each of its threats.

use crate::error::{Error, ErrorKind, Result};
use crate::store::{IndicatorQuery, Pagination, Store};
use serde_json::{json, Map, Value};

fn json_err(e: serde_json::Error) -> Error {
    Error::new(ErrorKind::Io, format!("cannot render the STIX bundle: {e}"))
}

/// Remove empty lists and nulls from an object (STIX forbids empty lists).
fn prune(v: Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.into_iter()
                .filter(|(_, v)| !matches!(v, Value::Null) && !matches!(v, Value::Array(a) if a.is_empty()))
                .collect(),
        ),
        other => other,
    }
}

impl Store {
    /// Every indicator of a collection (revoked ones included), oldest first.
    pub(crate) fn all_indicators(&self, collection: &str) -> Result<Vec<crate::store::Indicator>> {
        let q = IndicatorQuery { page: Pagination { offset: 0, limit: i64::MAX as u64 }, ..IndicatorQuery::default() };
        Ok(self.indicators(collection, &q)?.items)
    }

    /// The collection as a STIX 2.1 bundle (a JSON value). Revoked indicators are included
    /// with `"revoked": true`.
    ///
    /// # Errors
    /// Not-found for the collection; storage errors.
    pub fn export_stix(&self, collection: &str) -> Result<Value> {
        let coll = self.collection(collection)?;
        let indicators = self.all_indicators(&coll.id)?;
        let identity_id = format!("identity--{}", coll.id.rsplit("--").next().unwrap_or_default());
        let created = coll.created.to_rfc3339();
        let mut objects: Vec<Value> = Vec::with_capacity(indicators.len() * 2 + 1);
        let mut identity = json!({
            "type": "identity",
            "spec_version": "2.1",
            "id": identity_id,
            "created": created,
            "modified": coll.modified.to_rfc3339(),
            "name": coll.name,
            "identity_class": "system",
        });
        if let (Some(d), Value::Object(m)) = (&coll.description, &mut identity) {
            m.insert("description".into(), Value::String(d.clone()));
        }
        objects.push(identity);
        let mut threat_ids: Vec<String> = Vec::new();
        let mut relationships: Vec<Value> = Vec::new();
        for ind in &indicators {
            let mut v = serde_json::to_value(ind.to_stix()).map_err(json_err)?;
            if let Value::Object(m) = &mut v {
                m.insert("created_by_ref".into(), Value::String(identity_id.clone()));
                m.insert("indicator_types".into(), json!(["malicious-activity"]));
            }
            objects.push(prune(v));
            for t in &ind.threats {
                if !threat_ids.contains(t) {
                    threat_ids.push(t.clone());
                }
                relationships.push(json!({
                    "type": "relationship",
                    "spec_version": "2.1",
                    "id": format!("relationship--{}", uuid::Uuid::new_v4()),
                    "created": ind.created.to_rfc3339(),
                    "modified": ind.modified.to_rfc3339(),
                    "relationship_type": "indicates",
                    "source_ref": ind.id,
                    "target_ref": t,
                    "created_by_ref": identity_id,
                }));
            }
        }
        for id in &threat_ids {
            let Ok(t) = self.threat(id) else { continue };
            let ty = id.split("--").next().unwrap_or("intrusion-set");
            let ts = t.created.to_rfc3339();
            let mut m = Map::new();
            m.insert("type".into(), json!(ty));
            m.insert("spec_version".into(), json!("2.1"));
            m.insert("id".into(), json!(t.id));
            m.insert("created".into(), json!(ts));
            m.insert("modified".into(), json!(ts));
            m.insert("name".into(), json!(t.name));
            m.insert("created_by_ref".into(), json!(identity_id));
            if ty == "malware" {
                m.insert("is_family".into(), json!(true));
            }
            if matches!(ty, "intrusion-set" | "threat-actor" | "campaign" | "malware" | "tool") && !t.aliases.is_empty()
            {
                m.insert("aliases".into(), json!(t.aliases));
            }
            objects.push(Value::Object(m));
        }
        objects.extend(relationships);
        Ok(json!({
            "type": "bundle",
            "id": format!("bundle--{}", uuid::Uuid::new_v4()),
            "objects": objects,
        }))
    }

    /// [`Store::export_stix`] as pretty-printed JSON text.
    pub fn export_stix_json(&self, collection: &str) -> Result<String> {
        serde_json::to_string_pretty(&self.export_stix(collection)?).map_err(json_err)
    }
}
