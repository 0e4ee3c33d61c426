//! Store and import behaviour, end to end through the public API.

use iocmatch::store::Pagination;
use iocmatch::{
    BatchPayload, ErrorKind, ImportDefaults, IndicatorEdit, IndicatorQuery, Kind, NewCollection, NewThreat, PhaseSet,
    Stage, Store, Timestamp,
};
use serde_json::json;

const APT29: &str = "intrusion-set--202fc7e0-1580-4ad1-83d8-5f98be4fe1a2";

fn store() -> Store {
    let s = Store::open_in_memory().unwrap();
    s.add_threat(&NewThreat {
        id: Some(APT29.into()),
        name: "APT29".into(),
        aliases: vec!["APT-29".into()],
        threat_type: None,
    })
    .unwrap();
    s.create_collection(&NewCollection::named("feed")).unwrap();
    s
}

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

#[test]
fn batch_payload_of_the_spec_gives_the_spec_response() {
    let s = store();
    let coll = s.collection("feed").unwrap();
    let payload: BatchPayload = serde_json::from_value(json!({
        "indicators": [{"value": "94.24.86.201"}, {"value": "152.10.13.131"}],
        "default_fields": {
            "valid_from": "2015-05-07T00:00:00Z",
            "valid_until": "2045-05-07T00:00:00Z",
            "kill_chain_phases": [{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "reconnaissance"}],
            "x_ic_related_threat_refs": [APT29],
        },
    }))
    .unwrap();
    let resp = s.add_indicators("feed", &payload).unwrap();
    assert_eq!(resp.total, 2);
    let v = serde_json::to_value(&resp).unwrap();
    let item = &v["items"][0];
    let keys: Vec<&str> = item.as_object().unwrap().keys().map(String::as_str).collect();
    for k in [
        "id",
        "type",
        "created",
        "modified",
        "revoked",
        "lang",
        "spec_version",
        "x_ic_is_in_flint",
        "x_ic_deprecated",
        "name",
        "pattern",
        "valid_from",
        "valid_until",
        "kill_chain_phases",
        "pattern_type",
        "x_ic_observable_types",
        "x_ic_collection_ref",
        "x_ic_related_threat_refs",
    ] {
        assert!(keys.contains(&k), "missing {k} in {item}");
    }
    assert!(item["id"].as_str().unwrap().starts_with("indicator--"));
    assert_eq!(item["type"], "indicator");
    assert_eq!(item["spec_version"], "2.1");
    assert_eq!(item["lang"], "en");
    assert_eq!(item["revoked"], false);
    assert_eq!(item["name"], "94.24.86.201");
    assert_eq!(item["pattern"], "[ipv4-addr:value = '94.24.86.201']");
    assert_eq!(item["pattern_type"], "stix");
    assert_eq!(item["valid_from"], "2015-05-07T00:00:00Z");
    assert_eq!(item["valid_until"], "2045-05-07T00:00:00Z");
    assert_eq!(
        item["kill_chain_phases"],
        json!([{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "reconnaissance"}])
    );
    assert_eq!(item["x_ic_observable_types"], json!(["ipv4-addr"]));
    assert_eq!(item["x_ic_collection_ref"], coll.id.as_str());
    assert_eq!(item["x_ic_related_threat_refs"], json!([APT29]));
    assert_eq!(v["items"][1]["name"], "152.10.13.131");
    // created carries microseconds like the spec's example
    let created = item["created"].as_str().unwrap();
    assert!(Timestamp::parse(created).is_ok(), "{created}");
}

#[test]
fn batch_items_override_defaults_and_bad_items_do_not_block_good_ones() {
    let s = store();
    let resp = s
        .add_indicators_json(
            "feed",
            &json!({
                "default_fields": {"valid_from": "2020-01-01", "description": "default"},
                "indicators": [
                    {"value": "evil[.]example", "description": "own", "valid_until": "2030-01-01"},
                    {"value": "no such thing"},
                    {"value": "1.2.3.4", "x_ic_related_threat_refs": ["Unknown Bear"]},
                    {"valu": "typo"},
                    {"value": "jdoe", "kind": "username", "kill_chain_phases": ["c2", "TA0001"]},
                ]
            })
            .to_string(),
        )
        .unwrap();
    assert_eq!(resp.total, 2);
    let idx: Vec<usize> = resp.errors.iter().map(|e| e.index).collect();
    assert_eq!(idx, vec![1, 2, 3]);
    assert!(resp.errors[1].reason.contains("'Unknown Bear'"), "{:?}", resp.errors[1]);
    assert!(resp.errors[2].reason.contains("valu"), "{:?}", resp.errors[2]);
    let d = &resp.items[0];
    assert_eq!(d.description.as_deref(), Some("own"));
    assert_eq!(d.valid_from, ts("2020-01-01"));
    assert_eq!(d.valid_until, Some(ts("2030-01-01")));
    let u = &resp.items[1];
    assert_eq!(u.value.observables[0].kind, Kind::Username);
    assert_eq!(u.description.as_deref(), Some("default"));
    assert_eq!(u.kill_chain_phases.phases().len(), 2);
    assert_eq!(u.to_stix().pattern, "[user-account:account_login = 'jdoe']");

    let e = s.add_indicators_json("feed", r#"{"indicators": []}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let e = s.add_indicators_json("feed", r#"{"indicators": [{"value": "a.example"}], "default_fields": {"valid_from": "2030-01-01", "valid_until": "2020-01-01"}}"#).unwrap_err();
    assert!(e.to_string().contains("must be after"), "{e}");
    let e = s.add_indicators_json("nope", r#"{"indicators": [{"value": "a.example"}]}"#).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = s.add_indicators_json("feed", "{not json").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
}

#[test]
fn text_import_reports_every_line() {
    let s = store();
    let text: &[u8] = b"\xef\xbb\xbf# header comment\r\nevil[.]example\r\n\r\n1.2.3.4:8080   # c2 port\r\nnot an ioc\r\n[2001:db8::1]:443\nd41d8cd98f00b204e9800998ecf8427e,da39a3ee5e6b4b0d3255bfef95601890afd80709\n\xff\xfe\nEVIL.EXAMPLE.\n";
    let mut stages = Vec::new();
    let r = s
        .import_text_with_progress(
            "feed",
            text,
            &ImportDefaults { threats: vec!["apt-29".into()], ..Default::default() },
            &mut |p| stages.push(p.stage),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(stages.contains(&Stage::Parse) && stages.contains(&Stage::Write));
    assert_eq!(r.lines, 7, "{r:?}");
    assert_eq!(r.imported, 4, "{r:?}");
    assert_eq!(r.duplicates, 1, "{r:?}");
    let lines: Vec<u64> = r.rejected.iter().map(|x| x.line).collect();
    assert_eq!(lines, vec![5, 8], "{r:?}");
    assert_eq!(r.rejected[0].text, "not an ioc");
    assert!(r.rejected[1].reason.contains("UTF-8"));

    let all = s.indicators("feed", &IndicatorQuery::default()).unwrap();
    assert_eq!(all.total, 4);
    let ip = all.items.iter().find(|i| i.name() == "1.2.3.4").unwrap();
    assert_eq!(ip.value.port, Some(8080));
    assert_eq!(ip.threats, vec![APT29.to_string()]);
    let v6 = all.items.iter().find(|i| i.name() == "2001:db8::1").unwrap();
    assert_eq!(v6.value.port, Some(443));
    let h = all.items.iter().find(|i| i.value.observables.len() == 2).unwrap();
    assert_eq!(
        h.to_stix().pattern,
        "[file:hashes.MD5 = 'd41d8cd98f00b204e9800998ecf8427e' OR file:hashes.'SHA-1' = 'da39a3ee5e6b4b0d3255bfef95601890afd80709']"
    );
    assert_eq!(h.to_stix().x_ic_observable_types, vec!["file"]);
}

#[test]
fn text_import_rejects_bad_defaults_before_writing() {
    let s = store();
    for d in [
        ImportDefaults { threats: vec!["Nobody".into()], ..Default::default() },
        ImportDefaults {
            valid_from: Some(ts("2030-01-01")),
            valid_until: Some(ts("2020-01-01")),
            ..Default::default()
        },
        ImportDefaults { description: Some("x".repeat(501)), ..Default::default() },
    ] {
        let e = s.import_text("feed", b"evil.example\n", &d).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation, "{e}");
    }
    assert_eq!(s.collection("feed").unwrap().indicator_count, 0);
}

#[test]
fn duplicates_widen_the_window_and_lose_nothing() {
    let s = store();
    let d1 = ImportDefaults {
        valid_from: Some(ts("2024-01-01")),
        valid_until: Some(ts("2024-06-01")),
        kill_chain_phases: PhaseSet::parse_list("delivery").unwrap(),
        ..Default::default()
    };
    assert_eq!(s.import_text("feed", b"evil.example\n", &d1).unwrap().imported, 1);
    let d2 = ImportDefaults {
        valid_from: Some(ts("2024-03-01")),
        valid_until: Some(ts("2025-01-01")),
        kill_chain_phases: PhaseSet::parse_list("c2").unwrap(),
        threats: vec!["APT29".into()],
        description: Some("seen again".into()),
        ..Default::default()
    };
    let r = s.import_text("feed", b"EVIL.example\nevil[.]example\n", &d2).unwrap();
    assert_eq!((r.imported, r.duplicates), (0, 2));
    let all = s.indicators("feed", &IndicatorQuery::default()).unwrap();
    assert_eq!(all.total, 1);
    let i = &all.items[0];
    assert_eq!(i.valid_from, ts("2024-01-01"));
    assert_eq!(i.valid_until, Some(ts("2025-01-01")));
    assert_eq!(i.kill_chain_phases.phases().len(), 2);
    assert_eq!(i.threats, vec![APT29.to_string()]);
    assert_eq!(i.description.as_deref(), Some("seen again"));
    // a never-expiring duplicate makes the window open-ended
    s.import_text(
        "feed",
        b"evil.example\n",
        &ImportDefaults { valid_from: Some(ts("2023-01-01")), ..Default::default() },
    )
    .unwrap();
    let i = s.indicator(&i.id).unwrap();
    assert_eq!((i.valid_from, i.valid_until), (ts("2023-01-01"), None));
    // the same observable in another collection is its own indicator
    s.create_collection(&NewCollection::named("other")).unwrap();
    assert_eq!(s.import_text("other", b"evil.example\n", &ImportDefaults::default()).unwrap().imported, 1);
}

#[test]
fn edit_and_irreversible_revoke() {
    let s = store();
    s.import_text(
        "feed",
        b"evil.example\n",
        &ImportDefaults { valid_from: Some(ts("2024-01-01")), ..Default::default() },
    )
    .unwrap();
    let i = s.indicators("feed", &IndicatorQuery::default()).unwrap().items.remove(0);

    let e = s
        .edit_indicator(&i.id, &IndicatorEdit { value: Some("other.example".into()), ..Default::default() })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::ImmutableField);
    // giving the same observable (even defanged) is not a change
    s.edit_indicator(&i.id, &IndicatorEdit { value: Some("evil[.]example".into()), ..Default::default() }).unwrap();

    let edited = s
        .edit_indicator(
            &i.id,
            &IndicatorEdit {
                description: Some(Some("now with context".into())),
                valid_until: Some(Some(ts("2025-01-01"))),
                kill_chain_phases: Some(PhaseSet::parse_list("exploitation").unwrap()),
                threats: Some(vec!["APT-29".into()]),
                ..Default::default()
            },
        )
        .unwrap();
    assert_eq!(edited.description.as_deref(), Some("now with context"));
    assert_eq!(edited.valid_until, Some(ts("2025-01-01")));
    assert_eq!(edited.threats, vec![APT29.to_string()]);
    assert!(edited.modified >= i.modified);
    let e = s
        .edit_indicator(&i.id, &IndicatorEdit { valid_until: Some(Some(ts("2023-01-01"))), ..Default::default() })
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    let e = s
        .edit_indicator(&i.id, &IndicatorEdit { threats: Some(vec!["ghost".into()]), ..Default::default() })
        .unwrap_err();
    assert!(e.to_string().contains("'ghost'"), "{e}");

    let r = s.revoke_indicator(&i.id).unwrap();
    assert!(r.revoked() && r.to_stix().revoked);
    assert!(!r.is_valid_at(ts("2024-06-01")));
    assert_eq!(s.revoke_indicator(&i.id).unwrap_err().kind(), ErrorKind::InvalidState);
    assert_eq!(s.edit_indicator(&i.id, &IndicatorEdit::default()).unwrap_err().kind(), ErrorKind::InvalidState);

    // importing it again makes a new indicator; the revoked row stays for audit
    let rep = s.import_text("feed", b"evil.example\n", &ImportDefaults::default()).unwrap();
    assert_eq!((rep.imported, rep.duplicates), (1, 0));
    let c = s.collection("feed").unwrap();
    assert_eq!((c.indicator_count, c.revoked_count), (1, 1));
    assert_eq!(
        s.indicators("feed", &IndicatorQuery { revoked: Some(true), ..Default::default() }).unwrap().items[0].id,
        i.id
    );

    assert_eq!(s.indicator("indicator--00000000-0000-0000-0000-000000000000").unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(s.indicator("garbage").unwrap_err().kind(), ErrorKind::Validation);
}

#[test]
fn search_filters_and_pages() {
    let s = store();
    let text = "evil.example\nlogin.evil.example\nbenign-looking.example\n1.2.3.4\nhttp://evil.example/x\n";
    s.import_text("feed", text.as_bytes(), &ImportDefaults::default()).unwrap();
    let q = |search: &str, kind: Option<Kind>| {
        s.indicators("feed", &IndicatorQuery { search: Some(search.into()), kind, ..Default::default() }).unwrap()
    };
    assert_eq!(q("evil", None).total, 3);
    assert_eq!(q("EVIL[.]example", None).total, 3);
    assert_eq!(q("evil", Some(Kind::Domain)).total, 2);
    assert_eq!(q("evil", Some(Kind::Url)).total, 1);
    assert_eq!(q("nothing", None).total, 0);
    let p = s
        .indicators("feed", &IndicatorQuery { page: Pagination { offset: 3, limit: 10 }, ..Default::default() })
        .unwrap();
    assert_eq!((p.total, p.items.len()), (5, 2));
    assert_eq!(p.items[0].name(), "1.2.3.4");
}

#[test]
fn community_limit_refuses_the_whole_import() {
    let s = store();
    s.set_max_indicators_per_community(3).unwrap();
    s.import_text("feed", b"a.example\nb.example\n", &ImportDefaults::default()).unwrap();
    let e = s.import_text("feed", b"c.example\nd.example\n", &ImportDefaults::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitExceeded);
    assert!(e.to_string().contains("limit of 3"), "{e}");
    assert_eq!(s.indicator_count("default").unwrap(), 2);
    // duplicates do not count against the limit, and one more still fits
    let r = s.import_text("feed", b"a.example\nc.example\n", &ImportDefaults::default()).unwrap();
    assert_eq!((r.imported, r.duplicates), (1, 1));
    // the limit is per community
    s.create_community("tenant", None).unwrap();
    s.create_collection(&NewCollection { community: Some("tenant".into()), ..NewCollection::named("t") }).unwrap();
    assert_eq!(s.import_text("t", b"x.example\ny.example\n", &ImportDefaults::default()).unwrap().imported, 2);
    // revoking frees room
    let first = s.indicators("feed", &IndicatorQuery::default()).unwrap().items.remove(0);
    s.revoke_indicator(&first.id).unwrap();
    assert_eq!(s.indicator_count("default").unwrap(), 2);
}

#[test]
fn deleting_a_collection_takes_its_indicators() {
    let s = store();
    s.import_text("feed", b"a.example\nb.example\n", &ImportDefaults::default()).unwrap();
    let id = s.indicators("feed", &IndicatorQuery::default()).unwrap().items[0].id.clone();
    assert_eq!(s.delete_collection("feed").unwrap(), 2);
    assert_eq!(s.indicator(&id).unwrap_err().kind(), ErrorKind::NotFound);
    assert_eq!(s.indicator_count("default").unwrap(), 0);
}

#[test]
fn file_store_keeps_everything_across_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.db");
    {
        let s = Store::open(&p).unwrap();
        s.create_collection(&NewCollection::named("feed")).unwrap();
        s.import_text("feed", b"a.example\n10.0.0.0/8\n", &ImportDefaults::default()).unwrap();
    }
    let s = Store::open(&p).unwrap();
    let all = s.indicators("feed", &IndicatorQuery::default()).unwrap();
    assert_eq!(all.total, 2);
    assert_eq!(all.items[1].to_stix().pattern, "[ipv4-addr:value ISSUBSET '10.0.0.0/8']");
}

#[test]
fn public_types_are_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Store>();
    check::<iocmatch::Indicator>();
    check::<iocmatch::Error>();
}
