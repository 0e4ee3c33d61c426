//! Matches in the ECS `threat.enrichments` shape.

use super::Match;
use crate::observable::{Kind, Observable};
use serde_json::{json, Value};

impl Match {
    /// This match as one ECS `threat.enrichments` entry: `indicator` (type and the observable in
    /// its ECS field) and `matched` (atomic value, field, indicator id, collection, type).
    pub fn to_enrichment(&self) -> Value {
        let obs = Observable { kind: self.kind, value: self.observable.clone() };
        let mut indicator = json!({ "type": obs.stix_type() });
        let v = &self.observable;
        let extra = match self.kind {
            Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr => json!({ "ip": v }),
            Kind::Domain => json!({ "url": { "domain": v } }),
            Kind::Url => json!({ "url": { "full": v } }),
            Kind::Email => json!({ "email": { "address": v } }),
            Kind::Username => json!({ "user": { "name": v } }),
            k => json!({ "file": { "hash": { k.as_str(): v } } }),
        };
        if let (Some(a), Some(b)) = (indicator.as_object_mut(), extra.as_object()) {
            a.extend(b.clone());
        }
        json!({
            "indicator": indicator,
            "matched": {
                "atomic": self.value,
                "field": self.field,
                "id": self.indicator_id,
                "index": self.collection_id,
                "type": "indicator_match_rule",
            }
        })
    }
}
