//! MISP import: event JSON (`{"Event": …}`, a bare event, the REST `{"response": [{"Event": …}]}`
//! wrapper, or a list of events) with its `Attribute`s and the attributes of its `Object`s, and
//! MISP CSV exports (`uuid,event_id,category,type,value,comment,to_ids,date,…`).
//!
//! Only attributes flagged `to_ids` are imported unless [`MispOptions::all_attributes`] is set.
//! Types: `ip-src`, `ip-dst` (addresses and CIDRs), `ip-src|port`, `ip-dst|port`, `domain`,
//! `hostname`, `domain|ip` (both), `hostname|port`, `url`, `uri` and `link` (when a full URL),
//! `email`, `email-src`, `email-dst`, `email-reply-to`, `whois-registrant-email`, `md5`, `sha1`,
//! `sha256`, `sha512`, `ssdeep`, `filename|<hash>` and `malware-sample`, `target-user` and
//! `github-username` (user names). An attribute's `first_seen` (else its `timestamp`) starts its
//! validity and `last_seen` ends it. Galaxy clusters (with their synonyms as aliases) and tags
//! `misp-galaxy:threat-actor="X"` (and the
//! `mitre-intrusion-set`, `malpedia`, `tool`, `ransomware` galaxies) become related threats;
//! `kill-chain:<phase>` tags become kill chain phases. Every skipped attribute is reported
//! with its number, value and reason.

use super::records::{clip_description, Parsed, Record, ThreatDef};
use super::{ImportReport, Progress};
use crate::error::{Error, Result};
use crate::killchain::PhaseSet;
use crate::observable::{self, IndicatorValue, Kind};
use crate::store::Store;
use crate::time::Timestamp;
use serde_json::Value;

/// Options of a MISP import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct MispOptions {
    /// Import every attribute, not only those flagged `to_ids`.
    pub all_attributes: bool,
}

/// Properties an event gives all its attributes.
#[derive(Default, Clone)]
struct EventContext {
    threats: Vec<usize>,
    phases: PhaseSet,
    info: Option<String>,
}

/// One attribute, from JSON or a CSV row.
struct Attr<'a> {
    kind: &'a str,
    value: &'a str,
    to_ids: bool,
    comment: Option<&'a str>,
    first_seen: Option<&'a str>,
    last_seen: Option<&'a str>,
    timestamp: Option<&'a str>,
}

/// A MISP timestamp: epoch seconds, or a date.
fn misp_time(s: &str) -> Option<Timestamp> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    Timestamp::parse(s).ok()
}

fn flag(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_i64() == Some(1),
        Some(Value::String(s)) => matches!(s.trim().to_ascii_lowercase().as_str(), "1" | "true" | "yes"),
        _ => false,
    }
}

fn text<'a>(o: &'a Value, key: &str) -> Option<&'a str> {
    o.get(key).and_then(Value::as_str)
}

/// The values (with forced kinds) an attribute of `kind` holds, or why it is not supported.
fn values(kind: &str, value: &str) -> std::result::Result<Vec<(String, Option<Kind>)>, String> {
    let v = value.trim();
    let second = || v.split_once('|').map(|(_, b)| b.trim().to_string()).unwrap_or_else(|| v.to_string());
    let first = || v.split_once('|').map(|(a, _)| a.trim().to_string()).unwrap_or_else(|| v.to_string());
    let out = match kind {
        "ip-src" | "ip-dst" => vec![(v.to_string(), None)],
        "ip-src|port" | "ip-dst|port" => {
            let (ip, port) = v.rsplit_once('|').ok_or_else(|| format!("'{v}' is not ip|port"))?;
            let ip = ip.trim();
            let joined =
                if ip.contains(':') { format!("[{ip}]:{}", port.trim()) } else { format!("{ip}:{}", port.trim()) };
            vec![(joined, None)]
        }
        "domain" | "hostname" => vec![(v.to_string(), Some(Kind::Domain))],
        "hostname|port" => vec![(first(), Some(Kind::Domain))],
        "domain|ip" => match v.split_once('|') {
            Some((d, ip)) => vec![(d.trim().to_string(), Some(Kind::Domain)), (ip.trim().to_string(), None)],
            None => return Err(format!("'{v}' is not domain|ip")),
        },
        "url" | "uri" | "link" => vec![(v.to_string(), Some(Kind::Url))],
        "email" | "email-src" | "email-dst" | "email-reply-to" | "whois-registrant-email" | "target-email" => {
            vec![(v.to_string(), Some(Kind::Email))]
        }
        "md5" => vec![(v.to_string(), Some(Kind::Md5))],
        "sha1" => vec![(v.to_string(), Some(Kind::Sha1))],
        "sha256" => vec![(v.to_string(), Some(Kind::Sha256))],
        "sha512" => vec![(v.to_string(), Some(Kind::Sha512))],
        "ssdeep" => vec![(v.to_string(), Some(Kind::Ssdeep))],
        "filename|md5" | "malware-sample" => vec![(second(), Some(Kind::Md5))],
        "filename|sha1" => vec![(second(), Some(Kind::Sha1))],
        "filename|sha256" => vec![(second(), Some(Kind::Sha256))],
        "filename|sha512" => vec![(second(), Some(Kind::Sha512))],
        "filename|ssdeep" => vec![(second(), Some(Kind::Ssdeep))],
        "target-user" | "github-username" => vec![(v.to_string(), Some(Kind::Username))],
        other => return Err(format!("MISP type '{other}' is not an observable iocmatch holds")),
    };
    Ok(out)
}

fn ip_like(v: &IndicatorValue) -> bool {
    v.observables.iter().all(|o| matches!(o.kind, Kind::Ipv4 | Kind::Ipv6 | Kind::Cidr))
}

fn add_attr(parsed: &mut Parsed, n: u64, a: &Attr<'_>, ctx: &EventContext, options: &MispOptions) {
    parsed.lines += 1;
    let shown = format!("{} {}", a.kind, a.value);
    if !a.to_ids && !options.all_attributes {
        parsed.reject(n, &shown, "to_ids is not set (import every attribute with --all-attributes)");
        return;
    }
    let vals = match values(a.kind, a.value) {
        Ok(v) => v,
        Err(e) => {
            parsed.reject(n, &shown, e);
            return;
        }
    };
    let first_seen = a.first_seen.and_then(misp_time);
    let until = a.last_seen.and_then(misp_time);
    let mut from = first_seen.or_else(|| a.timestamp.and_then(misp_time));
    if let (None, Some(f), Some(u)) = (first_seen, from, until) {
        // The attribute's timestamp (its last change) may come after its last sighting.
        if f >= u {
            from = Some(Timestamp(u.0.saturating_sub(1_000_000)));
        }
    }
    let description = a.comment.and_then(clip_description).or_else(|| ctx.info.clone());
    for (raw, kind) in vals {
        let parsed_value = observable::parse_indicator(&raw, kind);
        match parsed_value {
            Ok(value) if kind.is_none() && !ip_like(&value) => {
                parsed.reject(n, &shown, format!("'{raw}' is not an IP address (type {})", a.kind));
            }
            Ok(value) => parsed.records.push(Record {
                value,
                valid_from: from,
                valid_until: until,
                phases: ctx.phases,
                threats: ctx.threats.clone(),
                description: description.clone(),
                match_subdomains: None,
                line: n,
                name: shown.clone(),
            }),
            Err(e) => parsed.reject(n, &shown, e.message()),
        }
    }
}

/// The galaxies whose tags name a threat, with the STIX type a new threat gets.
const THREAT_GALAXIES: [(&str, &str); 6] = [
    ("misp-galaxy:threat-actor=", "intrusion-set"),
    ("misp-galaxy:mitre-intrusion-set=", "intrusion-set"),
    ("misp-galaxy:malpedia=", "malware"),
    ("misp-galaxy:ransomware=", "malware"),
    ("misp-galaxy:tool=", "tool"),
    ("misp-galaxy:mitre-malware=", "malware"),
];

/// Galaxy clusters (`"Galaxy": [{"type": "threat-actor", "GalaxyCluster": [{"value", "meta":
/// {"synonyms"}}]}]`) of the threat galaxies become related threats, with their synonyms as
/// aliases (read before the tags, so that a cluster also tagged keeps its aliases).
fn galaxies_into(galaxies: Option<&Value>, parsed: &mut Parsed, ctx: &mut EventContext) {
    let Some(Value::Array(galaxies)) = galaxies else { return };
    for g in galaxies {
        let Some(kind) = text(g, "type") else { continue };
        let Some(&(_, threat_type)) =
            THREAT_GALAXIES.iter().find(|(prefix, _)| prefix.strip_prefix("misp-galaxy:") == Some(&format!("{kind}=")))
        else {
            continue;
        };
        let Some(Value::Array(clusters)) = g.get("GalaxyCluster") else { continue };
        for c in clusters {
            let Some(name) = text(c, "value").map(str::trim).filter(|n| !n.is_empty()) else { continue };
            let name = att_ck_name(name);
            let aliases = match c.get("meta").and_then(|m| m.get("synonyms")) {
                Some(Value::Array(a)) => a
                    .iter()
                    .filter_map(Value::as_str)
                    .map(str::trim)
                    .filter(|a| !a.is_empty() && !a.eq_ignore_ascii_case(&name))
                    .map(String::from)
                    .collect(),
                _ => Vec::new(),
            };
            let i = parsed.threat(ThreatDef { id: None, name, aliases, threat_type });
            if !ctx.threats.contains(&i) {
                ctx.threats.push(i);
            }
        }
    }
}

/// "APT28 - G0007" in the ATT&CK galaxies: the name without the ATT&CK id.
fn att_ck_name(n: &str) -> String {
    if let Some((a, b)) = n.rsplit_once(" - ") {
        if b.len() <= 6 && b.starts_with(['G', 'S']) && b[1..].bytes().all(|c| c.is_ascii_digit()) {
            return a.trim().to_string();
        }
    }
    n.to_string()
}

fn tags_into(tags: Option<&Value>, parsed: &mut Parsed, ctx: &mut EventContext) {
    let Some(Value::Array(tags)) = tags else { return };
    for t in tags {
        let Some(name) = text(t, "name").or_else(|| t.as_str()) else { continue };
        for (prefix, threat_type) in THREAT_GALAXIES {
            if let Some(rest) = name.strip_prefix(prefix) {
                let n = att_ck_name(rest.trim().trim_matches('"').trim());
                if !n.is_empty() {
                    let i = parsed.threat(ThreatDef { id: None, name: n, aliases: Vec::new(), threat_type });
                    if !ctx.threats.contains(&i) {
                        ctx.threats.push(i);
                    }
                }
            }
        }
        if let Some(phase) = name.strip_prefix("kill-chain:") {
            let phase = phase.trim().trim_matches('"');
            if let Ok(p) = PhaseSet::parse_list(&format!("lockheed-martin:{phase}")) {
                ctx.phases = ctx.phases.union(p);
            }
        }
    }
}

fn event(ev: &Value, parsed: &mut Parsed, options: &MispOptions) {
    let mut ctx = EventContext { info: text(ev, "info").and_then(clip_description), ..EventContext::default() };
    galaxies_into(ev.get("Galaxy"), parsed, &mut ctx);
    tags_into(ev.get("Tag"), parsed, &mut ctx);
    let mut attrs: Vec<&Value> = Vec::new();
    if let Some(Value::Array(a)) = ev.get("Attribute") {
        attrs.extend(a.iter());
    }
    if let Some(Value::Array(objs)) = ev.get("Object") {
        for o in objs {
            if let Some(Value::Array(a)) = o.get("Attribute") {
                attrs.extend(a.iter());
            }
        }
    }
    for a in attrs {
        let n = parsed.lines + 1;
        if flag(a.get("deleted")) {
            parsed.lines += 1;
            parsed.reject(n, text(a, "value").unwrap_or(""), "attribute is deleted");
            continue;
        }
        let (Some(kind), Some(value)) = (text(a, "type"), text(a, "value")) else {
            parsed.lines += 1;
            parsed.reject(n, &a.to_string(), "attribute without a type or value");
            continue;
        };
        let mut actx = ctx.clone();
        galaxies_into(a.get("Galaxy"), parsed, &mut actx);
        tags_into(a.get("Tag"), parsed, &mut actx);
        let attr = Attr {
            kind,
            value,
            to_ids: flag(a.get("to_ids")),
            comment: text(a, "comment"),
            first_seen: text(a, "first_seen"),
            last_seen: text(a, "last_seen"),
            timestamp: text(a, "timestamp"),
        };
        add_attr(parsed, n, &attr, &actx, options);
    }
}

fn parse_json(root: &Value, parsed: &mut Parsed, options: &MispOptions) -> Result<()> {
    let mut events: Vec<&Value> = Vec::new();
    fn collect<'a>(v: &'a Value, out: &mut Vec<&'a Value>) -> bool {
        match v {
            Value::Array(items) => {
                let mut any = false;
                for i in items {
                    any |= collect(i, out);
                }
                any
            }
            Value::Object(o) => {
                if let Some(e) = o.get("Event") {
                    out.push(e);
                    true
                } else if let Some(r) = o.get("response") {
                    collect(r, out)
                } else if o.contains_key("Attribute") || o.contains_key("Object") || o.contains_key("info") {
                    out.push(v);
                    true
                } else {
                    false
                }
            }
            _ => false,
        }
    }
    if !collect(root, &mut events) {
        return Err(Error::invalid(
            "MISP input",
            "not a MISP event: expected {\"Event\": …}, an event with Attribute/Object lists, or {\"response\": […]}",
        ));
    }
    for e in events {
        event(e, parsed, options);
    }
    Ok(())
}

fn parse_csv(text: &str, parsed: &mut Parsed, options: &MispOptions) -> Result<()> {
    let mut rdr = csv::ReaderBuilder::new().flexible(true).has_headers(true).from_reader(text.as_bytes());
    let headers = rdr
        .headers()
        .map_err(|e| Error::invalid("MISP CSV header", format!("cannot read the MISP CSV header: {e}")))?
        .clone();
    let col = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let (Some(ty), Some(val)) = (col("type"), col("value")) else {
        return Err(Error::invalid(
            super::excerpt(&headers.iter().collect::<Vec<_>>().join(","), 120),
            "not a MISP CSV export: the header needs 'type' and 'value' columns (uuid,event_id,category,type,value,comment,to_ids,date,…)",
        ));
    };
    let (to_ids, comment, date) = (col("to_ids"), col("comment"), col("date"));
    let (first, last) = (col("first_seen"), col("last_seen"));
    let ctx = EventContext::default();
    for rec in rdr.records() {
        let n = parsed.lines + 1;
        let row = match rec {
            Ok(r) => r,
            Err(e) => {
                parsed.lines += 1;
                let line = e.position().map(|p| p.line()).unwrap_or(n);
                parsed.reject(line, "", format!("unreadable CSV row: {e}"));
                continue;
            }
        };
        let line = row.position().map(|p| p.line()).unwrap_or(n);
        let get = |i: Option<usize>| i.and_then(|i| row.get(i)).filter(|s| !s.trim().is_empty());
        let (Some(kind), Some(value)) = (get(Some(ty)), get(Some(val))) else {
            parsed.lines += 1;
            parsed.reject(line, &row.iter().collect::<Vec<_>>().join(","), "row without a type or value");
            continue;
        };
        let to_ids_v = get(to_ids).map(|s| Value::String(s.to_string()));
        let attr = Attr {
            kind: kind.trim(),
            value,
            to_ids: flag(to_ids_v.as_ref()),
            comment: get(comment),
            first_seen: get(first),
            last_seen: get(last),
            timestamp: get(date),
        };
        add_attr(parsed, line, &attr, &ctx, options);
    }
    Ok(())
}

/// Read a MISP input (JSON or CSV) into records, rejections and threats.
pub(crate) fn parse(input: &[u8], options: &MispOptions) -> Result<Parsed> {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let text = std::str::from_utf8(input).map_err(|e| {
        Error::invalid("MISP input", format!("MISP input is not valid UTF-8 (byte {})", e.valid_up_to()))
    })?;
    let mut parsed = Parsed::default();
    let t = text.trim_start();
    if t.starts_with('{') || t.starts_with('[') {
        let relaxed = || super::records::without_trailing_commas(text).and_then(|t| serde_json::from_str(&t).ok());
        let root: Value = serde_json::from_str(text).or_else(|e| relaxed().ok_or(e)).map_err(|e| {
            Error::invalid(
                super::excerpt(t, 80),
                format!("invalid MISP JSON at line {} column {}: {e}", e.line(), e.column()),
            )
        })?;
        parse_json(&root, &mut parsed, options)?;
    } else {
        parse_csv(text, &mut parsed, options)?;
    }
    Ok(parsed)
}

impl Store {
    /// Import a MISP event (JSON) or MISP CSV export into a collection. See
    /// [`Store::import_misp_with_progress`].
    pub fn import_misp(&self, collection: &str, input: &[u8], options: &MispOptions) -> Result<ImportReport> {
        self.import_misp_with_progress(collection, input, options, &mut super::no_progress)
    }

    /// Import a MISP event or CSV export, reporting progress.
    ///
    /// What is read is described in the [module documentation](self). The report's `lines`
    /// counts attributes (JSON: numbered in event order, objects' attributes after the
    /// event's own; CSV: the row's line); each skipped one is a [`super::Rejected`] entry with
    /// its type and value and the reason. One transaction, duplicates merged, as a text import.
    ///
    /// # Errors
    /// Validation when the input is neither MISP JSON nor a MISP CSV export; not-found for the
    /// collection; limit-exceeded; storage errors.
    pub fn import_misp_with_progress(
        &self,
        collection: &str,
        input: &[u8],
        options: &MispOptions,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        let parsed = parse(input, options)?;
        self.write_parsed(collection, parsed, progress)
    }
}
