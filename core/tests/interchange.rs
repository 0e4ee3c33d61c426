//! STIX 2.1 and MISP import, STIX and text export, end to end through the public API.

use iocmatch::import::MispOptions;
use iocmatch::store::Pagination;
use iocmatch::{ErrorKind, ImportDefaults, IndicatorQuery, Kind, NewCollection, PhaseSet, Store, Timestamp};
use serde_json::json;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/interchange").join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn store() -> Store {
    let s = Store::open_in_memory().unwrap();
    s.create_collection(&NewCollection::named("feed")).unwrap();
    s
}

fn all(s: &Store, coll: &str) -> Vec<iocmatch::Indicator> {
    let q = IndicatorQuery { page: Pagination { offset: 0, limit: 10_000 }, ..IndicatorQuery::default() };
    s.indicators(coll, &q).unwrap().items
}

fn by_name(s: &Store, coll: &str, name: &str) -> iocmatch::Indicator {
    all(s, coll).into_iter().find(|i| i.name() == name).unwrap_or_else(|| panic!("no indicator {name}"))
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

const TEST_BEAR: &str = "intrusion-set--6f2a3c1e-0000-4000-8000-000000000003";
const LOADER: &str = "malware--6f2a3c1e-0000-4000-8000-000000000004";

#[test]
fn stix_bundle_imports_supported_patterns_and_explains_the_rest() {
    let s = store();
    let r = s.import_stix("feed", &fixture("bundle.json")).unwrap();
    assert_eq!((r.lines, r.imported, r.duplicates), (9, 9, 0), "{r:?}");
    let names: BTreeSet<String> = all(&s, "feed").iter().map(|i| i.name()).collect();
    let expected: BTreeSet<String> = [
        "203.0.113.5",
        "evil-c2.com",
        "d41d8cd98f00b204e9800998ecf8427e,da39a3ee5e6b4b0d3255bfef95601890afd80709",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "http://evil-c2.com/gate.php",
        "198.51.100.0/24",
        "phish@evil-mail.com",
        "backdoor_admin",
        "2001:db8::1",
    ]
    .iter()
    .map(|x| x.to_string())
    .collect();
    assert_eq!(names, expected);

    // properties kept
    let c2 = by_name(&s, "feed", "203.0.113.5");
    assert_eq!((c2.valid_from, c2.valid_until), (ts("2024-01-01T00:00:00Z"), Some(ts("2030-01-01T00:00:00Z"))));
    assert_eq!(c2.description.as_deref(), Some("C2 server"));
    assert_eq!(
        c2.kill_chain_phases,
        PhaseSet::parse_list("lockheed-martin:c2, mitre-attack:command-and-control").unwrap()
    );
    assert_eq!(c2.threats, vec![TEST_BEAR.to_string()]);
    assert_eq!(by_name(&s, "feed", "evil-c2.com").threats, vec![TEST_BEAR.to_string()]);
    let multi = by_name(&s, "feed", "d41d8cd98f00b204e9800998ecf8427e,da39a3ee5e6b4b0d3255bfef95601890afd80709");
    assert_eq!(multi.value.observables.len(), 2);
    assert_eq!(multi.threats, vec![LOADER.to_string()]);
    assert_eq!(by_name(&s, "feed", "backdoor_admin").value.observables[0].kind, Kind::Username);
    assert_eq!(by_name(&s, "feed", "198.51.100.0/24").value.observables[0].kind, Kind::Cidr);

    // threats registered by STIX id and name, with aliases
    let t = s.threat("TB-1").unwrap();
    assert_eq!((t.id.as_str(), t.name.as_str()), (TEST_BEAR, "Test Bear"));
    assert_eq!(s.threat("TestLoader").unwrap().id, LOADER);

    // every skip names the object and says why
    let why: Vec<(u64, &str, &str)> = r.rejected.iter().map(|x| (x.line, x.text.as_str(), x.reason.as_str())).collect();
    let expect = [
        (8, "000000000014", "file:name = 'dropper.exe' is not supported"),
        (9, "000000000015", "process:name = 'evil.exe' is not supported"),
        (10, "000000000016", "revoked"),
        (11, "000000000017", "pattern_type 'yara'"),
        (12, "000000000018", "unterminated string literal"),
    ];
    assert_eq!(why.len(), expect.len(), "{why:?}");
    for ((line, text, reason), (l, id, r)) in why.iter().zip(expect) {
        assert_eq!(*line, l);
        assert!(text.ends_with(id), "{text}");
        assert!(reason.contains(r) && reason.contains(id), "{reason}");
    }

    // importing again merges everything
    let again = s.import_stix("feed", &fixture("bundle.json")).unwrap();
    assert_eq!((again.imported, again.duplicates), (0, 9));
}

#[test]
fn stix_one_object_per_line_and_bad_lines() {
    let s = store();
    let lines = [
        json!({"type": "indicator", "id": "indicator--1", "pattern": "[domain-name:value = 'line-one.com']",
               "pattern_type": "stix", "valid_from": "2024-01-01T00:00:00Z"})
        .to_string(),
        "{not json".to_string(),
        String::new(),
        json!({"type": "indicator", "id": "indicator--2", "pattern": "[ipv4-addr:value = '203.0.113.9'] WITHIN 60 SECONDS",
               "valid_from": "2024-01-01T00:00:00Z"})
        .to_string(),
        json!({"type": "indicator", "id": "indicator--3", "pattern": "[url:value = 'http://line-three.com/x']",
               "valid_from": "not a date"})
        .to_string(),
        json!({"type": "indicator", "id": "indicator--4", "pattern": "[domain-name:value = 'line-four.com']",
               "valid_from": "2024-01-01T00:00:00Z", "valid_until": "2023-01-01T00:00:00Z"})
        .to_string(),
    ];
    let r = s.import_stix("feed", lines.join("\n").as_bytes()).unwrap();
    assert_eq!((r.lines, r.imported), (4, 1), "{r:?}");
    let got: Vec<(u64, bool)> = r.rejected.iter().map(|x| (x.line, !x.reason.is_empty())).collect();
    assert_eq!(got, vec![(2, true), (4, true), (5, true), (6, true)]);
    assert!(r.rejected[0].reason.contains("invalid JSON on line 2"), "{:?}", r.rejected[0]);
    assert!(r.rejected[1].reason.contains("WITHIN"), "{:?}", r.rejected[1]);
    assert!(r.rejected[2].reason.contains("not a date"), "{:?}", r.rejected[2]);
    assert!(r.rejected[3].reason.contains("valid_until"), "{:?}", r.rejected[3]);
    assert!(r.rejected[3].text.contains("indicator--4"));
}

#[test]
fn stix_bad_input_is_a_clear_error() {
    let s = store();
    for (input, says) in [
        (&b"this is not json"[..], "invalid STIX JSON"),
        (
            &b"{\"type\": \"bundle\",\n \"objects\": [\n  {\"type\": \"indicator\"\n]}\n"[..],
            "invalid STIX JSON at line 4",
        ),
        (&b"\xff\xfe"[..], "not valid UTF-8"),
        (&br#"{"stix_header": {}, "observables": []}"#[..], "not STIX 2"),
    ] {
        let e = s.import_stix("feed", input).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        assert!(e.to_string().contains(says), "{e}");
    }
    assert_eq!(s.import_stix("nope", &fixture("bundle.json")).unwrap_err().kind(), ErrorKind::NotFound);
    // a collection that is not found leaves no threats behind (one transaction)
    assert!(s.threats().unwrap().is_empty());
}

#[test]
fn stix_patterns_of_every_shape() {
    let s = store();
    let ind = |id: u32, p: &str| json!({"type": "indicator", "id": format!("indicator--{id}"), "pattern": p, "valid_from": "2024-01-01T00:00:00Z"});
    let bundle = json!({"type": "bundle", "objects": [
        ind(1, "[file:hashes.'SHA-512' = '\
    cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e']"),
        ind(2, "[file:hashes.SSDEEP = '3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C']"),
        ind(3, "[user-account:user_id = 'S-1-5-21-1']"),
        ind(4, "[ipv6-addr:value ISSUBSET '2001:db8::/32']"),
        ind(5, "[(domain-name:value = 'paren-one.com') OR (domain-name:value = 'paren-two.com')]"),
        ind(6, "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' AND file:name = 'x.exe']"),
        ind(7, "[ipv4-addr:value = '203.0.113.1'] AND [domain-name:value = 'both.com']"),
        ind(8, "[file:hashes.TLSH = 'abc']"),
        ind(9, "[ipv4-addr:value = 'not-an-ip']"),
        ind(10, "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '203.0.113.77']"),
        ind(11, "[network-traffic:src_ref.value = 'traffic-end.com']"),
        ind(12, "[network-traffic:dst_ref.value = 'not an address']"),
        ind(13, "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:src_ref.value = '203.0.113.78']"),
    ]});
    let r = s.import_stix("feed", bundle.to_string().as_bytes()).unwrap();
    assert_eq!((r.lines, r.imported), (13, 8), "{r:?}");
    let reasons: Vec<&str> = r.rejected.iter().map(|x| x.reason.as_str()).collect();
    assert!(reasons[0].contains("AND of comparisons other than hashes"), "{reasons:?}");
    assert!(reasons[1].contains("AND of observations"), "{reasons:?}");
    assert!(reasons[2].contains("hash type 'TLSH'"), "{reasons:?}");
    assert!(reasons[3].contains("not-an-ip"), "{reasons:?}");
    assert!(reasons[4].contains("not an address"), "{reasons:?}");
    assert!(reasons[5].contains("AND of comparisons other than hashes"), "{reasons:?}");
    let kinds: BTreeSet<Kind> = all(&s, "feed").iter().map(|i| i.value.observables[0].kind).collect();
    assert_eq!(
        kinds,
        [Kind::Ipv4, Kind::Cidr, Kind::Domain, Kind::Sha512, Kind::Ssdeep, Kind::Username].into_iter().collect()
    );
    assert!(all(&s, "feed").iter().any(|i| i.name() == "traffic-end.com"));
}

#[test]
fn misp_event_json_in_every_wrapper() {
    let s = store();
    let r = s.import_misp("feed", &fixture("misp_event.json"), &MispOptions::default()).unwrap();
    assert_eq!((r.lines, r.imported, r.duplicates), (12, 8, 0), "{r:?}");
    let names: BTreeSet<String> = all(&s, "feed").iter().map(|i| i.name()).collect();
    for n in [
        "203.0.113.7",
        "203.0.113.8",
        "evil-drop.com",
        "198.51.100.9",
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "http://evil-drop.com/payload",
        "sender@evil-mail.com",
        "da39a3ee5e6b4b0d3255bfef95601890afd80709",
    ] {
        assert!(names.contains(n), "{n} missing from {names:?}");
    }
    let c2 = by_name(&s, "feed", "203.0.113.7");
    assert_eq!((c2.valid_from, c2.valid_until), (ts("2024-03-01T00:00:00Z"), Some(ts("2024-06-01T00:00:00Z"))));
    assert_eq!(c2.description.as_deref(), Some("C2"));
    assert_eq!(c2.kill_chain_phases, PhaseSet::parse_list("delivery").unwrap());
    let bear = s.threat("Test Bear").unwrap();
    assert_eq!(c2.threats, vec![bear.id.clone()]);
    assert!(bear.id.starts_with("intrusion-set--"));
    let port = by_name(&s, "feed", "203.0.113.8");
    assert_eq!((port.value.port, port.valid_from), (Some(8443), Timestamp::from_secs(1_709_251_200)));
    assert_eq!(by_name(&s, "feed", "evil-drop.com").description.as_deref(), Some("Test campaign against examples"));
    let reasons: Vec<(u64, &str)> = r.rejected.iter().map(|x| (x.line, x.reason.as_str())).collect();
    assert_eq!(reasons.len(), 5, "{reasons:?}");
    assert!(reasons[0].1.contains("to_ids") && reasons[0].0 == 7);
    assert!(reasons[1].1.contains("'text'"));
    assert!(reasons[2].1.contains("not-an-ip"));
    assert!(reasons[3].1.contains("deleted"));
    assert!(reasons[4].1.contains("to_ids") && reasons[4].0 == 12);

    // --all-attributes takes what to_ids left out; the same event bare and as {"Event": …}
    let event: serde_json::Value = serde_json::from_slice(&fixture("misp_event.json")).unwrap();
    let ev = event["response"][0]["Event"].clone();
    for (i, input) in [json!({ "Event": ev }), ev.clone()].into_iter().enumerate() {
        let s2 = store();
        let opts = MispOptions { all_attributes: i == 0 };
        let r2 = s2.import_misp("feed", input.to_string().as_bytes(), &opts).unwrap();
        let expected = if i == 0 { 9 } else { 8 };
        assert_eq!(r2.imported, expected, "{i}: {r2:?}");
    }
}

#[test]
fn misp_attribute_types() {
    let s = store();
    let attr = |t: &str, v: &str| json!({"type": t, "value": v, "to_ids": "1"});
    let event = json!({"Event": {"Attribute": [
        attr("ip-src", "198.51.100.0/24"),
        attr("ip-src|port", "2001:db8::5|8080"),
        attr("hostname|port", "port-host.com|443"),
        attr("uri", "/only/a/path"),
        attr("link", "https://report.example-vendor.com/post"),
        attr("email", "Mixed@Case-Mail.com"),
        attr("target-user", "jdoe"),
        attr("sha512", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"),
        attr("malware-sample", "x.bin|d41d8cd98f00b204e9800998ecf8427e"),
        attr("ip-dst", "not-an-ip.com"),
        attr("regkey", "HKLM\\Software\\x"),
        {"type": "md5"},
    ]}});
    let r = s.import_misp("feed", event.to_string().as_bytes(), &MispOptions::default()).unwrap();
    assert_eq!((r.lines, r.imported), (12, 8), "{r:?}");
    let kinds: Vec<(String, Kind, Option<u16>)> =
        all(&s, "feed").iter().map(|i| (i.name(), i.value.observables[0].kind, i.value.port)).collect();
    for want in [
        ("198.51.100.0/24".to_string(), Kind::Cidr, None),
        ("2001:db8::5".to_string(), Kind::Ipv6, Some(8080)),
        ("port-host.com".to_string(), Kind::Domain, None),
        ("https://report.example-vendor.com/post".to_string(), Kind::Url, None),
        ("mixed@case-mail.com".to_string(), Kind::Email, None),
        ("jdoe".to_string(), Kind::Username, None),
        ("d41d8cd98f00b204e9800998ecf8427e".to_string(), Kind::Md5, None),
    ] {
        assert!(kinds.contains(&want), "{want:?} not in {kinds:?}");
    }
    let reasons: Vec<(u64, &str)> = r.rejected.iter().map(|x| (x.line, x.reason.as_str())).collect();
    assert_eq!(reasons.len(), 4, "{reasons:?}");
    assert_eq!(reasons[0].0, 4);
    assert!(reasons[1].1.contains("'not-an-ip.com' is not an IP address"), "{reasons:?}");
    assert!(reasons[2].1.contains("'regkey'"), "{reasons:?}");
    assert!(reasons[3].1.contains("without a type or value"), "{reasons:?}");
}

#[test]
fn misp_galaxy_clusters_become_threats_with_their_synonyms() {
    let s = store();
    let event = json!({"Event": {
        "info": "galaxies",
        "Galaxy": [
            {"type": "threat-actor", "name": "Threat Actor", "GalaxyCluster": [
                {"value": "Galaxy Bear", "meta": {"synonyms": ["GB-1", "Galaxy Bear", " "]}}
            ]},
            {"type": "country", "GalaxyCluster": [{"value": "Nowhere"}]}
        ],
        // the same cluster as a tag: one threat, its aliases kept
        "Tag": [{"name": "misp-galaxy:threat-actor=\"Galaxy Bear\""}],
        "Attribute": [
            {"type": "domain", "value": "galaxy-one.com", "to_ids": true},
            {"type": "domain", "value": "galaxy-two.com", "to_ids": true, "Galaxy": [
                {"type": "mitre-malware", "GalaxyCluster": [{"value": "StarDust - S0999"}]}
            ]}
        ]
    }});
    let r = s.import_misp("feed", event.to_string().as_bytes(), &MispOptions::default()).unwrap();
    assert_eq!(r.imported, 2, "{r:?}");
    let bear = s.threat("Galaxy Bear").unwrap();
    assert_eq!(bear.aliases, ["GB-1"]);
    assert!(bear.id.starts_with("intrusion-set--"), "{bear:?}");
    assert!(s.threat("Nowhere").is_err(), "a country is no threat");
    let dust = s.threat("StarDust").unwrap();
    assert!(dust.id.starts_with("malware--"), "{dust:?}");
    assert_eq!(by_name(&s, "feed", "galaxy-one.com").threats, std::slice::from_ref(&bear.id));
    assert_eq!(by_name(&s, "feed", "galaxy-two.com").threats, [bear.id, dust.id]);
}

#[test]
fn misp_csv_export() {
    let s = store();
    let r = s.import_misp("feed", &fixture("misp.csv"), &MispOptions::default()).unwrap();
    assert_eq!((r.lines, r.imported), (5, 3), "{r:?}");
    let md5 = by_name(&s, "feed", "d41d8cd98f00b204e9800998ecf8427e");
    assert_eq!(md5.description.as_deref(), Some("multi\nline comment"));
    assert_eq!(md5.valid_from, Timestamp::from_secs(1_709_251_200));
    let lines: Vec<u64> = r.rejected.iter().map(|x| x.line).collect();
    assert_eq!(lines, vec![5, 6], "{r:?}");
    let e = s.import_misp("feed", b"a,b,c\n1,2,3\n", &MispOptions::default()).unwrap_err();
    assert!(e.to_string().contains("not a MISP CSV export"), "{e}");
    let e = s.import_misp("feed", b"{\"foo\": 1}", &MispOptions::default()).unwrap_err();
    assert!(e.to_string().contains("not a MISP event"), "{e}");
    let e = s.import_misp("feed", b"{\"Event\": ", &MispOptions::default()).unwrap_err();
    assert!(e.to_string().contains("invalid MISP JSON at line 1"), "{e}");
}

#[test]
fn text_export_lists_active_observables_by_kind() {
    let s = store();
    s.import_text(
        "feed",
        b"evil.com\n1.2.3.4:8080\nd41d8cd98f00b204e9800998ecf8427e,da39a3ee5e6b4b0d3255bfef95601890afd80709\nrevoked.com\n10.0.0.0/8\n",
        &ImportDefaults::default(),
    )
    .unwrap();
    s.import_text(
        "feed",
        b"expired.com\n",
        &ImportDefaults {
            valid_from: Some(ts("2020-01-01")),
            valid_until: Some(ts("2021-01-01")),
            ..ImportDefaults::default()
        },
    )
    .unwrap();
    s.revoke_indicator(&by_name(&s, "feed", "revoked.com").id).unwrap();
    assert_eq!(
        s.export_text("feed", None).unwrap(),
        "1.2.3.4\n10.0.0.0/8\nevil.com\nd41d8cd98f00b204e9800998ecf8427e\nda39a3ee5e6b4b0d3255bfef95601890afd80709\n"
    );
    assert_eq!(s.export_text("feed", Some(Kind::Domain)).unwrap(), "evil.com\n");
    assert_eq!(s.export_text("feed", Some(Kind::Email)).unwrap(), "");
    assert_eq!(s.export_text("nope", None).unwrap_err().kind(), ErrorKind::NotFound);
}

#[test]
fn stix_export_round_trips() {
    let s = store();
    s.import_stix("feed", &fixture("bundle.json")).unwrap();
    s.import_misp("feed", &fixture("misp_event.json"), &MispOptions::default()).unwrap();
    s.import_text("feed", b"revoke-me.com\n", &ImportDefaults::default()).unwrap();
    s.revoke_indicator(&by_name(&s, "feed", "revoke-me.com").id).unwrap();
    let bundle = s.export_stix("feed").unwrap();
    assert_eq!(bundle["type"], "bundle");
    let objects = bundle["objects"].as_array().unwrap();
    let count = |t: &str| objects.iter().filter(|o| o["type"] == t).count();
    assert_eq!((count("identity"), count("intrusion-set"), count("malware")), (1, 1, 1));
    assert_eq!(count("indicator"), all(&s, "feed").len());
    // one `indicates` relationship per (indicator, threat)
    let links: usize = all(&s, "feed").iter().map(|i| i.threats.len()).sum();
    assert_eq!(count("relationship"), links);
    assert!(links >= 3);
    // STIX forbids empty lists
    for o in objects {
        for (k, v) in o.as_object().unwrap() {
            assert!(!v.as_array().is_some_and(|a| a.is_empty()), "empty list {k} in {o}");
        }
    }

    let s2 = Store::open_in_memory().unwrap();
    s2.create_collection(&NewCollection::named("copy")).unwrap();
    let text = s.export_stix_json("feed").unwrap();
    let r = s2.import_stix("copy", text.as_bytes()).unwrap();
    assert_eq!(r.rejected.len(), 1, "only the revoked indicator is skipped: {r:?}");
    let view = |s: &Store, c: &str| {
        let mut v: Vec<_> = all(s, c)
            .into_iter()
            .filter(|i| !i.revoked())
            .map(|i| {
                let mut threats = i.threats.clone();
                threats.sort();
                (i.name(), i.value.port, i.valid_from, i.valid_until, i.kill_chain_phases.0, threats, i.description)
            })
            .collect();
        v.sort();
        v
    };
    assert_eq!(view(&s, "feed"), view(&s2, "copy"));
    assert_eq!(s2.threats().unwrap(), {
        let mut t = s.threats().unwrap();
        for (a, b) in t.iter_mut().zip(s2.threats().unwrap()) {
            a.created = b.created;
        }
        t
    });
}

/// Every published STIX, MISP and text file under the shared data directory imports without a
/// panic; every skipped object has a reason, and a file refused as a whole says why.
#[test]
fn published_files_import_and_explain_every_skip() {
    let root = std::env::var_os("IOCMATCH_SHARED_IOCS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/iocs"));
    if !root.is_dir() {
        eprintln!("skipped: {} is absent", root.display());
        return;
    }
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else {
                files.push(p);
            }
        }
    }
    files.sort();
    let mut tried = 0;
    for f in files {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let ext = f.extension().map(|e| e.to_string_lossy().to_ascii_lowercase()).unwrap_or_default();
        let data = std::fs::read(&f).unwrap();
        let head = String::from_utf8_lossy(&data[..data.len().min(4096)]).to_string();
        let format = match ext.as_str() {
            "stix2" | "jsonl" => "stix",
            "json" if head.contains("\"Event\"") || head.contains("\"response\"") => "misp",
            "json" => "stix",
            "csv" if head.lines().next().is_some_and(|l| l.contains("event_id") && l.contains("to_ids")) => "misp",
            "txt" | "md5" | "sha1" | "sha256" | "ioc" | "" if !name.starts_with("LICENSE") => "text",
            _ => continue,
        };
        tried += 1;
        let s = store();
        s.set_max_indicators_per_community(10_000_000).unwrap();
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match format {
            "stix" => s.import_stix("feed", &data),
            "misp" => s.import_misp("feed", &data, &MispOptions::default()),
            _ => s.import_text("feed", &data, &ImportDefaults::default()),
        }));
        let result = result.unwrap_or_else(|_| panic!("{format} import of {} panicked", f.display()));
        match result {
            Ok(r) => {
                for x in &r.rejected {
                    assert!(!x.reason.trim().is_empty(), "{}: line {} skipped without a reason", f.display(), x.line);
                }
                // what was considered either landed or was explained
                assert!(
                    r.lines == 0 || r.imported + r.duplicates > 0 || !r.rejected.is_empty(),
                    "{}: {r:?}",
                    f.display()
                );
                eprintln!(
                    "{format}: {}: {} considered, {} imported, {} duplicates, {} skipped",
                    f.display(),
                    r.lines,
                    r.imported,
                    r.duplicates,
                    r.rejected.len()
                );
            }
            Err(e) => {
                assert!(!e.message().trim().is_empty(), "{}: error without a message", f.display());
                eprintln!("{format}: {}: refused: {e}", f.display());
            }
        }
    }
    assert!(tried > 0, "no STIX, MISP or text file found");
}
