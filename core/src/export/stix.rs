//! The STIX 2.1 view of an indicator, exactly in the shape of the spec's responses.

use crate::killchain::KillChainPhase;
use crate::observable::{IndicatorValue, Kind};
use crate::store::Indicator;
use serde::Serialize;

/// A kill chain phase as written in STIX.
pub type KillChainPhaseOut = KillChainPhase;

/// A STIX 2.1 `indicator` object, with the spec's `x_ic_*` properties, in the spec's key order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StixIndicator {
    /// `indicator--<uuid>`.
    pub id: String,
    /// Always `indicator`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Creation time.
    pub created: String,
    /// Last change.
    pub modified: String,
    /// Whether it was revoked.
    pub revoked: bool,
    /// Always `en`.
    pub lang: &'static str,
    /// Always `2.1`.
    pub spec_version: &'static str,
    /// Always `false`.
    pub x_ic_is_in_flint: bool,
    /// Always `false`.
    pub x_ic_deprecated: bool,
    /// The observable text.
    pub name: String,
    /// The description, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The STIX pattern.
    pub pattern: String,
    /// Start of validity.
    pub valid_from: String,
    /// End of validity, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
    /// Kill chain phases.
    pub kill_chain_phases: Vec<KillChainPhase>,
    /// Always `stix`.
    pub pattern_type: &'static str,
    /// STIX cyber-observable types of the pattern.
    pub x_ic_observable_types: Vec<&'static str>,
    /// The collection's id.
    pub x_ic_collection_ref: String,
    /// Related threat ids.
    pub x_ic_related_threat_refs: Vec<String>,
    /// The port an IP was seen with, when the feed gave one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_iocmatch_port: Option<u16>,
    /// Whether a domain also matches its sub-domains, when set on the indicator.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x_iocmatch_match_subdomains: Option<bool>,
}

/// A STIX string literal: quoted, with `\` and `'` escaped.
fn literal(s: &str) -> String {
    format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
}

fn hash_path(kind: Kind) -> &'static str {
    match kind {
        Kind::Md5 => "file:hashes.MD5",
        Kind::Sha1 => "file:hashes.'SHA-1'",
        Kind::Sha256 => "file:hashes.'SHA-256'",
        Kind::Sha512 => "file:hashes.'SHA-512'",
        _ => "file:hashes.SSDEEP",
    }
}

/// The STIX pattern of an indicator value: `[ipv4-addr:value = '94.24.86.201']`; a CIDR with
/// `ISSUBSET`; several hashes of one file joined with `OR` in one observation.
pub fn pattern(value: &IndicatorValue) -> String {
    let parts: Vec<String> = value
        .observables
        .iter()
        .map(|o| {
            let v = literal(&o.value);
            match o.kind {
                Kind::Cidr => format!("{}:value ISSUBSET {v}", o.stix_type()),
                Kind::Username => format!("user-account:account_login = {v}"),
                k if k.is_hash() => format!("{} = {v}", hash_path(k)),
                _ => format!("{}:value = {v}", o.stix_type()),
            }
        })
        .collect();
    format!("[{}]", parts.join(" OR "))
}

impl Indicator {
    /// The STIX 2.1 view of this indicator.
    pub fn to_stix(&self) -> StixIndicator {
        let mut types: Vec<&'static str> = Vec::new();
        for o in &self.value.observables {
            if !types.contains(&o.stix_type()) {
                types.push(o.stix_type());
            }
        }
        StixIndicator {
            id: self.id.clone(),
            kind: "indicator",
            created: self.created.to_rfc3339(),
            modified: self.modified.to_rfc3339(),
            revoked: self.revoked(),
            lang: "en",
            spec_version: "2.1",
            x_ic_is_in_flint: false,
            x_ic_deprecated: false,
            name: self.name(),
            description: self.description.clone(),
            pattern: pattern(&self.value),
            valid_from: self.valid_from.to_rfc3339(),
            valid_until: self.valid_until.map(|t| t.to_rfc3339()),
            kill_chain_phases: self.kill_chain_phases.phases(),
            pattern_type: "stix",
            x_ic_observable_types: types,
            x_ic_collection_ref: self.collection_id.clone(),
            x_ic_related_threat_refs: self.threats.clone(),
            x_iocmatch_port: self.value.port,
            x_iocmatch_match_subdomains: self.match_subdomains,
        }
    }
}

impl Serialize for Indicator {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_stix().serialize(s)
    }
}
