//! A small workload made in-process from a seed, for the criterion benches: indicators in
//! gen.py's TSV format and mix, and ECS events (the shapes gen.py writes) with planted hits.
//!
//! Background event values come from pools disjoint from the indicators (private and reserved
//! first octets, a fixed list of benign domains, random hashes), so the planted hits are the
//! only matches.

use crate::{Rng, DAY_SECS, T0};
use iocmatch::index::IndicatorRecord;
use iocmatch::{Kind, Timestamp};
use serde_json::json;
use std::collections::BTreeSet;
use std::fmt::Write as _;

const TLDS: &[&str] = &["com", "net", "org", "ru", "xyz", "top", "info", "io", "cn", "online", "biz", "shop"];
const SYL: &[&str] = &[
    "ba", "be", "bi", "ko", "ku", "la", "le", "ma", "mo", "na", "ne", "ra", "ri", "sa", "ta", "to", "va", "ze", "an",
    "ex",
];
const WORDS: &[&str] = &[
    "secure", "login", "account", "verify", "update", "billing", "invoice", "payment", "portal", "wallet", "crypto",
    "delivery", "parcel", "support", "office", "cloud", "drive", "share", "docs", "alert",
];
const BENIGN: &[&str] = &[
    "google.com",
    "microsoft.com",
    "office.com",
    "amazonaws.com",
    "cloudfront.net",
    "github.com",
    "slack.com",
    "zoom.us",
    "apple.com",
    "example-corp.com",
];
const BENIGN_HOST: &[&str] = &["www", "api", "cdn", "login", "mail", "update", "static", "edge"];
/// First octets background addresses use; indicators never do.
const BENIGN_V4: &[u32] = &[13, 20, 23, 34, 35, 52, 104, 142];
const EXCLUDED_V4: &[u32] = &[0, 10, 100, 127, 169, 172, 192, 198, 203, 13, 20, 23, 34, 35, 52, 104, 142];

fn registered(rng: &mut Rng) -> String {
    let base = match rng.below(3) {
        0 => format!("{}-{}", rng.pick(WORDS), rng.pick(WORDS)),
        1 => (0..2 + rng.below(3)).map(|_| *rng.pick(SYL)).collect(),
        _ => {
            let n = 8 + rng.below(12);
            rng.letters(n)
        }
    };
    format!("{base}.{}", rng.pick(TLDS))
}

fn v4_first(rng: &mut Rng) -> u32 {
    loop {
        let a = 1 + rng.below(223) as u32;
        if !EXCLUDED_V4.contains(&a) {
            return a;
        }
    }
}

fn ipv4(rng: &mut Rng) -> std::net::Ipv4Addr {
    let a = v4_first(rng);
    std::net::Ipv4Addr::from((a << 24) | (rng.next_u64() as u32 & 0x00FF_FFFE) | 1)
}

fn ipv6(rng: &mut Rng) -> u128 {
    const FIRST16: [u128; 5] = [0x2001, 0x2400, 0x2600, 0x2a01, 0x2c0f];
    let lo = (u128::from(rng.next_u64()) << 64 | u128::from(rng.next_u64())) >> 16;
    (FIRST16[rng.below(FIRST16.len())] << 112) | lo
}

/// `n` indicators in gen.py's TSV format (`type value valid_from valid_until opts`) and default
/// mix: 40 % domains (a third of them with sub-domains), 25 % IPv4 (6 % of them /16-/24 CIDRs),
/// 5 % IPv6 (12 % CIDRs), 20 % hashes, 5 % URLs, 5 % e-mails; ~8 % already expired at [`T0`].
pub fn indicators_tsv(n: usize, seed: u64) -> String {
    let mut rng = Rng::new(seed);
    let mut out = String::with_capacity(n * 64);
    for _ in 0..n {
        let x = rng.below(100);
        let mut opts = "";
        let (ty, value) = match x {
            0..=39 => {
                let d = registered(&mut rng);
                if rng.chance(0.35) {
                    opts = "subdomains";
                    ("domain", d)
                } else if rng.chance(0.5) {
                    ("domain", format!("{}.{d}", rng.pick(WORDS)))
                } else {
                    ("domain", d)
                }
            }
            40..=64 if rng.chance(0.06) => {
                let plen = 16 + rng.below(9) as u32;
                let a = u32::from(ipv4(&mut rng)) & (u32::MAX << (32 - plen));
                ("ipv4-cidr", format!("{}/{plen}", std::net::Ipv4Addr::from(a)))
            }
            40..=64 => ("ipv4", ipv4(&mut rng).to_string()),
            65..=69 if rng.chance(0.12) => {
                let plen = 32 + 8 * rng.below(5) as u32;
                let a = ipv6(&mut rng) & (u128::MAX << (128 - plen));
                ("ipv6-cidr", format!("{}/{plen}", std::net::Ipv6Addr::from(a)))
            }
            65..=69 => ("ipv6", std::net::Ipv6Addr::from(ipv6(&mut rng)).to_string()),
            70..=75 => ("md5", rng.hex(16)),
            76..=79 => ("sha1", rng.hex(20)),
            80..=87 => ("sha256", rng.hex(32)),
            88..=89 => ("sha512", rng.hex(64)),
            90..=94 => {
                let scheme = if rng.chance(0.55) { "http" } else { "https" };
                let host = registered(&mut rng);
                let path = format!("/{}/{}.php?id={}", rng.pick(WORDS), rng.letters(6), rng.below(100_000));
                ("url", format!("{scheme}://{host}{path}"))
            }
            _ => {
                let local = format!("{}.{}{}", rng.pick(WORDS), rng.letters(5), rng.below(10_000));
                ("email", format!("{local}@{}", registered(&mut rng)))
            }
        };
        let from = T0 - rng.range(1, 364) as i64 * DAY_SECS - rng.below(DAY_SECS as usize) as i64;
        let until = if rng.chance(0.08) {
            T0 - rng.range(1, 59) as i64 * DAY_SECS
        } else if rng.chance(0.35) {
            0
        } else {
            T0 + rng.range(2, 364) as i64 * DAY_SECS
        };
        let _ = writeln!(out, "{ty}\t{value}\t{from}\t{until}\t{opts}");
    }
    out
}

/// Synthetic ECS events, one JSON object per line, and the 0-based lines holding a planted hit.
#[derive(Debug, Clone)]
pub struct Events {
    /// The NDJSON text.
    pub ndjson: Vec<u8>,
    /// 0-based lines with a planted hit.
    pub truth: BTreeSet<u64>,
}

fn benign_ip(rng: &mut Rng) -> String {
    let a = *rng.pick(BENIGN_V4);
    std::net::Ipv4Addr::from((a << 24) | (rng.next_u64() as u32 & 0x00FF_FFFE) | 1).to_string()
}

fn private_ip(rng: &mut Rng) -> String {
    format!("10.{}.{}.{}", rng.below(256), rng.below(256), 1 + rng.below(254))
}

fn benign_host(rng: &mut Rng) -> String {
    format!("{}.{}", rng.pick(BENIGN_HOST), rng.pick(BENIGN))
}

fn base(rng: &mut Rng, t: i64, dataset: &str, category: &str) -> serde_json::Value {
    let host = rng.below(20_000);
    json!({
        "@timestamp": Timestamp::from_secs(t).to_rfc3339(),
        "ecs": {"version": "8.11.0"},
        "event": {"kind": "event", "category": [category], "dataset": dataset, "id": rng.hex(8)},
        "host": {"name": format!("ws-{host:05}.example-corp.com"), "hostname": format!("ws-{host:05}"),
                 "ip": [format!("10.1.{}.{}", host / 256 % 256, host % 254 + 1)], "os": {"family": "windows"}},
        "agent": {"type": "filebeat", "version": "8.13.4", "id": rng.hex(16)},
    })
}

fn set(e: &mut serde_json::Value, key: &str, v: serde_json::Value) {
    if let Some(o) = e.as_object_mut() {
        o.insert(key.to_string(), v);
    }
}

/// One background event of shape `shape` (0 flow, 1 dns, 2 http, 3 file, 4 e-mail), with the
/// planted value `hit` in the field of its kind when given.
fn event(rng: &mut Rng, t: i64, shape: usize, hit: Option<(&str, &str)>) -> serde_json::Value {
    let (src, dst) = (private_ip(rng), benign_ip(rng));
    match shape {
        0 => {
            let mut e = base(rng, t, "zeek.connection", "network");
            let dst = hit.map_or(dst, |h| h.1.to_string());
            set(&mut e, "source", json!({"ip": src, "port": 1024 + rng.below(60_000), "bytes": rng.below(100_000)}));
            set(&mut e, "destination", json!({"ip": dst, "port": 443, "bytes": rng.below(1_000_000)}));
            set(&mut e, "network", json!({"transport": "tcp", "community_id": format!("1:{}=", rng.hex(14))}));
            set(&mut e, "related", json!({"ip": [src, dst]}));
            e
        }
        1 => {
            let mut e = base(rng, t, "zeek.dns", "network");
            let q = hit.map_or_else(|| benign_host(rng), |h| h.1.to_string());
            let answers: Vec<String> = (0..1 + rng.below(3)).map(|_| benign_ip(rng)).collect();
            set(&mut e, "source", json!({"ip": src, "port": 1024 + rng.below(60_000)}));
            set(&mut e, "destination", json!({"ip": "10.0.0.53", "port": 53}));
            set(
                &mut e,
                "dns",
                json!({"question": {"name": q, "type": "A", "class": "IN"},
                       "answers": answers.iter().map(|a| json!({"data": a, "type": "A", "ttl": 300})).collect::<Vec<_>>(),
                       "resolved_ip": answers, "response_code": "NOERROR"}),
            );
            set(&mut e, "message", json!(format!("query: {q} IN A + (10.0.0.53) from {src}")));
            e
        }
        2 => {
            let mut e = base(rng, t, "proxy.access", "web");
            let h = benign_host(rng);
            let u = hit.map_or_else(|| format!("https://{h}/api/v2/items?page={}", rng.below(50)), |h| h.1.to_string());
            set(&mut e, "source", json!({"ip": src, "port": 1024 + rng.below(60_000)}));
            set(&mut e, "destination", json!({"ip": dst, "port": 443, "domain": h}));
            set(&mut e, "url", json!({"original": u, "domain": h, "scheme": "https"}));
            set(
                &mut e,
                "http",
                json!({"request": {"method": "GET", "referrer": format!("https://{}/", benign_host(rng))},
                                       "response": {"status_code": 200, "bytes": rng.below(500_000)}}),
            );
            set(&mut e, "user_agent", json!({"original": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0"}));
            e
        }
        3 => {
            let mut e = base(rng, t, "endpoint.file", "file");
            let mut hash = json!({"md5": rng.hex(16), "sha1": rng.hex(20), "sha256": rng.hex(32)});
            if let (Some((algo, v)), Some(o)) = (hit, hash.as_object_mut()) {
                o.insert(algo.to_string(), json!(v));
            }
            set(
                &mut e,
                "file",
                json!({"path": format!("C:\\Users\\u{}\\Downloads\\{}.exe", rng.below(100), rng.letters(8)),
                                       "size": rng.below(10_000_000), "hash": hash}),
            );
            set(
                &mut e,
                "process",
                json!({"name": "explorer.exe", "pid": rng.below(60_000), "hash": {"sha256": rng.hex(32)}}),
            );
            e
        }
        _ => {
            let mut e = base(rng, t, "email.gateway", "email");
            let from = hit.map_or_else(|| format!("{}@{}", rng.letters(6), rng.pick(BENIGN)), |h| h.1.to_string());
            set(
                &mut e,
                "email",
                json!({"from": {"address": [from]}, "to": {"address": [format!("{}@example-corp.com", rng.letters(6))]},
                       "subject": format!("Invoice {}", rng.below(100_000)), "message_id": format!("<{}@mx>", rng.hex(12))}),
            );
            e
        }
    }
}

/// The event shape and field key a record is planted in, and the value to plant.
fn planting(r: &IndicatorRecord, rng: &mut Rng) -> Option<(usize, &'static str, String)> {
    let o = r.value.observables.first()?;
    Some(match o.kind {
        Kind::Ipv4 | Kind::Ipv6 => (0, "ip", o.value.clone()),
        Kind::Domain if r.subdomains => (1, "name", format!("{}.{}", rng.pick(BENIGN_HOST), o.value)),
        Kind::Domain => (1, "name", o.value.clone()),
        Kind::Url => (2, "url", o.value.clone()),
        Kind::Md5 => (3, "md5", o.value.clone()),
        Kind::Sha1 => (3, "sha1", o.value.clone()),
        Kind::Sha256 => (3, "sha256", o.value.clone()),
        Kind::Email => (4, "from", o.value.clone()),
        _ => return None,
    })
}

/// `n` events a minute apart from [`T0`], about `hit_rate` of them with one value of an indicator
/// of `records` that is valid then (IPs, domains and their sub-domains, URLs, md5/sha1/sha256,
/// e-mail addresses).
pub fn events(records: &[IndicatorRecord], n: usize, hit_rate: f64, seed: u64) -> Events {
    let mut rng = Rng::new(seed);
    let mut ndjson = Vec::with_capacity(n * 900);
    let mut truth = BTreeSet::new();
    for i in 0..n {
        let t = T0 + 60 * i as i64;
        let at = Timestamp::from_secs(t);
        let mut planted = None;
        if !records.is_empty() && rng.chance(hit_rate) {
            for _ in 0..64 {
                let r = &records[rng.below(records.len())];
                if r.valid_from > at || r.valid_until.is_some_and(|u| u <= at) {
                    continue;
                }
                if let Some(p) = planting(r, &mut rng) {
                    planted = Some(p);
                    break;
                }
            }
        }
        let e = match &planted {
            Some((shape, key, v)) => {
                truth.insert(i as u64);
                event(&mut rng, t, *shape, Some((key, v)))
            }
            None => {
                let shape = rng.below(5);
                event(&mut rng, t, shape, None)
            }
        };
        ndjson.extend_from_slice(e.to_string().as_bytes());
        ndjson.push(b'\n');
    }
    Events { ndjson, truth }
}
