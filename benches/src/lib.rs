//! Shared workload code of the iocmatch benchmarks.
//!
//! * [`load_tsv`] reads an indicators file written by `shared/bench/gen.py` (`type value
//!   valid_from valid_until opts`, tab separated) into [`IndicatorRecord`]s normalised the way the
//!   store would hold them, and [`compile`] turns them into an [`Index`] (one community, one
//!   collection).
//! * [`read_truth`] and [`check_truth`] read the `.truth.tsv` of an events file and compare it with
//!   the lines a matcher reported.
//! * [`LookupSet`]s are per-kind hit and miss values for single-field look-ups through
//!   [`Matcher::match_fields`], and [`run_lookups`] times one pass over them.
//! * [`synth`] makes a small workload in-process (indicators and ECS events) for the criterion
//!   benches, with no file and no Python.
#![deny(missing_docs)]

pub mod synth;

use iocmatch::index::{CollectionRecord, CommunityRecord, IndexBuilder, IndicatorRecord};
use iocmatch::observable::parse_indicator;
use iocmatch::{Index, Kind, Matcher, Timestamp};
use rayon::prelude::*;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The epoch gen.py generates events around (2026-01-01T00:00:00Z), in seconds.
pub const T0: i64 = 1_767_225_600;

/// One day in seconds.
pub const DAY_SECS: i64 = 86_400;

/// The first indicator id: ids are `Uuid::from_u128(ID_BASE + i)`, UUIDv7-like (version 7,
/// variant bits set) and consecutive, so the index stores them as one run.
pub const ID_BASE: u128 = 0x0193_5a00_0000_7000_8000_0000_0000_0000;

/// The id of the one community of a benchmark index.
pub const COMMUNITY_ID: u128 = 0x0193_5a00_0000_7000_8000_0000_0000_c0de;

/// The id of the one collection of a benchmark index.
pub const COLLECTION_ID: u128 = 0x0193_5a00_0000_7000_8000_0000_0000_c011;

/// The time single-field look-ups are matched at: one hour after [`T0`], when every hit drawn
/// by [`lookup_sets`] is valid.
pub fn lookup_time() -> Timestamp {
    Timestamp::from_secs(T0 + 3600)
}

/// The [`Kind`] of a gen.py indicator type (`domain`, `ipv4`, `ipv4-cidr`, `md5`, ...).
pub fn kind_of(gen_type: &str) -> Option<Kind> {
    Some(match gen_type {
        "domain" => Kind::Domain,
        "ipv4" => Kind::Ipv4,
        "ipv6" => Kind::Ipv6,
        "ipv4-cidr" | "ipv6-cidr" => Kind::Cidr,
        "md5" => Kind::Md5,
        "sha1" => Kind::Sha1,
        "sha256" => Kind::Sha256,
        "sha512" => Kind::Sha512,
        "url" => Kind::Url,
        "email" => Kind::Email,
        "username" => Kind::Username,
        _ => return None,
    })
}

/// Indicators read from a TSV file, ready to compile.
#[derive(Debug, Default)]
pub struct Loaded {
    /// The records, ids `ID_BASE + i` in file order.
    pub records: Vec<IndicatorRecord>,
    /// Non-empty lines read.
    pub lines: usize,
    /// Lines skipped because `valid_until <= valid_from` (the store refuses them).
    pub skipped_window: usize,
    /// Lines that could not be read or normalised: how many.
    pub rejected: usize,
    /// The first few rejected lines: `(1-based line number, reason)`.
    pub rejected_examples: Vec<(usize, String)>,
    /// Records per gen.py type.
    pub per_type: BTreeMap<String, usize>,
}

enum Line {
    Blank,
    Window,
    Rejected(String),
    Record { gen_type: String, value: iocmatch::IndicatorValue, from: i64, until: i64, subdomains: bool },
}

fn parse_line(line: &str) -> Line {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.trim().is_empty() {
        return Line::Blank;
    }
    let mut cols = line.split('\t');
    let (Some(ty), Some(value), Some(from), Some(until)) = (cols.next(), cols.next(), cols.next(), cols.next()) else {
        return Line::Rejected("fewer than 4 columns".into());
    };
    let opts = cols.next().unwrap_or("");
    let Some(kind) = kind_of(ty) else { return Line::Rejected(format!("unknown type '{ty}'")) };
    let (Ok(from), Ok(until)) = (from.parse::<i64>(), until.parse::<i64>()) else {
        return Line::Rejected("bad validity window".into());
    };
    if until != 0 && until <= from {
        return Line::Window;
    }
    match parse_indicator(value, Some(kind)) {
        Ok(v) => Line::Record {
            gen_type: ty.to_string(),
            value: v,
            from,
            until,
            subdomains: kind == Kind::Domain && opts.split(',').any(|o| o.trim() == "subdomains"),
        },
        Err(e) => Line::Rejected(e.to_string()),
    }
}

/// Parse gen.py TSV text (in parallel) into records. Ids are consecutive from [`ID_BASE`] over
/// the accepted lines, in file order; every record is in collection 0.
pub fn load_tsv_str(text: &str) -> Loaded {
    let lines: Vec<&str> = text.split('\n').collect();
    let parsed: Vec<Line> = lines.par_iter().with_min_len(4096).map(|l| parse_line(l)).collect();
    drop(lines);
    let mut out = Loaded { records: Vec::with_capacity(parsed.len()), ..Loaded::default() };
    for (i, l) in parsed.into_iter().enumerate() {
        match l {
            Line::Blank => continue,
            Line::Window => out.skipped_window += 1,
            Line::Rejected(why) => {
                out.rejected += 1;
                if out.rejected_examples.len() < 5 {
                    out.rejected_examples.push((i + 1, why));
                }
            }
            Line::Record { gen_type, value, from, until, subdomains } => {
                *out.per_type.entry(gen_type).or_default() += 1;
                out.records.push(IndicatorRecord {
                    id: uuid::Uuid::from_u128(ID_BASE + out.records.len() as u128),
                    collection: 0,
                    value,
                    valid_from: Timestamp::from_secs(from),
                    valid_until: (until != 0).then(|| Timestamp::from_secs(until)),
                    c2: false,
                    subdomains,
                });
            }
        }
        out.lines += 1;
    }
    out
}

/// Read a gen.py indicators file; see [`load_tsv_str`].
///
/// # Errors
/// When the file cannot be read or is not UTF-8.
pub fn load_tsv(path: impl AsRef<Path>) -> std::io::Result<Loaded> {
    let text = std::fs::read_to_string(path)?;
    Ok(load_tsv_str(&text))
}

/// A builder holding one community, one collection (index 0) and `records`.
pub fn builder(records: Vec<IndicatorRecord>) -> IndexBuilder {
    let mut b = IndexBuilder::new();
    let community = b.add_community(CommunityRecord { id: uuid::Uuid::from_u128(COMMUNITY_ID), parent: None });
    b.add_collection(CollectionRecord {
        id: uuid::Uuid::from_u128(COLLECTION_ID),
        community,
        available_for_sub_communities: false,
    });
    b.reserve(records.len());
    for r in records {
        b.add_indicator(r);
    }
    b
}

/// Compile `records` into an in-memory index (see [`builder`]).
///
/// # Errors
/// Whatever [`IndexBuilder::build`] reports.
pub fn compile(records: Vec<IndicatorRecord>) -> iocmatch::Result<Index> {
    builder(records).build()
}

/// A whole file in memory.
///
/// # Errors
/// When the file cannot be read.
pub fn read_file(path: impl AsRef<Path>) -> std::io::Result<Vec<u8>> {
    std::fs::read(path)
}

/// The lines of an NDJSON buffer, without their `\n` (a last line without one is kept).
pub fn ndjson_lines(data: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = data.split(|&b| b == b'\n').collect();
    if data.ends_with(b"\n") || data.is_empty() {
        lines.pop();
    }
    lines
}

/// One planted hit of an events file (a line of its `.truth.tsv`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TruthEntry {
    /// 0-based line of the event.
    pub line: u64,
    /// gen.py type of the indicator.
    pub ind_type: String,
    /// The indicator's value as generated.
    pub ind_value: String,
    /// The ECS field it was planted in.
    pub field: String,
    /// The value in the event.
    pub event_value: String,
}

/// Read an events file's truth (`line_no, ind_type, ind_value, field, event_value`).
///
/// # Errors
/// When the file cannot be read, or a line has no line number.
pub fn read_truth(path: impl AsRef<Path>) -> std::io::Result<Vec<TruthEntry>> {
    parse_truth(&std::fs::read_to_string(path)?)
}

/// Parse the text of a truth file; see [`read_truth`].
///
/// # Errors
/// When a line has no line number.
pub fn parse_truth(text: &str) -> std::io::Result<Vec<TruthEntry>> {
    let mut out = Vec::new();
    for l in text.lines().filter(|l| !l.trim().is_empty()) {
        let mut c = l.split('\t');
        let line = c
            .next()
            .and_then(|s| s.trim().parse().ok())
            .ok_or_else(|| std::io::Error::new(std::io::ErrorKind::InvalidData, format!("bad truth line '{l}'")))?;
        let mut next = || c.next().unwrap_or("").to_string();
        out.push(TruthEntry { line, ind_type: next(), ind_value: next(), field: next(), event_value: next() });
    }
    Ok(out)
}

/// The result of comparing matched lines with the truth.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct TruthCheck {
    /// Distinct lines in the truth.
    pub truth_events: usize,
    /// Distinct lines reported as matched.
    pub matched_events: usize,
    /// Truth lines not reported (0-based), at most 20 shown.
    pub missed: Vec<u64>,
    /// How many truth lines were not reported.
    pub missed_count: usize,
    /// Reported lines not in the truth (0-based), at most 20 shown.
    pub extra: Vec<u64>,
    /// How many reported lines are not in the truth.
    pub extra_count: usize,
}

impl TruthCheck {
    /// Every truth line reported and no other.
    pub fn passed(&self) -> bool {
        self.missed_count == 0 && self.extra_count == 0
    }
}

/// Compare the 0-based lines reported as matched with the truth.
pub fn check_truth(truth: &[TruthEntry], matched: &BTreeSet<u64>) -> TruthCheck {
    let want: BTreeSet<u64> = truth.iter().map(|t| t.line).collect();
    let missed: Vec<u64> = want.difference(matched).copied().collect();
    let extra: Vec<u64> = matched.difference(&want).copied().collect();
    TruthCheck {
        truth_events: want.len(),
        matched_events: matched.len(),
        missed_count: missed.len(),
        missed: missed.into_iter().take(20).collect(),
        extra_count: extra.len(),
        extra: extra.into_iter().take(20).collect(),
    }
}

/// The current resident set size in KiB (`VmRSS` of `/proc/self/status`), where available.
pub fn rss_kib() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = s.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// The median of `v` (the mean of the middle two for an even length); NaN when empty.
pub fn median(v: &[f64]) -> f64 {
    let mut s = v.to_vec();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

/// A small, fast, seeded generator (SplitMix64): the same seed gives the same workload.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A generator seeded with `seed`.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: usize) -> usize {
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// A number in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below((hi - lo + 1) as usize) as u64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }

    /// One element of `items` (not empty).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// `nbytes` random bytes as lower-case hex.
    pub fn hex(&mut self, nbytes: usize) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(nbytes * 2);
        for _ in 0..nbytes {
            let b = self.next_u64() as u8;
            s.push(HEX[usize::from(b >> 4)] as char);
            s.push(HEX[usize::from(b & 15)] as char);
        }
        s
    }

    /// `len` random lower-case letters.
    pub fn letters(&mut self, len: usize) -> String {
        (0..len).map(|_| (b'a' + self.below(26) as u8) as char).collect()
    }
}

/// Hit and miss values of one kind for single-field look-ups.
#[derive(Debug, Clone)]
pub struct LookupSet {
    /// Short name of the kind (`ipv4`, `ipv4-cidr`, `domain-sub`, `sha256`, ...).
    pub name: &'static str,
    /// The ECS field the values are looked up in.
    pub field: &'static str,
    /// Values that match an indicator valid at [`lookup_time`].
    pub hits: Vec<String>,
    /// Values of the same shape that match nothing.
    pub misses: Vec<String>,
}

/// The kinds of [`lookup_sets`], with their ECS field.
pub const LOOKUP_KINDS: [(&str, &str); 12] = [
    ("ipv4", "destination.ip"),
    ("ipv4-cidr", "destination.ip"),
    ("ipv6", "destination.ip"),
    ("ipv6-cidr", "destination.ip"),
    ("domain", "dns.question.name"),
    ("domain-sub", "dns.question.name"),
    ("url", "url.original"),
    ("email", "email.from.address"),
    ("md5", "file.hash.md5"),
    ("sha1", "file.hash.sha1"),
    ("sha256", "file.hash.sha256"),
    ("sha512", "file.hash.sha512"),
];

const TLDS: &[&str] = &["com", "net", "org", "ru", "xyz", "top", "info", "io", "cn", "online", "site", "de", "co.uk"];

fn random_domain(rng: &mut Rng) -> String {
    let len = 6 + rng.below(12);
    format!("{}.{}", rng.letters(len), rng.pick(TLDS))
}

fn random_v4(rng: &mut Rng) -> std::net::Ipv4Addr {
    let first = 1 + rng.below(223) as u32;
    std::net::Ipv4Addr::from((first << 24) | (rng.next_u64() as u32 & 0x00FF_FFFF))
}

fn random_v6(rng: &mut Rng) -> std::net::Ipv6Addr {
    const FIRST16: [u128; 6] = [0x2001, 0x2400, 0x2600, 0x2a01, 0x2a02, 0x2c0f];
    let lo = (u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64())) >> 16;
    std::net::Ipv6Addr::from((FIRST16[rng.below(FIRST16.len())] << 112) | lo)
}

/// A random value of the shape of lookup kind `name`.
fn random_value(name: &str, rng: &mut Rng) -> String {
    match name {
        "ipv4" | "ipv4-cidr" => random_v4(rng).to_string(),
        "ipv6" | "ipv6-cidr" => random_v6(rng).to_string(),
        "domain" => random_domain(rng),
        "domain-sub" => format!("{}.{}", rng.pick(&["www", "login", "mail", "cdn", "api"]), random_domain(rng)),
        "url" => {
            let scheme = if rng.chance(0.5) { "http" } else { "https" };
            format!(
                "{scheme}://{}/{}/{}.php?id={}",
                random_domain(rng),
                rng.letters(6),
                rng.letters(5),
                rng.below(1000)
            )
        }
        "email" => format!("{}.{}{}@{}", rng.letters(5), rng.letters(7), rng.below(10000), random_domain(rng)),
        "md5" => rng.hex(16),
        "sha1" => rng.hex(20),
        "sha256" => rng.hex(32),
        "sha512" => rng.hex(64),
        _ => String::new(),
    }
}

/// The lookup kind of a record, and whether it is also a sub-domain indicator.
fn lookup_kind(r: &IndicatorRecord) -> Option<&'static str> {
    let o = r.value.observables.first()?;
    Some(match o.kind {
        Kind::Ipv4 => "ipv4",
        Kind::Ipv6 => "ipv6",
        Kind::Cidr if o.value.contains(':') => "ipv6-cidr",
        Kind::Cidr => "ipv4-cidr",
        Kind::Domain => "domain",
        Kind::Url => "url",
        Kind::Email => "email",
        Kind::Md5 => "md5",
        Kind::Sha1 => "sha1",
        Kind::Sha256 => "sha256",
        Kind::Sha512 => "sha512",
        _ => return None,
    })
}

/// A hit value for a record of lookup kind `name` (an address inside a range, a sub-domain
/// of a sub-domain indicator).
fn hit_value(name: &str, value: &str, rng: &mut Rng) -> Option<String> {
    match name {
        "ipv4-cidr" => {
            let net: std::net::Ipv4Addr = value.split('/').next()?.parse().ok()?;
            let plen: u32 = value.split('/').nth(1)?.parse().ok()?;
            let host = if plen >= 32 { 0 } else { (rng.next_u64() as u32) & (u32::MAX >> plen) };
            Some(std::net::Ipv4Addr::from(u32::from(net) | host).to_string())
        }
        "ipv6-cidr" => {
            let net: std::net::Ipv6Addr = value.split('/').next()?.parse().ok()?;
            let plen: u32 = value.split('/').nth(1)?.parse().ok()?;
            let r = u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64());
            let host = if plen >= 128 { 0 } else { r & (u128::MAX >> plen) };
            Some(std::net::Ipv6Addr::from(u128::from(net) | host).to_string())
        }
        "domain-sub" => Some(format!("{}.{value}", rng.pick(&["www", "login", "mail", "cdn", "x1"]))),
        _ => Some(value.to_string()),
    }
}

/// Look each value up, one field and one value per [`Matcher::match_fields`] call, at `at`;
/// returns how many values matched at least one indicator.
pub fn run_lookups(matcher: &Matcher, field: &str, values: &[String], at: Timestamp) -> usize {
    let mut n = 0;
    for v in values {
        n += usize::from(!matcher.match_fields(&[(field, v.as_str())], Some(at)).matches.is_empty());
    }
    n
}

/// Per-kind hit and miss values, `per_kind` of each (no hits when the index has no indicator of
/// a kind). Hits are drawn from `records` valid at [`lookup_time`] (not checked here: the
/// harness reports how many of them matched); misses are random values of the same shape that
/// `matcher` confirms match nothing.
pub fn lookup_sets(records: &[IndicatorRecord], matcher: &Matcher, per_kind: usize, seed: u64) -> Vec<LookupSet> {
    let at = lookup_time();
    let mut pools: BTreeMap<&'static str, Vec<usize>> = BTreeMap::new();
    for (i, r) in records.iter().enumerate() {
        if r.valid_from > at || r.valid_until.is_some_and(|u| u <= at) {
            continue;
        }
        if let Some(k) = lookup_kind(r) {
            pools.entry(k).or_default().push(i);
            if r.subdomains {
                pools.entry("domain-sub").or_default().push(i);
            }
        }
    }
    let mut rng = Rng::new(seed);
    LOOKUP_KINDS
        .iter()
        .map(|&(name, field)| {
            let found = |v: &str| !matcher.match_fields(&[(field, v)], Some(at)).matches.is_empty();
            let mut hits = Vec::with_capacity(per_kind);
            if let Some(pool) = pools.get(name) {
                let mut tries = 0;
                while hits.len() < per_kind && tries < per_kind * 4 {
                    tries += 1;
                    let r = &records[pool[rng.below(pool.len())]];
                    if let Some(v) = r.value.observables.first().and_then(|o| hit_value(name, &o.value, &mut rng)) {
                        hits.push(v);
                    }
                }
            }
            let mut misses = Vec::with_capacity(per_kind);
            let mut tries = 0;
            while misses.len() < per_kind && tries < per_kind * 4 {
                tries += 1;
                let v = random_value(name, &mut rng);
                if !found(&v) {
                    misses.push(v);
                }
            }
            LookupSet { name, field, hits, misses }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use iocmatch::MatchOptions;
    use std::sync::Arc;

    const TSV: &str = "domain\tevil.example\t1700000000\t0\tsubdomains\n\
        ipv4\t203.0.113.7\t1700000000\t1900000000\t\n\
        ipv4-cidr\t198.51.100.0/24\t1700000000\t0\t\n\
        ipv6\t2001:db8::1\t1700000000\t0\t\n\
        md5\tD41D8CD98F00B204E9800998ECF8427E\t1700000000\t0\t\n\
        url\tHTTP://Evil.Example/a\t1700000000\t0\t\n\
        email\tBob@Evil.Example\t1700000000\t0\t\n\
        sha1\tda39a3ee5e6b4b0d3255bfef95601890afd80709\t1800000000\t1700000000\t\n\
        bogus\tx\t1\t0\t\n\
        \n";

    #[test]
    fn tsv_is_normalised_and_counted() {
        let l = load_tsv_str(TSV);
        assert_eq!((l.lines, l.records.len(), l.skipped_window, l.rejected), (9, 7, 1, 1));
        assert_eq!(l.rejected_examples[0].0, 9);
        assert_eq!(l.records[0].id, uuid::Uuid::from_u128(ID_BASE));
        assert_eq!(l.records[6].id, uuid::Uuid::from_u128(ID_BASE + 6));
        assert!(l.records[0].subdomains && !l.records[1].subdomains);
        assert_eq!(l.records[1].valid_until, Some(Timestamp::from_secs(1_900_000_000)));
        assert_eq!(l.records[2].value.observables[0].kind, Kind::Cidr);
        assert_eq!(l.records[4].value.observables[0].value, "d41d8cd98f00b204e9800998ecf8427e");
        assert_eq!(l.records[5].value.observables[0].value, "http://evil.example/a");
        assert_eq!(l.records[6].value.observables[0].value, "bob@evil.example");
        assert_eq!(l.per_type["ipv4-cidr"], 1);
    }

    #[test]
    fn compiled_index_matches_what_was_loaded() {
        let l = load_tsv_str(TSV);
        let m = Matcher::new(Arc::new(compile(l.records).unwrap()), &MatchOptions::default()).unwrap();
        let at = Some(Timestamp::from_secs(1_750_000_000));
        let hits = |f: &str, v: &str| m.match_fields(&[(f, v)], at).matches.len();
        assert_eq!(hits("dns.question.name", "www.evil.example"), 1);
        assert_eq!(hits("destination.ip", "198.51.100.9"), 1);
        assert_eq!(hits("file.hash.md5", "d41d8cd98f00b204e9800998ecf8427e"), 1);
        assert_eq!(hits("destination.ip", "192.0.2.1"), 0);
    }

    #[test]
    fn truth_check_counts_missed_and_extra() {
        let truth = parse_truth("3\tdomain\ta.com\tdns.question.name\ta.com\n7\tmd5\tx\tfile.hash.md5\tx\n").unwrap();
        assert_eq!(truth[1].field, "file.hash.md5");
        assert!(parse_truth("x\tdomain\n").is_err());
        let c = check_truth(&truth, &BTreeSet::from([3, 9]));
        assert!(!c.passed());
        assert_eq!((c.truth_events, c.matched_events, c.missed, c.extra), (2, 2, vec![7], vec![9]));
        assert!(check_truth(&truth, &BTreeSet::from([3, 7])).passed());
    }

    #[test]
    fn helpers() {
        assert_eq!(ndjson_lines(b"a\nb\n"), vec![&b"a"[..], b"b"]);
        assert_eq!(ndjson_lines(b"a\nb"), vec![&b"a"[..], b"b"]);
        assert!(ndjson_lines(b"").is_empty());
        assert_eq!(median(&[3.0, 1.0, 2.0]), 2.0);
        assert_eq!(median(&[4.0, 1.0, 2.0, 3.0]), 2.5);
        let mut r = Rng::new(1);
        assert!((0..1000).all(|_| r.below(7) < 7));
        assert_eq!(Rng::new(5).hex(4), Rng::new(5).hex(4));
    }

    /// The synthetic workload of the criterion benches: the planted hits are the matches.
    #[test]
    fn synthetic_events_match_their_truth() {
        let l = load_tsv_str(&synth::indicators_tsv(3000, 7));
        assert_eq!((l.rejected, l.records.len() + l.skipped_window), (0, 3000), "{:?}", l.rejected_examples);
        let m = Matcher::new(Arc::new(compile(l.records.clone()).unwrap()), &MatchOptions::default()).unwrap();
        let ev = synth::events(&l.records, 300, 0.1, 7);
        assert!(ev.truth.len() > 10);
        let mut matched = BTreeSet::new();
        m.match_ndjson(&ev.ndjson[..], None, &mut |item| {
            if let iocmatch::matcher::NdjsonItem::Event { line, matches } = item {
                if !matches.matches.is_empty() {
                    matched.insert(line - 1);
                }
            }
            Ok(())
        })
        .unwrap();
        assert_eq!(matched, ev.truth);
        let sets = lookup_sets(&l.records, &m, 50, 7);
        for s in &sets {
            assert_eq!(run_lookups(&m, s.field, &s.misses, lookup_time()), 0, "{}", s.name);
            assert_eq!(run_lookups(&m, s.field, &s.hits, lookup_time()), s.hits.len(), "{}", s.name);
        }
    }
}
