//! STIX 2.1 import: bundles, arrays of objects and one-object-per-line files.
//!
//! Indicators whose pattern is a disjunction of equality comparisons on `ipv4-addr:value`,
//! `ipv6-addr:value` (or `ISSUBSET` a CIDR), `domain-name:value`, `url:value`,
//! `email-addr:value`, `file:hashes.<MD5|SHA-1|SHA-256|SHA-512|SSDEEP>` and
//! `user-account:<user_id|account_login>`, and `network-traffic:<dst|src>_ref.value` (with or
//! without its `…_ref.type`) become one indicator per alternative; an `AND` of
//! hashes of one file, or an `OR` of hashes of different types in one observation (as iocmatch
//! exports a multi-hash indicator), becomes one multi-hash indicator. `valid_from`, `valid_until`,
//! `kill_chain_phases` and `description` are kept; `indicates` relationships to an
//! intrusion set, malware, threat actor, campaign or tool (and `x_ic_related_threat_refs`)
//! become related threats, registered under their STIX id and name when new. Revoked
//! indicators are skipped (a revoked indicator never matches). Every skipped indicator is
//! reported with its object id and the reason.

use super::records::{clip_description, Parsed, Record, ThreatDef};
use super::stix_pattern::{self, Comparison};
use super::{ImportReport, Progress};
use crate::error::{Error, Result};
use crate::killchain::PhaseSet;
use crate::observable::{self, IndicatorValue, Kind};
use crate::store::{Store, THREAT_TYPES};
use crate::time::Timestamp;
use serde_json::Value;
use std::collections::HashMap;

/// The objects of a STIX input, each with its 1-based position (object number in a bundle,
/// line number in a one-object-per-line file).
fn objects(input: &[u8], parsed: &mut Parsed) -> Result<Vec<(u64, Value)>> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = std::str::from_utf8(input).map_err(|e| {
        Error::invalid("STIX input", format!("STIX input is not valid UTF-8 (byte {})", e.valid_up_to()))
    })?;
    let mut out = Vec::new();
    let relaxed = || super::records::without_trailing_commas(text).and_then(|t| serde_json::from_str(&t).ok());
    match serde_json::from_str::<Value>(text).or_else(|e| relaxed().ok_or(e)) {
        Ok(v) => flatten(v, None, &mut out),
        Err(whole) => {
            // One object per line? Only when some line is JSON: else the whole text is broken.
            let mut bad = Vec::new();
            for (i, line) in text.lines().enumerate() {
                let n = i as u64 + 1;
                if line.trim().is_empty() {
                    continue;
                }
                match serde_json::from_str::<Value>(line) {
                    Ok(v) => flatten(v, Some(n), &mut out),
                    Err(e) => bad.push((n, line, e)),
                }
            }
            if out.is_empty() {
                return Err(Error::invalid(
                    super::excerpt(text.trim(), 80),
                    format!("invalid STIX JSON at line {} column {}: {whole}", whole.line(), whole.column()),
                ));
            }
            for (n, line, e) in bad {
                parsed.reject(n, line, format!("invalid JSON on line {n}: {e}"));
            }
        }
    }
    Ok(out)
}

/// Bundles and arrays opened, objects kept. `line` is the line of a one-object-per-line file.
fn flatten(v: Value, line: Option<u64>, out: &mut Vec<(u64, Value)>) {
    match v {
        Value::Array(items) => {
            for item in items {
                flatten(item, line, out);
            }
        }
        Value::Object(mut o) if o.get("type").and_then(Value::as_str) == Some("bundle") => {
            if let Some(Value::Array(items)) = o.remove("objects") {
                for item in items {
                    let n = line.unwrap_or(out.len() as u64 + 1);
                    out.push((n, item));
                }
            }
        }
        other => {
            let n = line.unwrap_or(out.len() as u64 + 1);
            out.push((n, other));
        }
    }
}

fn str_of<'a>(o: &'a Value, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str)
}

/// The kind a hash name in `file:hashes.<name>` stands for.
fn hash_kind(name: &str) -> Option<Kind> {
    match name.to_ascii_uppercase().replace(['-', '_'], "").as_str() {
        "MD5" => Some(Kind::Md5),
        "SHA1" => Some(Kind::Sha1),
        "SHA256" => Some(Kind::Sha256),
        "SHA512" => Some(Kind::Sha512),
        "SSDEEP" => Some(Kind::Ssdeep),
        _ => None,
    }
}

fn unsupported(c: &Comparison) -> String {
    format!("comparison {} is not supported", c.shown())
}

/// One comparison as an indicator value.
fn single(c: &Comparison) -> std::result::Result<IndicatorValue, String> {
    if !c.is_string {
        return Err(unsupported(c));
    }
    let path: Vec<&str> = c.path.iter().map(String::as_str).collect();
    let kind = match (c.object.as_str(), path.as_slice(), c.op.as_str()) {
        ("ipv4-addr" | "ipv6-addr", ["value"], "=" | "ISSUBSET") => {
            if c.value.contains('/') {
                Kind::Cidr
            } else if c.object == "ipv4-addr" {
                Kind::Ipv4
            } else {
                Kind::Ipv6
            }
        }
        ("domain-name", ["value"], "=") => Kind::Domain,
        ("url", ["value"], "=") => Kind::Url,
        ("email-addr", ["value"], "=") => Kind::Email,
        ("user-account", ["user_id" | "account_login"], "=") => Kind::Username,
        ("file", ["hashes", h], "=") => hash_kind(h).ok_or_else(|| format!("hash type '{h}' is not supported"))?,
        ("network-traffic", ["dst_ref" | "src_ref", "value"], "=") => return traffic_end(c, None),
        _ => return Err(unsupported(c)),
    };
    let o = observable::normalize(&c.value, Some(kind)).map_err(|e| e.message().to_string())?;
    // A /32 (or /128) CIDR comes back as the address: keep what normalize says.
    Ok(IndicatorValue::single(o))
}

/// The address or domain at one end of network traffic (`network-traffic:dst_ref.value`),
/// of the STIX type `ty` when the pattern says it.
fn traffic_end(c: &Comparison, ty: Option<&str>) -> std::result::Result<IndicatorValue, String> {
    let kind = match ty {
        None => None,
        Some("ipv4-addr") if c.value.contains('/') => Some(Kind::Cidr),
        Some("ipv4-addr") => Some(Kind::Ipv4),
        Some("ipv6-addr") if c.value.contains('/') => Some(Kind::Cidr),
        Some("ipv6-addr") => Some(Kind::Ipv6),
        Some("domain-name") => Some(Kind::Domain),
        Some(other) => return Err(format!("network-traffic end of type '{other}' is not supported")),
    };
    let o = observable::normalize(&c.value, kind).map_err(|e| e.message().to_string())?;
    if !matches!(o.kind, Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr | Kind::Domain) {
        return Err(format!("'{}' is not an address or domain ({})", c.value, c.shown()));
    }
    Ok(IndicatorValue::single(o))
}

/// `network-traffic:<end>_ref.type = 'T' AND network-traffic:<end>_ref.value = 'V'` (either
/// order, same end): the address or domain V.
fn typed_traffic_end(many: &[Comparison]) -> Option<std::result::Result<IndicatorValue, String>> {
    let end = |c: &Comparison| -> Option<(String, String)> {
        match (c.object.as_str(), c.path.as_slice(), c.op.as_str(), c.is_string) {
            ("network-traffic", [r, p], "=", true) if r == "dst_ref" || r == "src_ref" => Some((r.clone(), p.clone())),
            _ => None,
        }
    };
    let [a, b] = many else { return None };
    let ((ra, pa), (rb, pb)) = (end(a)?, end(b)?);
    if ra != rb {
        return None;
    }
    match (pa.as_str(), pb.as_str()) {
        ("type", "value") => Some(traffic_end(b, Some(&a.value))),
        ("value", "type") => Some(traffic_end(a, Some(&b.value))),
        _ => None,
    }
}

/// One alternative of a pattern (one comparison, or an AND of hashes of one file).
fn alternative(conj: &[Comparison]) -> std::result::Result<IndicatorValue, String> {
    match conj {
        [one] => single(one),
        many => {
            if let Some(r) = typed_traffic_end(many) {
                return r;
            }
            let hashes: Option<Vec<&str>> = many
                .iter()
                .map(|c| match (c.object.as_str(), c.path.as_slice(), c.op.as_str()) {
                    ("file", [h, name], "=") if h == "hashes" && c.is_string && hash_kind(name).is_some() => {
                        Some(c.value.as_str())
                    }
                    _ => None,
                })
                .collect();
            match hashes {
                Some(h) => observable::parse_indicator(&h.join(","), None).map_err(|e| e.message().to_string()),
                None => {
                    let shown: Vec<String> = many.iter().map(Comparison::shown).collect();
                    Err(format!(
                        "an AND of comparisons other than hashes of one file is not supported: {}",
                        shown.join(" AND ")
                    ))
                }
            }
        }
    }
}

/// The kill chain phases of an object; unknown chains and phases are left out.
fn phases(o: &Value) -> PhaseSet {
    let mut set = PhaseSet::EMPTY;
    if let Some(Value::Array(items)) = o.get("kill_chain_phases") {
        for p in items {
            if let Ok(p) = serde_json::from_value::<crate::killchain::KillChainPhase>(p.clone()) {
                if let Ok(s) = PhaseSet::from_phases(std::slice::from_ref(&p)) {
                    set = set.union(s);
                }
            }
        }
    }
    set
}

fn time(o: &Value, key: &str) -> std::result::Result<Option<Timestamp>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Timestamp::parse(s).map(Some).map_err(|e| format!("{key}: {}", e.message())),
        Some(other) => Err(format!("{key} is not a timestamp: {other}")),
    }
}

/// Read a STIX input into records, rejections and threats.
pub(crate) fn parse(input: &[u8]) -> Result<Parsed> {
    let mut parsed = Parsed::default();
    let objs = objects(input, &mut parsed)?;
    if !objs.is_empty() && !objs.iter().any(|(_, o)| str_of(o, "type").is_some()) {
        return Err(Error::invalid(
            "STIX input",
            "not STIX 2.x: no object has a 'type' (STIX 1.x and other JSON formats are not supported)",
        ));
    }
    // Threat objects by id, and the targets of `indicates` relationships by indicator.
    let mut threat_objs: HashMap<String, ThreatDef> = HashMap::new();
    let mut indicates: HashMap<String, Vec<String>> = HashMap::new();
    for (_, o) in &objs {
        let (Some(t), Some(id)) = (str_of(o, "type"), str_of(o, "id")) else { continue };
        if THREAT_TYPES.contains(&t) {
            let aliases = match o.get("aliases") {
                Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).map(str::to_string).collect(),
                _ => Vec::new(),
            };
            let name = str_of(o, "name").unwrap_or(id).to_string();
            let threat_type = THREAT_TYPES.iter().copied().find(|x| *x == t).unwrap_or("intrusion-set");
            threat_objs
                .insert(id.to_ascii_lowercase(), ThreatDef { id: Some(id.to_string()), name, aliases, threat_type });
        } else if t == "relationship" && str_of(o, "relationship_type") == Some("indicates") {
            if let (Some(src), Some(dst)) = (str_of(o, "source_ref"), str_of(o, "target_ref")) {
                if src.starts_with("indicator--") {
                    indicates.entry(src.to_string()).or_default().push(dst.to_ascii_lowercase());
                }
            }
        }
    }
    for (n, o) in &objs {
        let Value::Object(_) = o else {
            parsed.reject(*n, &o.to_string(), "not a STIX object (a JSON object was expected)");
            continue;
        };
        if str_of(o, "type") != Some("indicator") {
            continue;
        }
        parsed.lines += 1;
        let id = str_of(o, "id").unwrap_or("(indicator without id)").to_string();
        if o.get("revoked").and_then(Value::as_bool) == Some(true) {
            parsed.reject(*n, &id, format!("indicator {id} is revoked: not imported"));
            continue;
        }
        if let Some(pt) = str_of(o, "pattern_type") {
            if pt != "stix" {
                parsed.reject(*n, &id, format!("indicator {id}: pattern_type '{pt}' is not supported (only stix)"));
                continue;
            }
        }
        let Some(pattern) = str_of(o, "pattern") else {
            parsed.reject(*n, &id, format!("indicator {id} has no pattern"));
            continue;
        };
        let (from, until) = match (time(o, "valid_from"), time(o, "valid_until")) {
            (Ok(f), Ok(u)) => (f, u),
            (Err(e), _) | (_, Err(e)) => {
                parsed.reject(*n, &id, format!("indicator {id}: {e}"));
                continue;
            }
        };
        let alternatives = match stix_pattern::parse(pattern) {
            Ok(a) => a,
            Err(e) => {
                parsed.reject(*n, &id, format!("indicator {id}: pattern {pattern}: {e}"));
                continue;
            }
        };
        let mut threats = Vec::new();
        let mut refs: Vec<String> = indicates.get(&id).cloned().unwrap_or_default();
        if let Some(Value::Array(x)) = o.get("x_ic_related_threat_refs") {
            refs.extend(x.iter().filter_map(Value::as_str).map(str::to_ascii_lowercase));
        }
        for r in refs {
            let def = threat_objs.get(&r).cloned().unwrap_or_else(|| ThreatDef {
                id: Some(r.clone()),
                name: String::new(),
                aliases: Vec::new(),
                threat_type: "intrusion-set",
            });
            threats.push(parsed.threat(def));
        }
        let phases = phases(o);
        let description = str_of(o, "description").and_then(clip_description);
        let port = o.get("x_iocmatch_port").and_then(Value::as_u64).and_then(|p| u16::try_from(p).ok());
        let subdomains = o.get("x_iocmatch_match_subdomains").and_then(Value::as_bool);
        let mut skipped = Vec::new();
        let mut any = false;
        for alt in &alternatives {
            match alternative(alt) {
                Ok(mut value) => {
                    any = true;
                    if value.observables.len() == 1 && matches!(value.observables[0].kind, Kind::Ipv4 | Kind::Ipv6) {
                        value.port = port;
                    }
                    parsed.records.push(Record {
                        value,
                        valid_from: from,
                        valid_until: until,
                        phases,
                        threats: threats.clone(),
                        description: description.clone(),
                        match_subdomains: subdomains,
                        line: *n,
                        name: id.clone(),
                    });
                }
                Err(e) => skipped.push(e),
            }
        }
        if !skipped.is_empty() {
            let what = if any { "part of its pattern was skipped" } else { "skipped" };
            parsed.reject(*n, &id, format!("indicator {id} {what}: {}", skipped.join("; ")));
        }
    }
    Ok(parsed)
}

impl Store {
    /// Import STIX 2.1 indicators (a bundle, an array of objects, or one object per line) into
    /// a collection. See [`Store::import_stix_with_progress`].
    pub fn import_stix(&self, collection: &str, input: &[u8]) -> Result<ImportReport> {
        self.import_stix_with_progress(collection, input, &mut super::no_progress)
    }

    /// Import STIX 2.1 indicators, reporting progress.
    ///
    /// Supported patterns, threats and properties are described in the [module
    /// documentation](self). The report's `lines` counts indicator objects; each skipped
    /// indicator (or skipped part of a pattern) is a [`super::Rejected`] entry whose `line` is the
    /// object's number in the bundle (or its line in a one-object-per-line file) and whose
    /// `text` is its id. Other objects (identities, reports, …) are not indicators and are
    /// passed over. One transaction, duplicates merged, as a text import.
    ///
    /// # Errors
    /// Validation when the input is not JSON (nor JSON lines); not-found for the collection;
    /// limit-exceeded; storage errors.
    pub fn import_stix_with_progress(
        &self,
        collection: &str,
        input: &[u8],
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        let parsed = parse(input)?;
        self.write_parsed(collection, parsed, progress)
    }
}
