//! Matching, end to end: store -> compiled index -> matcher, table-driven.

use iocmatch::{
    ImportDefaults, IndicatorEdit, Kind, MatchOptions, Matcher, NewCollection, PhaseSet, Profile, Store, TimeSource,
    Timestamp,
};
use std::sync::Arc;

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn import(s: &Store, coll: &str, text: &str, d: ImportDefaults) {
    let r = s.import_text(coll, text.as_bytes(), &d).unwrap();
    assert!(r.rejected.is_empty(), "{r:?}");
}

fn window(from: &str, until: Option<&str>) -> ImportDefaults {
    ImportDefaults { valid_from: Some(ts(from)), valid_until: until.map(ts), ..Default::default() }
}

/// A store with one collection of every kind, valid through 2024.
fn sample() -> Store {
    let s = Store::open_in_memory().unwrap();
    s.create_collection(&NewCollection::named("feed")).unwrap();
    s.create_collection(&NewCollection { match_subdomains: true, ..NewCollection::named("parents") }).unwrap();
    import(
        &s,
        "feed",
        "203.0.113.7\n198.51.100.0/24\n10.0.0.0/8\n10.1.0.0/16\n2001:db8:bad::1\n2001:db8:beef::/48\n\
         evil.example\nhttp://evil.example/gate.php?id=1\nphish@evil.example\n\
         d41d8cd98f00b204e9800998ecf8427e,da39a3ee5e6b4b0d3255bfef95601890afd80709\n\
         e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n\
         cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e\n\
         3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C\n",
        window("2024-01-01", Some("2024-12-31T23:59:59Z")),
    );
    import(&s, "feed", "jdoe\n", ImportDefaults { kind: Some(Kind::Username), ..window("2024-01-01", None) });
    import(&s, "parents", "bad-parent.example\n", window("2024-01-01", None));
    s
}

fn matcher(s: &Store, o: MatchOptions) -> Matcher {
    Matcher::new(Arc::new(s.compile().unwrap()), &o).unwrap()
}

/// (field, kind, observable) of each match.
type Found = Vec<(String, Kind, String)>;

fn found(m: &Matcher, event: &str) -> Found {
    let r = m.match_event(event.as_bytes(), None).unwrap_or_else(|e| panic!("{event}: {e}"));
    r.matches.into_iter().map(|x| (x.field, x.kind, x.observable)).collect()
}

fn one(field: &str, kind: Kind, obs: &str) -> Found {
    vec![(field.to_string(), kind, obs.to_string())]
}

const T: &str = r#""@timestamp":"2024-06-01T12:00:00.000Z""#;

#[test]
fn every_kind_matches_in_its_fields() {
    let s = sample();
    let m = matcher(&s, MatchOptions::default());
    let cases: Vec<(String, Found)> = vec![
        (format!(r#"{{{T},"source":{{"ip":"203.0.113.7"}}}}"#), one("source.ip", Kind::Ipv4, "203.0.113.7")),
        (format!(r#"{{{T},"destination":{{"ip":"198.51.100.77"}}}}"#), one("destination.ip", Kind::Cidr, "198.51.100.0/24")),
        (format!(r#"{{{T},"client":{{"ip":"::ffff:203.0.113.7"}}}}"#), one("client.ip", Kind::Ipv4, "203.0.113.7")),
        (format!(r#"{{{T},"host":{{"ip":"2001:db8:bad::1"}}}}"#), one("host.ip", Kind::Ipv6, "2001:db8:bad::1")),
        (format!(r#"{{{T},"server":{{"ip":"2001:db8:beef:1::9"}}}}"#), one("server.ip", Kind::Cidr, "2001:db8:beef::/48")),
        (format!(r#"{{{T},"dns":{{"question":{{"name":"EVIL.example."}}}}}}"#), one("dns.question.name", Kind::Domain, "evil.example")),
        (format!(r#"{{{T},"url":{{"original":"HTTP://Evil.Example:80/gate.php?id=1#x"}}}}"#), one("url.original", Kind::Url, "http://evil.example/gate.php?id=1")),
        (format!(r#"{{{T},"email":{{"from":{{"address":["Phish@Evil.Example"]}}}}}}"#), one("email.from.address", Kind::Email, "phish@evil.example")),
        (format!(r#"{{{T},"process":{{"hash":{{"md5":"D41D8CD98F00B204E9800998ECF8427E"}}}}}}"#), one("process.hash.md5", Kind::Md5, "d41d8cd98f00b204e9800998ecf8427e")),
        (format!(r#"{{{T},"file":{{"hash":{{"sha1":"da39a3ee5e6b4b0d3255bfef95601890afd80709"}}}}}}"#), one("file.hash.sha1", Kind::Sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709")),
        (format!(r#"{{{T},"related":{{"hash":["x","e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"]}}}}"#), one("related.hash", Kind::Sha256, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")),
        (format!(r#"{{{T},"dll":{{"hash":{{"sha512":"cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e"}}}}}}"#), one("dll.hash.sha512", Kind::Sha512, "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e")),
        (format!(r#"{{{T},"process":{{"hash":{{"ssdeep":"3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C"}}}}}}"#), one("process.hash.ssdeep", Kind::Ssdeep, "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C")),
        (format!(r#"{{{T},"user":{{"name":"jdoe"}}}}"#), one("user.name", Kind::Username, "jdoe")),
        // dotted keys, mixed, arrays
        (format!(r#"{{{T},"source.ip":"203.0.113.7"}}"#), one("source.ip", Kind::Ipv4, "203.0.113.7")),
        (format!(r#"{{{T},"dns":{{"question.name":"evil.example"}}}}"#), one("dns.question.name", Kind::Domain, "evil.example")),
        (format!(r#"{{{T},"related":{{"ip":["10.9.9.9","192.0.2.1"]}}}}"#), one("related.ip", Kind::Cidr, "10.0.0.0/8")),
        // nested ranges: both the /8 and the /16 cover 10.1.2.3
        (
            format!(r#"{{{T},"source":{{"ip":"10.1.2.3"}}}}"#),
            vec![("source.ip".into(), Kind::Cidr, "10.0.0.0/8".into()), ("source.ip".into(), Kind::Cidr, "10.1.0.0/16".into())],
        ),
        // misses
        (format!(r#"{{{T},"source":{{"ip":"203.0.113.8"}}}}"#), vec![]),
        (format!(r#"{{{T},"dns":{{"question":{{"name":"notevil.example"}}}}}}"#), vec![]),
        (format!(r#"{{{T},"dns":{{"question":{{"name":"www.evil.example"}}}}}}"#), vec![], ),
        (format!(r#"{{{T},"user":{{"name":"JDOE"}}}}"#), vec![]),
        // a kind is looked up only in its fields
        (format!(r#"{{{T},"url":{{"domain":"203.0.113.7"}},"message":"evil.example"}}"#), vec![]),
        (format!(r#"{{{T},"user":{{"name":"evil.example"}}}}"#), vec![]),
    ];
    for (event, want) in cases {
        let mut got = found(&m, &event);
        got.sort();
        let mut want = want;
        want.sort();
        assert_eq!(got, want, "{event}");
    }
}

#[test]
fn subdomains_only_when_asked() {
    let s = sample();
    let m = matcher(&s, MatchOptions::default());
    let ev = |d: &str| format!(r#"{{{T},"dns":{{"question":{{"name":"{d}"}}}}}}"#);
    assert_eq!(found(&m, &ev("a.b.bad-parent.example")), one("dns.question.name", Kind::Domain, "bad-parent.example"));
    assert_eq!(found(&m, &ev("bad-parent.example")), one("dns.question.name", Kind::Domain, "bad-parent.example"));
    assert!(found(&m, &ev("notbad-parent.example")).is_empty());
    assert!(found(&m, &ev("sub.evil.example")).is_empty(), "feed does not match sub-domains");
    // an indicator can ask for it in a collection that does not
    let id = s
        .indicators(
            "feed",
            &iocmatch::IndicatorQuery {
                search: Some("evil.example".into()),
                kind: Some(Kind::Domain),
                ..Default::default()
            },
        )
        .unwrap()
        .items[0]
        .id
        .clone();
    s.edit_indicator(&id, &IndicatorEdit { match_subdomains: Some(Some(true)), ..Default::default() }).unwrap();
    let m = matcher(&s, MatchOptions::default());
    assert_eq!(found(&m, &ev("sub.evil.example")), one("dns.question.name", Kind::Domain, "evil.example"));
}

#[test]
fn validity_windows_both_ends_and_revocation() {
    let s = sample();
    let m = matcher(&s, MatchOptions::default());
    let at = |t: &str| {
        let ev = r#"{"source":{"ip":"203.0.113.7"}}"#;
        m.match_event(ev.as_bytes(), Some(ts(t))).unwrap().matches.len()
    };
    assert_eq!(at("2023-12-31T23:59:59Z"), 0);
    assert_eq!(at("2024-01-01T00:00:00Z"), 1);
    assert_eq!(at("2024-12-31T23:59:59Z"), 1);
    assert_eq!(at("2025-01-01T00:00:00Z"), 0);
    // the event's own time is used when the caller gives none
    let ev = |t: &str| format!(r#"{{"@timestamp":"{t}","source":{{"ip":"203.0.113.7"}}}}"#);
    assert_eq!(m.match_event(ev("2025-03-01T00:00:00Z").as_bytes(), None).unwrap().matches.len(), 0);
    let r = m.match_event(ev("2024-03-01T00:00:00+02:00").as_bytes(), None).unwrap();
    assert_eq!((r.matches.len(), r.time_source), (1, TimeSource::Event));
    // epoch milliseconds
    let r = m.match_event(br#"{"@timestamp":1717243200000,"source":{"ip":"203.0.113.7"}}"#, None).unwrap();
    assert_eq!((r.matches.len(), r.time_source), (1, TimeSource::Event));
    // an unreadable time falls back to the default, and says so
    let m2 =
        Matcher::new(m.index().clone(), &MatchOptions { default_time: Some(ts("2024-05-05")), ..Default::default() })
            .unwrap();
    let r = m2.match_event(br#"{"@timestamp":"yesterday","source":{"ip":"203.0.113.7"}}"#, None).unwrap();
    assert_eq!((r.matches.len(), r.time_source), (1, TimeSource::Default));

    let id = &r.matches[0].indicator_id;
    s.revoke_indicator(id).unwrap();
    let m = matcher(&s, MatchOptions::default());
    assert_eq!(m.match_event(ev("2024-06-01T00:00:00Z").as_bytes(), None).unwrap().matches.len(), 0);
}

#[test]
fn command_and_control_ips_match_destination_only() {
    let s = Store::open_in_memory().unwrap();
    s.create_collection(&NewCollection::named("c2")).unwrap();
    import(
        &s,
        "c2",
        "192.0.2.66\n192.0.2.128/25\nc2.example\n",
        ImportDefaults { kill_chain_phases: PhaseSet::parse_list("c2").unwrap(), ..window("2024-01-01", None) },
    );
    let m = matcher(&s, MatchOptions::default());
    let ev = |f: &str, v: &str| format!(r#"{{{T},{f}:"{v}"}}"#);
    assert_eq!(found(&m, &ev(r#""destination.ip""#, "192.0.2.66")).len(), 1);
    assert_eq!(found(&m, &ev(r#""destination.ip""#, "192.0.2.200")).len(), 1);
    for f in ["source.ip", "related.ip", "host.ip", "client.ip"] {
        assert!(found(&m, &ev(&format!(r#""{f}""#), "192.0.2.66")).is_empty(), "{f}");
    }
    // the rule is for IPs only
    assert_eq!(found(&m, &ev(r#""dns.question.name""#, "c2.example")).len(), 1);
}

#[test]
fn strict_profile_against_default() {
    let s = sample();
    let strict = matcher(&s, MatchOptions { profile: Some(Profile::strict()), ..Default::default() });
    let default = matcher(&s, MatchOptions::default());
    let ev = format!(
        r#"{{{T},"url":{{"original":"http://evil.example/gate.php?id=1"}},"file":{{"hash":{{"sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}}}}}"#
    );
    assert_eq!(found(&default, &ev).len(), 2);
    assert!(found(&strict, &ev).is_empty());
    let custom = Profile::parse("fw", "fw.src ip\n").unwrap();
    let m = matcher(&s, MatchOptions { profile: Some(custom), ..Default::default() });
    assert_eq!(
        found(&m, &format!(r#"{{{T},"fw":{{"src":"203.0.113.7"}},"source":{{"ip":"203.0.113.7"}}}}"#)),
        one("fw.src", Kind::Ipv4, "203.0.113.7")
    );
}

#[test]
fn communities_see_their_own_and_shared_ancestors() {
    let s = Store::open_in_memory().unwrap();
    let mssp = s.create_community("mssp", None).unwrap();
    let a = s.create_community("client-a", Some("mssp")).unwrap();
    let b = s.create_community("client-b", Some("mssp")).unwrap();
    let mk = |name: &str, comm: &str, shared: bool| {
        s.create_collection(&NewCollection {
            community: Some(comm.into()),
            available_for_sub_communities: shared,
            ..NewCollection::named(name)
        })
        .unwrap()
    };
    let shared = mk("shared", "mssp", true);
    mk("private-mssp", "mssp", false);
    let own_a = mk("own-a", "client-a", false);
    mk("own-b", "client-b", false);
    for c in ["shared", "private-mssp", "own-a", "own-b"] {
        import(&s, c, "192.0.2.1\n", window("2024-01-01", None));
    }
    let index = Arc::new(s.compile().unwrap());
    let seen = |community: Option<&str>, collections: Option<Vec<String>>| {
        let m = Matcher::new(
            index.clone(),
            &MatchOptions { community: community.map(str::to_string), collections, ..Default::default() },
        )
        .unwrap();
        let mut c: Vec<String> = m
            .match_event(format!(r#"{{{T},"source":{{"ip":"192.0.2.1"}}}}"#).as_bytes(), None)
            .unwrap()
            .matches
            .into_iter()
            .map(|x| x.collection_id)
            .collect();
        c.sort();
        c
    };
    let mut want_a = vec![shared.id.clone(), own_a.id.clone()];
    want_a.sort();
    assert_eq!(seen(Some(&a.id), None), want_a);
    assert_eq!(seen(Some(&b.id), None).len(), 2);
    assert_eq!(seen(Some(&mssp.id), None).len(), 2, "mssp sees its own two");
    assert_eq!(seen(None, None).len(), 4, "no community: everything");
    assert_eq!(seen(Some(&a.id), Some(vec![own_a.id.clone()])), vec![own_a.id.clone()]);
    let e = Matcher::new(
        index.clone(),
        &MatchOptions { community: Some(uuid::Uuid::nil().to_string()), ..Default::default() },
    )
    .unwrap_err();
    assert_eq!(e.kind(), iocmatch::ErrorKind::NotFound);
}

#[test]
fn one_value_in_several_collections_and_windows() {
    let s = Store::open_in_memory().unwrap();
    for c in ["a", "b"] {
        s.create_collection(&NewCollection::named(c)).unwrap();
    }
    import(&s, "a", "evil.example\n", window("2024-01-01", Some("2024-02-01")));
    import(&s, "b", "evil.example\n", window("2024-01-15", None));
    let m = matcher(&s, MatchOptions::default());
    let n =
        |t: &str| m.match_event(br#"{"dns":{"question":{"name":"evil.example"}}}"#, Some(ts(t))).unwrap().matches.len();
    assert_eq!((n("2024-01-10"), n("2024-01-20"), n("2024-03-01")), (1, 2, 1));
}

#[test]
fn pre_extracted_fields_and_batches() {
    let s = sample();
    let m = matcher(&s, MatchOptions::default());
    let r = m.match_fields(
        &[("source.ip", "203.0.113.7"), ("no.such.field", "203.0.113.7"), ("url.domain", "evil.example")],
        Some(ts("2024-06-01")),
    );
    assert_eq!(r.matches.len(), 2);
    assert_eq!(r.matches[1].offset, 2);
    let events: Vec<String> =
        (0..500).map(|i| format!(r#"{{{T},"source":{{"ip":"203.0.113.{}"}}}}"#, i % 10)).collect();
    let res = m.match_batch(&events, None);
    for (i, r) in res.iter().enumerate() {
        assert_eq!(r.as_ref().unwrap().matches.len(), usize::from(i % 10 == 7), "event {i}");
    }
    assert!(m.match_event(b"not json", None).is_err());
    assert!(m.match_event(b"", None).is_err());
    assert!(m.match_event(b"[1,2]", None).is_err());
}

#[test]
fn enrichment_shape() {
    let s = sample();
    let m = matcher(&s, MatchOptions::default());
    let r = m
        .match_event(format!(r#"{{{T},"url":{{"original":"http://evil.example/gate.php?id=1"}}}}"#).as_bytes(), None)
        .unwrap();
    let e = r.matches[0].to_enrichment();
    assert_eq!(e["indicator"]["type"], "url");
    assert_eq!(e["indicator"]["url"]["full"], "http://evil.example/gate.php?id=1");
    assert_eq!(e["matched"]["field"], "url.original");
    assert_eq!(e["matched"]["type"], "indicator_match_rule");
    assert!(e["matched"]["id"].as_str().unwrap().starts_with("indicator--"));
}

#[test]
fn repeated_values_are_reported_in_every_field() {
    // a value looked up once per event is still reported for each field it is in, with that
    // field's rules (the C2 rule, the kinds of the field), in document order
    let s = Store::open_in_memory().unwrap();
    s.create_collection(&NewCollection::named("c2")).unwrap();
    s.create_collection(&NewCollection::named("plain")).unwrap();
    let c2 = ImportDefaults { kill_chain_phases: PhaseSet::parse_list("c2").unwrap(), ..window("2024-01-01", None) };
    import(&s, "c2", "192.0.2.66\n", c2);
    import(&s, "plain", "203.0.113.7\n", window("2024-01-01", None));
    import(&s, "plain", "jdoe\n", ImportDefaults { kind: Some(Kind::Username), ..window("2024-01-01", None) });
    let m = matcher(&s, MatchOptions::default());
    let ip = |f: &str| (f.to_string(), Kind::Ipv4, "192.0.2.66".to_string());
    // C2: only destination.ip, wherever it comes in the event
    let e = r#"{"source":{"ip":"192.0.2.66"},"destination":{"ip":"192.0.2.66"},"related":{"ip":["192.0.2.66"]},"@timestamp":"2024-06-01T00:00:00Z"}"#;
    assert_eq!(found(&m, e), vec![ip("destination.ip")]);
    let e =
        r#"{"related":{"ip":["192.0.2.66"]},"destination":{"ip":"192.0.2.66"},"@timestamp":"2024-06-01T00:00:00Z"}"#;
    assert_eq!(found(&m, e), vec![ip("destination.ip")]);
    // a plain IP: every field, each with its own value and offset
    let e = format!(r#"{{{T},"source":{{"ip":"203.0.113.7"}},"related":{{"ip":["203.0.113.7","203.0.113.7"]}}}}"#);
    let r = m.match_event(e.as_bytes(), None).unwrap();
    let got: Vec<(&str, usize)> = r.matches.iter().map(|x| (x.field.as_str(), x.offset)).collect();
    let offsets: Vec<usize> = e.match_indices("\"203.0.113.7\"").map(|(i, _)| i).collect();
    assert_eq!(got, vec![("source.ip", offsets[0]), ("related.ip", offsets[1]), ("related.ip", offsets[2])]);
    // the same text in fields of different kinds is looked up with each field's kinds
    let e = format!(r#"{{{T},"user":{{"name":"jdoe","email":"jdoe"}},"related":{{"user":["jdoe"]}}}}"#);
    let f = found(&m, &e);
    assert_eq!(
        f,
        vec![
            ("user.name".to_string(), Kind::Username, "jdoe".to_string()),
            ("related.user".to_string(), Kind::Username, "jdoe".to_string())
        ]
    );
    // an escaped copy of a value matches like the plain one
    let e = format!(r#"{{{T},"source":{{"ip":"203.0.113.7"}},"destination":{{"ip":"203.0.113\u002e7"}}}}"#);
    assert_eq!(found(&m, &e).len(), 2);
    // the time comes after the values: a repeated value out of its window matches nowhere
    let e = r#"{"source":{"ip":"203.0.113.7"},"related":{"ip":["203.0.113.7"]},"@timestamp":"2023-06-01T00:00:00Z"}"#;
    assert!(found(&m, e).is_empty());
}
