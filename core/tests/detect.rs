//! Detection rules, live alerts and retrohunt (incremental, gzip archives, bad lines).

use iocmatch::detect::{Alert, DetectionType, Detector, EventSource, Retrohunt, RetrohuntSummary};
use iocmatch::killchain::COMMAND_AND_CONTROL;
use iocmatch::{ImportDefaults, IndicatorEdit, IndicatorQuery, MatchOptions, NewCollection, NewRule, Store, Timestamp};
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

/// Valid from 2024-01-10 to 2024-01-20.
fn window() -> ImportDefaults {
    ImportDefaults { valid_from: Some(ts("2024-01-10")), valid_until: Some(ts("2024-01-20")), ..Default::default() }
}

fn event(at: &str, hosts: &[&str]) -> String {
    let hosts: Vec<String> = hosts.iter().map(|h| format!("\"{h}\"")).collect();
    format!(r#"{{"@timestamp":"{at}T12:00:00Z","related":{{"hosts":[{}]}}}}"#, hosts.join(","))
}

/// (rule name, sorted observables) of each alert, sorted.
fn summary_of(alerts: &[Alert]) -> Vec<(String, Vec<String>)> {
    let mut v: Vec<(String, Vec<String>)> = alerts
        .iter()
        .map(|a| {
            let mut o: Vec<String> = a.matches.iter().map(|m| m.observable.clone()).collect();
            o.sort();
            (a.rule_name.clone(), o)
        })
        .collect();
    v.sort();
    v
}

fn expect(want: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    let mut v: Vec<(String, Vec<String>)> =
        want.iter().map(|(r, o)| (r.to_string(), o.iter().map(|s| s.to_string()).collect())).collect();
    v.sort();
    v
}

fn id_of(s: &Store, collection: &str, value: &str) -> String {
    s.indicators(collection, &IndicatorQuery { search: Some(value.into()), ..Default::default() }).unwrap().items[0]
        .id
        .clone()
}

#[test]
fn live_alerts_one_per_rule_with_only_its_matches() {
    let s = Store::open_in_memory().unwrap();
    for c in ["a", "b"] {
        s.create_collection(&NewCollection::named(c)).unwrap();
    }
    s.create_community("tenant", None).unwrap();
    let in_tenant = |n: &str| NewCollection { community: Some("tenant".into()), ..NewCollection::named(n) };
    s.create_collection(&in_tenant("t1")).unwrap();
    s.create_rule(&NewRule::for_collections("rA", ["a"])).unwrap();
    s.create_rule(&NewRule::for_collections("rAB", ["a", "b"])).unwrap();
    s.create_rule(&NewRule::for_community("rT", "tenant")).unwrap();
    s.create_rule(&NewRule { enabled: false, ..NewRule::for_collections("rOff", ["a"]) }).unwrap();
    // created after the community rule: covered all the same
    s.create_collection(&in_tenant("t2")).unwrap();
    for (c, v) in [("a", "a.example"), ("b", "b.example"), ("t1", "t1.example"), ("t2", "t2.example")] {
        s.import_text(c, v.as_bytes(), &window()).unwrap();
    }
    let d = Detector::new(&s, &MatchOptions::default()).unwrap();
    assert_eq!(d.rules().rules().len(), 3, "the disabled rule is not loaded");
    type Case<'a> = (Vec<&'a str>, Vec<(&'a str, &'a [&'a str])>);
    let cases: Vec<Case> = vec![
        (vec!["a.example"], vec![("rA", &["a.example"]), ("rAB", &["a.example"])]),
        (vec!["b.example"], vec![("rAB", &["b.example"])]),
        (vec!["t1.example"], vec![("rT", &["t1.example"])]),
        (vec!["t2.example"], vec![("rT", &["t2.example"])]),
        (
            vec!["a.example", "b.example", "t2.example"],
            vec![("rA", &["a.example"]), ("rAB", &["a.example", "b.example"]), ("rT", &["t2.example"])],
        ),
        (vec!["nothing.example"], vec![]),
    ];
    for (hosts, want) in cases {
        let alerts = d.detect(event("2024-01-15", &hosts).as_bytes(), None).unwrap();
        assert_eq!(summary_of(&alerts), expect(&want), "{hosts:?}");
        assert!(alerts.iter().all(|a| a.detection_type == DetectionType::Cti && a.time == ts("2024-01-15T12:00:00Z")));
    }
    // outside the window: no alert
    assert!(d.detect(event("2024-02-15", &["a.example"]).as_bytes(), None).unwrap().is_empty());
    let a = &d.detect(event("2024-01-15", &["b.example"]).as_bytes(), None).unwrap()[0];
    let j: serde_json::Value = serde_json::from_str(&a.to_json()).unwrap();
    assert_eq!(j["detection_type"], "cti");
    assert_eq!(j["rule_name"], "rAB");
    assert_eq!(j["rule_id"], s.rule("rAB").unwrap().id);
    assert_eq!(j["matches"][0]["collection_id"], s.collection("b").unwrap().id);
    assert_eq!(j["time"], "2024-01-15T12:00:00Z");
}

/// A store with collection `feed` and its rule.
fn feed_store() -> Store {
    let s = Store::open_in_memory().unwrap();
    s.create_collection(&NewCollection { create_rule: true, ..NewCollection::named("feed") }).unwrap();
    s
}

fn hunt_events(s: &Store, r: &Retrohunt, events: &[String]) -> (Vec<Alert>, RetrohuntSummary) {
    let alerts = Mutex::new(Vec::new());
    let sum = r
        .run_events(s, events, &|a: &Alert| {
            alerts.lock().unwrap().push(a.clone());
            Ok(())
        })
        .unwrap();
    (alerts.into_inner().unwrap(), sum)
}

#[test]
fn retrohunt_margin_at_both_ends() {
    let s = feed_store();
    s.import_text("feed", b"evil.example\n", &window()).unwrap();
    let five = Retrohunt::default();
    let none = Retrohunt { margin: Duration::ZERO, ..Default::default() };
    let cases: Vec<(&str, &Retrohunt, bool)> = vec![
        ("2024-01-15", &none, true),
        ("2024-01-06", &five, true), // 4 days before valid_from
        ("2024-01-06", &none, false),
        ("2024-01-04", &five, false), // 6 days before
        ("2024-01-24", &five, true),  // 4 days after valid_until
        ("2024-01-24", &none, false),
        ("2024-01-26", &five, false), // 6 days after
    ];
    for (at, r, alerts) in cases {
        let (got, sum) = hunt_events(&s, r, &[event(at, &["evil.example"])]);
        assert_eq!(got.len(), alerts as usize, "event at {at}, margin {:?}", r.margin);
        assert_eq!((sum.events, sum.indicators, sum.rules), (1, 1, 1));
        if let Some(a) = got.first() {
            assert_eq!(a.detection_type, DetectionType::CtiRetrohunt);
            assert_eq!((a.line, a.source.as_deref()), (Some(1), None));
            assert_eq!(a.rule_name, "IOC collection: feed");
        }
    }
}

#[test]
fn retrohunt_since_revoked_c2_and_disabled_rules() {
    let s = feed_store();
    s.import_text("feed", b"old.example\nedited.example\nrevoked.example\n", &window()).unwrap();
    std::thread::sleep(Duration::from_millis(5));
    let since = Timestamp::now();
    std::thread::sleep(Duration::from_millis(5));
    s.import_text("feed", b"new.example\n", &window()).unwrap();
    let edited = id_of(&s, "feed", "edited.example");
    s.edit_indicator(&edited, &IndicatorEdit { description: Some(Some("seen again".into())), ..Default::default() })
        .unwrap();
    s.revoke_indicator(&id_of(&s, "feed", "revoked.example")).unwrap();
    let c2 = ImportDefaults { kill_chain_phases: COMMAND_AND_CONTROL, ..window() };
    s.import_text("feed", b"203.0.113.7\n", &c2).unwrap();

    let all = ["old.example", "edited.example", "revoked.example", "new.example"];
    let ev = vec![
        event("2024-01-15", &all),
        r#"{"@timestamp":"2024-01-15T00:00:00Z","source":{"ip":"203.0.113.7"}}"#.to_string(),
        r#"{"@timestamp":"2024-01-15T00:00:00Z","destination":{"ip":"203.0.113.7"}}"#.to_string(),
    ];
    let rule = "IOC collection: feed";
    type Case<'a> = (Retrohunt, Vec<(u64, Vec<&'a str>)>);
    let cases: Vec<Case> = vec![
        (
            Retrohunt::default(),
            vec![(1, vec!["edited.example", "new.example", "old.example"]), (3, vec!["203.0.113.7"])],
        ),
        (
            Retrohunt { since: Some(since), ..Default::default() },
            vec![(1, vec!["edited.example", "new.example"]), (3, vec!["203.0.113.7"])],
        ),
        (Retrohunt { since: Some(Timestamp::now()), ..Default::default() }, vec![]),
    ];
    for (r, want) in cases {
        let (alerts, _) = hunt_events(&s, &r, &ev);
        let mut got: Vec<(u64, Vec<String>)> = alerts
            .iter()
            .map(|a| {
                assert_eq!(a.rule_name, rule);
                let mut o: Vec<String> = a.matches.iter().map(|m| m.observable.clone()).collect();
                o.sort();
                (a.line.unwrap(), o)
            })
            .collect();
        got.sort();
        let want: Vec<(u64, Vec<String>)> =
            want.into_iter().map(|(l, o)| (l, o.into_iter().map(String::from).collect())).collect();
        assert_eq!(got, want, "since {:?}", r.since);
    }
    // a disabled rule hunts nothing
    s.set_rule_enabled(rule, false).unwrap();
    let (alerts, sum) = hunt_events(&s, &Retrohunt::default(), &ev);
    assert!(alerts.is_empty());
    assert_eq!((sum.rules, sum.indicators, sum.events), (0, 0, 3));
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// (file name, line, observables) of every alert, sorted.
type Found = Vec<(String, u64, Vec<String>)>;

fn hunt_dir(s: &Store, r: &Retrohunt, dir: &Path) -> (Found, RetrohuntSummary) {
    let src = EventSource::from_paths(&[dir]).unwrap();
    let alerts = Mutex::new(Vec::new());
    let sink = |a: &Alert| {
        alerts.lock().unwrap().push(a.clone());
        Ok(())
    };
    let sum = r.run(s, &src, &sink, None).unwrap();
    let mut found: Found = alerts
        .into_inner()
        .unwrap()
        .into_iter()
        .map(|a| {
            assert_eq!(a.detection_type, DetectionType::CtiRetrohunt);
            let name = Path::new(a.source.as_deref().unwrap()).file_name().unwrap().to_string_lossy().to_string();
            let mut o: Vec<String> = a.matches.into_iter().map(|m| m.observable).collect();
            o.sort();
            (name, a.line.unwrap(), o)
        })
        .collect();
    found.sort();
    assert_eq!(sum.alerts, found.len() as u64);
    (found, sum)
}

fn found(want: &[(&str, u64, &[&str])]) -> Found {
    want.iter().map(|(f, l, o)| (f.to_string(), *l, o.iter().map(|s| s.to_string()).collect())).collect()
}

#[test]
fn incremental_retrohunt_reports_only_what_is_new() {
    let s = feed_store();
    s.import_text("feed", b"one.example\n", &window()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let lines =
        |hosts: &[&str]| format!("{}\n{}\n", event("2024-01-15", &["quiet.example"]), event("2024-01-16", hosts));
    std::fs::write(d.join("a.ndjson"), lines(&["one.example", "two.example"])).unwrap();
    std::fs::write(d.join("b.ndjson.gz"), gz(lines(&["two.example"]).as_bytes())).unwrap();
    let r = Retrohunt { incremental: true, ..Default::default() };

    let (f, sum) = hunt_dir(&s, &r, d);
    assert_eq!(f, found(&[("a.ndjson", 2, &["one.example"])]));
    assert_eq!((sum.files, sum.files_skipped, sum.events, sum.indicators), (2, 0, 4, 1));
    assert!(sum.disk_bytes > 0 && sum.bytes > sum.disk_bytes / 2);

    // nothing new: nothing read, nothing reported
    let (f, sum) = hunt_dir(&s, &r, d);
    assert_eq!((f.len(), sum.files, sum.files_skipped, sum.indicators), (0, 0, 2, 0));

    // one new indicator: both files hunted again, with it alone
    s.import_text("feed", b"two.example\n", &window()).unwrap();
    let (f, sum) = hunt_dir(&s, &r, d);
    assert_eq!(f, found(&[("a.ndjson", 2, &["two.example"]), ("b.ndjson.gz", 2, &["two.example"])]));
    assert_eq!((sum.files, sum.indicators), (2, 1));

    // a new file: hunted whole with every indicator; the others are left alone
    std::fs::write(d.join("c.ndjson"), lines(&["one.example", "two.example"])).unwrap();
    let (f, sum) = hunt_dir(&s, &r, d);
    assert_eq!(f, found(&[("c.ndjson", 2, &["one.example", "two.example"])]));
    assert_eq!((sum.files, sum.files_skipped, sum.indicators), (1, 2, 2));

    // a file that changed is hunted whole again
    std::fs::write(d.join("a.ndjson"), lines(&["one.example"]) + &event("2024-01-17", &["two.example"]) + "\n")
        .unwrap();
    let (f, _) = hunt_dir(&s, &r, d);
    assert_eq!(f, found(&[("a.ndjson", 2, &["one.example"]), ("a.ndjson", 3, &["two.example"])]));

    // appended to: only the new line is hunted with every indicator
    let append = |name: &str, text: String| {
        let mut f = std::fs::OpenOptions::new().append(true).open(d.join(name)).unwrap();
        f.write_all(text.as_bytes()).unwrap();
    };
    append("c.ndjson", event("2024-01-18", &["one.example"]) + "\n");
    let (f, _) = hunt_dir(&s, &r, d);
    assert_eq!(f, found(&[("c.ndjson", 3, &["one.example"])]));

    // a new indicator and an appended line: old lines alert for the indicator only
    append("c.ndjson", event("2024-01-19", &["two.example"]) + "\n{broken\n");
    s.import_text("feed", b"quiet.example\n", &window()).unwrap();
    let (f, sum) = hunt_dir(&s, &r, d);
    let want = found(&[
        ("a.ndjson", 1, &["quiet.example"]),
        ("b.ndjson.gz", 1, &["quiet.example"]),
        ("c.ndjson", 1, &["quiet.example"]),
        ("c.ndjson", 4, &["two.example"]),
    ]);
    assert_eq!(f, want);
    assert_eq!(sum.bad_line_details.iter().map(|b| b.line).collect::<Vec<_>>(), [5]);
    assert!(hunt_dir(&s, &r, d).0.is_empty());

    // a compressed file that grew is hunted whole
    let grown = [lines(&["two.example"]), event("2024-01-19", &["one.example"]), "\n".into()].concat();
    std::fs::write(d.join("b.ndjson.gz"), gz(grown.as_bytes())).unwrap();
    let (f, _) = hunt_dir(&s, &r, d);
    let want = found(&[
        ("b.ndjson.gz", 1, &["quiet.example"]),
        ("b.ndjson.gz", 2, &["two.example"]),
        ("b.ndjson.gz", 3, &["one.example"]),
    ]);
    assert_eq!(f, want);

    // without incremental, everything again
    let (f, _) = hunt_dir(&s, &Retrohunt::default(), d);
    assert_eq!(f.len(), 10, "{f:?}");
}

#[test]
fn bad_lines_are_reported_with_their_numbers_and_good_lines_still_alert() {
    let s = feed_store();
    s.import_text("feed", b"evil.example\n", &window()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = [
        event("2024-01-15", &["evil.example"]),
        "{not json".to_string(),
        r#"{"related":{"hosts":["evil.example"]}}"#.to_string(),
        String::new(),
        event("2024-01-16", &["evil.example"]),
    ]
    .join("\n");
    std::fs::write(dir.path().join("mixed.json.gz"), gz(text.as_bytes())).unwrap();
    let (f, sum) = hunt_dir(&s, &Retrohunt::default(), dir.path());
    assert_eq!(f, found(&[("mixed.json.gz", 1, &["evil.example"]), ("mixed.json.gz", 5, &["evil.example"])]));
    assert_eq!((sum.events, sum.bad_lines), (2, 2));
    let lines: Vec<u64> = sum.bad_line_details.iter().map(|b| b.line).collect();
    assert_eq!(lines, [2, 3]);
    assert!(sum.bad_line_details[1].message.contains("@timestamp"), "{:?}", sum.bad_line_details);
    assert!(sum.bad_line_details[0].source.as_deref().unwrap().ends_with("mixed.json.gz"));

    // an unreadable file is reported, the others hunted
    let mut broken = gz(text.as_bytes());
    let n = broken.len();
    broken.truncate(n - 10);
    std::fs::write(dir.path().join("broken.gz"), broken).unwrap();
    let (f, sum) = hunt_dir(&s, &Retrohunt::default(), dir.path());
    assert_eq!(sum.errors.len(), 1, "{sum:?}");
    assert!(sum.errors[0].message.contains("broken.gz"));
    assert!(f.iter().filter(|(n, _, _)| n == "mixed.json.gz").count() == 2);
}

#[test]
fn incremental_retrohunt_hunts_the_collections_of_a_new_rule_whole() {
    let s = feed_store();
    s.create_collection(&NewCollection::named("watch")).unwrap();
    s.import_text("feed", b"one.example\n", &window()).unwrap();
    s.import_text("watch", b"watched.example\n", &window()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{}\n{}\n", event("2024-01-15", &["one.example"]), event("2024-01-15", &["watched.example"]));
    std::fs::write(dir.path().join("a.ndjson"), text).unwrap();
    let r = Retrohunt { incremental: true, ..Default::default() };
    let (f, _) = hunt_dir(&s, &r, dir.path());
    assert_eq!(f, found(&[("a.ndjson", 1, &["one.example"])]));
    assert!(hunt_dir(&s, &r, dir.path()).0.is_empty());

    // a rule over an old collection: its indicators are hunted in the files already hunted
    s.create_rule(&NewRule::for_collections("watchers", ["watch"])).unwrap();
    let (f, sum) = hunt_dir(&s, &r, dir.path());
    assert_eq!(f, found(&[("a.ndjson", 2, &["watched.example"])]));
    assert_eq!(sum.indicators, 1);
    assert!(hunt_dir(&s, &r, dir.path()).0.is_empty());

    // disabled, then enabled again: hunted whole again
    s.set_rule_enabled("watchers", false).unwrap();
    assert!(hunt_dir(&s, &r, dir.path()).0.is_empty());
    s.set_rule_enabled("watchers", true).unwrap();
    assert_eq!(hunt_dir(&s, &r, dir.path()).0, found(&[("a.ndjson", 2, &["watched.example"])]));
}

#[test]
fn incremental_retrohunt_rehunts_a_file_whose_hunted_part_did_not_end_a_line() {
    let s = feed_store();
    s.import_text("feed", b"one.example\ntwo.example\n", &window()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("d.ndjson");
    std::fs::write(&p, event("2024-01-15", &["one.example"])).unwrap(); // no newline yet
    let r = Retrohunt { incremental: true, ..Default::default() };
    assert_eq!(hunt_dir(&s, &r, dir.path()).0, found(&[("d.ndjson", 1, &["one.example"])]));
    let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
    f.write_all(format!("\n{}\n", event("2024-01-16", &["two.example"])).as_bytes()).unwrap();
    // the last line may have been cut when it was hunted: the whole file again
    let want = found(&[("d.ndjson", 1, &["one.example"]), ("d.ndjson", 2, &["two.example"])]);
    assert_eq!(hunt_dir(&s, &r, dir.path()).0, want);
    // now it ends a line: an append is hunted alone
    f.write_all(format!("{}\n", event("2024-01-17", &["one.example"])).as_bytes()).unwrap();
    assert_eq!(hunt_dir(&s, &r, dir.path()).0, found(&[("d.ndjson", 3, &["one.example"])]));
}
