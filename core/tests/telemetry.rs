//! Telemetry reports and sightings, end to end: store -> events or recorded sightings ->
//! report -> store, table-driven.

use iocmatch::detect::{EventSource, TelemetryOptions, TelemetryReport};
use iocmatch::store::CompileFilter;
use iocmatch::{
    scope, ImportDefaults, Kind, LiveMatcher, MatchOptions, Matcher, NewCollection, PhaseSet, SightingsRecorder, Store,
    Timestamp,
};
use std::io::Write;
use std::sync::Arc;
use std::time::Duration;

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn import(s: &Store, coll: &str, text: &str, d: ImportDefaults) {
    let r = s.import_text(coll, text.as_bytes(), &d).unwrap();
    assert!(r.rejected.is_empty(), "{r:?}");
}

fn valid(from: &str, until: Option<&str>) -> ImportDefaults {
    ImportDefaults { valid_from: Some(ts(from)), valid_until: until.map(ts), ..Default::default() }
}

const SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// `feed`: indicators of every kind, most valid only in 2030 (telemetry ignores that), one
/// revoked, one Command and Control IP; `other`: a domain of another collection.
fn sample() -> Store {
    let s = Store::open_in_memory().unwrap();
    s.create_collection(&NewCollection::named("feed")).unwrap();
    s.create_collection(&NewCollection::named("other")).unwrap();
    import(
        &s,
        "feed",
        &format!(
            "evil.example\n203.0.113.7\n198.51.100.0/24\n2001:db8:bad::1\n{SHA}\n\
             http://evil.example/gate.php?id=1\nphish@evil.example\nrevoked.example\n"
        ),
        valid("2030-01-01", Some("2030-12-31")),
    );
    import(&s, "feed", "jdoe\n", ImportDefaults { kind: Some(Kind::Username), ..valid("2024-01-01", None) });
    import(
        &s,
        "feed",
        "192.0.2.66\n",
        ImportDefaults { kill_chain_phases: PhaseSet::parse_list("c2").unwrap(), ..valid("2024-01-01", None) },
    );
    import(&s, "other", "other.example\n", valid("2024-01-01", None));
    let revoked = s
        .indicators("feed", &iocmatch::IndicatorQuery { search: Some("revoked.example".into()), ..Default::default() })
        .unwrap();
    s.revoke_indicator(&revoked.items[0].id).unwrap();
    s
}

fn ev(time: Option<&str>, fields: &str) -> String {
    match time {
        Some(t) => format!(r#"{{"@timestamp":"{t}",{fields}}}"#),
        None => format!("{{{fields}}}"),
    }
}

/// The events, with what each is for.
fn events() -> Vec<String> {
    let rows: &[(Option<&str>, String)] = &[
        // two fields, one event: one sighting; the URL, email and username are not counted
        (
            Some("2024-06-01T23:59:59Z"),
            r#""dns":{"question":{"name":"evil.example"}},"destination":{"domain":"evil.example"},"url":{"original":"http://evil.example/gate.php?id=1"},"user":{"email":"phish@evil.example","name":"jdoe"}"#.into(),
        ),
        // the next UTC day
        (Some("2024-06-02T00:00:00Z"), r#""source":{"ip":"203.0.113.7"},"destination":{"ip":"198.51.100.9"}"#.into()),
        (Some("2024-06-02T10:00:00+02:00"), r#""destination":{"domain":"www.evil.example"}"#.into()),
        (Some("2024-06-02T10:00:00Z"), r#""destination":{"domain":"evil.example"}"#.into()),
        // outside the window, before and after; no time
        (Some("2023-06-01T00:00:00Z"), r#""destination":{"domain":"evil.example"}"#.into()),
        (Some("2025-01-01T00:00:01Z"), r#""destination":{"domain":"evil.example"}"#.into()),
        (None, r#""destination":{"domain":"evil.example"}"#.into()),
        // revoked; another collection
        (Some("2024-06-01T00:00:00Z"), r#""destination":{"domain":"revoked.example"}"#.into()),
        (Some("2024-06-01T00:00:00Z"), r#""destination":{"domain":"other.example"}"#.into()),
        // Command and Control: destination.ip only
        (Some("2024-07-01T00:00:00Z"), r#""source":{"ip":"192.0.2.66"}"#.into()),
        (Some("2024-07-01T00:00:00Z"), r#""destination":{"ip":"192.0.2.66"}"#.into()),
        // hashes from a window edge
        (Some("2024-01-02T00:00:00Z"), format!(r#""file":{{"hash":{{"sha256":"{SHA}"}}}}"#)),
        (Some("2024-01-01T23:59:59Z"), format!(r#""file":{{"hash":{{"sha256":"{SHA}"}}}}"#)),
    ];
    let mut out: Vec<String> = rows.iter().map(|(t, f)| ev(*t, f)).collect();
    out.push("not json".into());
    out
}

fn options() -> TelemetryOptions {
    TelemetryOptions { until: Some(ts("2025-01-01T00:00:00Z")), ..Default::default() }
}

/// (observable, kind, sightings, first seen, last seen, [(date, count)]) of each row.
type Row = (String, Kind, u64, String, String, Vec<(String, u64)>);

fn rows(r: &TelemetryReport) -> Vec<Row> {
    r.rows
        .iter()
        .map(|x| {
            (
                x.observable.clone(),
                x.kind,
                x.sightings,
                x.first_seen.to_rfc3339(),
                x.last_seen.to_rfc3339(),
                x.days.iter().map(|d| (d.date(), d.count)).collect(),
            )
        })
        .collect()
}

fn row(obs: &str, kind: Kind, n: u64, first: &str, last: &str, days: &[(&str, u64)]) -> Row {
    (obs.into(), kind, n, first.into(), last.into(), days.iter().map(|(d, c)| (d.to_string(), *c)).collect())
}

fn expected() -> Vec<Row> {
    vec![
        row(
            "evil.example",
            Kind::Domain,
            2,
            "2024-06-01T23:59:59Z",
            "2024-06-02T10:00:00Z",
            &[("2024-06-01", 1), ("2024-06-02", 1)],
        ),
        row("192.0.2.66", Kind::Ipv4, 1, "2024-07-01T00:00:00Z", "2024-07-01T00:00:00Z", &[("2024-07-01", 1)]),
        row("198.51.100.0/24", Kind::Cidr, 1, "2024-06-02T00:00:00Z", "2024-06-02T00:00:00Z", &[("2024-06-02", 1)]),
        row("203.0.113.7", Kind::Ipv4, 1, "2024-06-02T00:00:00Z", "2024-06-02T00:00:00Z", &[("2024-06-02", 1)]),
        row(SHA, Kind::Sha256, 1, "2024-01-02T00:00:00Z", "2024-01-02T00:00:00Z", &[("2024-01-02", 1)]),
    ]
}

#[test]
fn a_report_over_events_counts_what_the_spec_says() {
    let s = sample();
    let r = s.telemetry_from_events("feed", events(), &options()).unwrap();
    assert_eq!(rows(&r), expected());
    let h = &r.summary;
    assert!(h.id.starts_with("telemetry-report--"), "{}", h.id);
    assert_eq!(h.collection_id, s.collection("feed").unwrap().id);
    assert_eq!((h.window_start, h.window_end), (ts("2024-01-02T00:00:00Z"), ts("2025-01-01T00:00:00Z")));
    assert_eq!(h.communities, vec![s.default_community().unwrap().id]);
    assert_eq!((h.source.as_str(), h.events, h.indicators_seen), ("events", 13, 5));
    // every row names its indicator
    for x in &r.rows {
        assert_eq!(s.indicator(&x.indicator_id).unwrap().name(), x.observable);
    }
}

#[test]
fn days_are_utc_days_whatever_the_events_offset() {
    let s = sample();
    let d = |t: &str| ev(Some(t), r#""destination":{"domain":"evil.example"}"#);
    let events = [
        d("2024-06-01T23:59:59Z"),
        d("2024-06-02T01:30:00+02:00"), // 2024-06-01T23:30:00Z
        d("2024-06-02T00:00:00Z"),
        d("2024-06-01T22:00:00-03:00"), // 2024-06-02T01:00:00Z
        d("2024-06-02T23:59:59.999999Z"),
        d("2024-06-03T00:00:00.000001Z"),
    ];
    let r = s.telemetry_from_events("feed", &events, &options()).unwrap();
    assert_eq!(
        rows(&r),
        [row(
            "evil.example",
            Kind::Domain,
            6,
            "2024-06-01T23:30:00Z",
            "2024-06-03T00:00:00.000001Z",
            &[("2024-06-01", 2), ("2024-06-02", 3), ("2024-06-03", 1)],
        )]
    );
}

#[test]
fn the_window_and_until_are_parameters() {
    let s = sample();
    // the last 31 days before 2024-06-02T05:00: only the first two events' days
    let o = TelemetryOptions {
        window: Duration::from_secs(31 * 86_400),
        until: Some(ts("2024-06-02T05:00:00Z")),
        ..Default::default()
    };
    let r = s.telemetry_from_events("feed", events(), &o).unwrap();
    let got: Vec<(String, u64)> = r.rows.iter().map(|x| (x.observable.clone(), x.sightings)).collect();
    assert_eq!(got, [("198.51.100.0/24".to_string(), 1), ("203.0.113.7".into(), 1), ("evil.example".into(), 1)]);
}

#[test]
fn reports_round_trip_through_the_store_newest_first() {
    let s = sample();
    let a = s.telemetry_from_events("feed", events(), &options()).unwrap();
    let b = s.telemetry_from_events("feed", &events()[..2], &options()).unwrap();
    assert_eq!(s.telemetry_report(&a.summary.id).unwrap(), a);
    assert_eq!(s.telemetry_report(&b.summary.id).unwrap(), b);
    // the bare uuid works too
    let bare = a.summary.id.trim_start_matches("telemetry-report--");
    assert_eq!(s.telemetry_report(bare).unwrap(), a);
    let list = s.telemetry_reports("feed").unwrap();
    assert_eq!(list.iter().map(|x| x.id.clone()).collect::<Vec<_>>(), [b.summary.id.clone(), a.summary.id.clone()]);
    assert_eq!(list[1], a.summary);
    assert!(s.telemetry_reports("other").unwrap().is_empty());
    s.delete_telemetry_report(&a.summary.id).unwrap();
    let e = s.telemetry_report(&a.summary.id).unwrap_err();
    assert_eq!(e.kind(), iocmatch::ErrorKind::NotFound);
    assert!(e.to_string().contains(&a.summary.id), "{e}");
    assert_eq!(s.delete_telemetry_report("nope").unwrap_err().kind(), iocmatch::ErrorKind::NotFound);
    // deleting the collection deletes its reports
    s.delete_collection("feed").unwrap();
    assert_eq!(s.telemetry_report(&b.summary.id).unwrap_err().kind(), iocmatch::ErrorKind::NotFound);
}

#[test]
fn communities_default_to_the_collections_and_must_see_it() {
    let s = sample();
    let tenant = s.create_community("tenant", Some("default")).unwrap();
    let o = TelemetryOptions { communities: vec!["tenant".into()], ..options() };
    // `feed` is not available to sub-communities
    let e = s.telemetry_from_events("feed", events(), &o).unwrap_err();
    assert!(e.to_string().contains("tenant"), "{e}");
    s.update_collection(
        "feed",
        &iocmatch::CollectionUpdate { available_for_sub_communities: Some(true), ..Default::default() },
    )
    .unwrap();
    let r = s.telemetry_from_events("feed", events(), &o).unwrap();
    assert_eq!(r.summary.communities, vec![tenant.id]);
    let e =
        s.telemetry_from_events("feed", events(), &TelemetryOptions { communities: vec!["nope".into()], ..options() });
    assert_eq!(e.unwrap_err().kind(), iocmatch::ErrorKind::NotFound);
    assert_eq!(
        s.telemetry_from_events("nope", events(), &options()).unwrap_err().kind(),
        iocmatch::ErrorKind::NotFound
    );
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

#[test]
fn an_archive_of_plain_and_gzip_files_gives_the_same_report() {
    let s = sample();
    let dir = tempfile::tempdir().unwrap();
    let ev = events();
    let (a, b) = ev.split_at(5);
    std::fs::write(dir.path().join("a.ndjson"), a.join("\n")).unwrap();
    std::fs::create_dir(dir.path().join("old")).unwrap();
    std::fs::write(dir.path().join("old/b.ndjson.gz"), gz(b.join("\n").as_bytes())).unwrap();
    let src = EventSource::from_paths(&[dir.path()]).unwrap();
    assert_eq!(src.files().iter().filter(|f| f.gzip).count(), 1);
    let run = s.telemetry(&s.collection("feed").unwrap().id, &src, &options(), None).unwrap();
    assert_eq!(rows(&run.report), expected());
    assert_eq!((run.report.summary.events, run.source.totals.bad_lines, run.source.files), (13, 1, 2));
}

#[test]
fn a_strict_profile_changes_what_counts() {
    let s = sample();
    // file.hash.sha256 is not in the spec's own table
    let o = TelemetryOptions { profile: Some(iocmatch::Profile::strict()), ..options() };
    let r = s.telemetry_from_events("feed", events(), &o).unwrap();
    let mut want = expected();
    want.retain(|x| x.0 != SHA);
    assert_eq!(rows(&r), want);
}

// ---- compile_filtered: kinds and ignore_validity ----

#[test]
fn compile_filtered_keeps_kinds_and_can_ignore_validity() {
    let s = sample();
    let event = |t: &str| {
        ev(Some(t), r#""destination":{"domain":"evil.example"},"url":{"original":"http://evil.example/gate.php?id=1"}"#)
    };
    let cases: &[(Option<scope::KindMask>, bool, &str, &[Kind])] = &[
        (None, false, "2024-06-01T00:00:00Z", &[]),
        (None, false, "2030-06-01T00:00:00Z", &[Kind::Domain, Kind::Url]),
        (None, true, "2024-06-01T00:00:00Z", &[Kind::Domain, Kind::Url]),
        (None, true, "1971-01-01T00:00:00Z", &[Kind::Domain, Kind::Url]),
        (Some(scope::DOMAIN), true, "2024-06-01T00:00:00Z", &[Kind::Domain]),
        (Some(scope::URL | scope::IP), true, "2024-06-01T00:00:00Z", &[Kind::Url]),
        (Some(scope::HASH), true, "2024-06-01T00:00:00Z", &[]),
    ];
    for (kinds, ignore, at, want) in cases {
        let index = s
            .compile_filtered(&CompileFilter { kinds: *kinds, ignore_validity: *ignore, ..Default::default() })
            .unwrap();
        let m = Matcher::new(Arc::new(index), &MatchOptions::default()).unwrap();
        let got: Vec<Kind> =
            m.match_event(event(at).as_bytes(), None).unwrap().matches.iter().map(|x| x.kind).collect();
        assert_eq!(&got, want, "kinds {kinds:?}, ignore validity {ignore}, at {at}");
    }
    // an indicator left with no kind is skipped; revoked ones never come back
    let all = s.compile_filtered(&CompileFilter { ignore_validity: true, ..Default::default() }).unwrap();
    let hashes = s.compile_filtered(&CompileFilter { kinds: Some(scope::HASH), ..Default::default() }).unwrap();
    assert_eq!(hashes.len(), 1);
    assert_eq!(all.len(), 10); // 11 imported, one revoked
}

// ---- sightings recorded by matchers ----

/// Count, naively, the events each indicator of `feed` matches ignoring validity: one per
/// event per indicator, per day.
fn naive(s: &Store, events: &[String]) -> Vec<(String, i64, u64)> {
    let index = s.compile_filtered(&CompileFilter { ignore_validity: true, ..Default::default() }).unwrap();
    let m = Matcher::new(Arc::new(index), &MatchOptions { default_time: Some(ts("2024-12-01")), ..Default::default() })
        .unwrap();
    let mut out: std::collections::BTreeMap<(String, i64), u64> = Default::default();
    for e in events {
        let Ok(r) = m.match_event(e.as_bytes(), None) else { continue };
        let mut ids: Vec<String> = r.matches.iter().map(|x| x.indicator_id.clone()).collect();
        ids.sort();
        ids.dedup();
        for id in ids {
            *out.entry((id, r.time.day())).or_default() += 1;
        }
    }
    out.into_iter().map(|((id, d), c)| (id, d, c)).collect()
}

fn recorded(rec: &SightingsRecorder) -> Vec<(String, i64, u64)> {
    rec.counts().into_iter().map(|x| (format!("indicator--{}", x.indicator), x.day, x.count)).collect()
}

#[test]
fn a_matcher_with_a_recorder_counts_like_a_naive_count_even_from_many_threads() {
    let s = sample();
    let rec = Arc::new(SightingsRecorder::new());
    let o = MatchOptions { default_time: Some(ts("2024-12-01")), sightings: Some(rec.clone()), ..Default::default() };
    let m = Arc::new(Matcher::new(Arc::new(s.compile().unwrap()), &o).unwrap());
    let ev = events();
    for e in &ev {
        let _ = m.match_event(e.as_bytes(), None);
    }
    let want = naive(&s, &ev);
    assert!(!want.is_empty());
    assert_eq!(recorded(&rec), want);
    // validity is ignored: the 2030-only domain was counted though it matched nothing
    let evil = s
        .indicators("feed", &iocmatch::IndicatorQuery { search: Some("evil.example".into()), ..Default::default() })
        .unwrap();
    let evil_id = evil.items.iter().find(|i| i.name() == "evil.example").unwrap().id.clone();
    assert!(want.iter().any(|(id, _, _)| *id == evil_id));
    assert!(m.match_event(ev[0].as_bytes(), None).unwrap().matches.iter().all(|x| x.indicator_id != evil_id));
    rec.take();

    // 8 threads x 50 rounds, batches and single events: nothing lost
    std::thread::scope(|sc| {
        for t in 0..8 {
            let (m, ev) = (m.clone(), &ev);
            sc.spawn(move || {
                for _ in 0..50 {
                    if t % 2 == 0 {
                        let _ = m.match_batch(ev, None);
                    } else {
                        for e in ev {
                            let _ = m.match_event(e.as_bytes(), None);
                        }
                    }
                }
            });
        }
    });
    let times_400: Vec<(String, i64, u64)> = want.iter().map(|(i, d, c)| (i.clone(), *d, c * 400)).collect();
    assert_eq!(recorded(&rec), times_400);

    // match_fields counts too; without a recorder nothing is counted
    rec.take();
    m.match_fields(&[("destination.ip", "192.0.2.66"), ("related.ip", "192.0.2.66")], Some(ts("2024-03-03")));
    assert_eq!(rec.pending(), 1);
    assert!(Matcher::new(m.index().clone(), &MatchOptions::default()).unwrap().sightings().is_none());
}

/// (indicator, sightings, [(day, count)]).
type Counted = (String, u64, Vec<(i64, u64)>);

#[test]
fn a_live_matcher_keeps_its_recorder_and_flushes_without_double_counting() {
    let s = Arc::new(sample());
    let rec = Arc::new(SightingsRecorder::new());
    let live =
        LiveMatcher::new(s.clone(), MatchOptions { sightings: Some(rec.clone()), ..Default::default() }).unwrap();
    // dated events inside the window's days, so that both reports below see the same
    let ev: Vec<String> = events()
        .into_iter()
        .filter(|e| !e.starts_with('{') || (e.contains("@timestamp") && !e.contains("2025-")))
        .collect();
    let run = |live: &LiveMatcher| {
        let m = live.matcher().unwrap();
        for e in &ev {
            let _ = m.match_event(e.as_bytes(), None);
        }
    };
    run(&live);
    let first = rec.pending();
    assert!(first > 0);
    assert_eq!(live.flush_sightings().unwrap(), first);
    assert_eq!(live.flush_sightings().unwrap(), 0, "a second flush writes nothing");
    // a change swaps the snapshot; the recorder stays, and refresh flushes
    import(&s, "feed", "new.example\n", valid("2024-01-01", None));
    run(&live);
    assert!(Arc::ptr_eq(live.matcher().unwrap().sightings().unwrap(), &rec));
    assert!(rec.pending() > 0);
    live.refresh().unwrap();
    assert_eq!(rec.pending(), 0);
    // counts add up in the store: twice the naive count
    let want = naive(&s, &ev);
    for (id, day, c) in &want {
        let stored = s.sightings(id).unwrap();
        assert_eq!(stored.iter().find(|x| x.0 == *day).map(|x| x.1), Some(c * 2), "{id} day {day}: {stored:?}");
    }
    // sightings of an indicator deleted meanwhile are skipped
    let r = Arc::new(SightingsRecorder::new());
    r.record(uuid::Uuid::new_v4(), 1, 5);
    assert_eq!(s.flush_sightings(&r).unwrap(), 0);

    // a report from the sightings: the same rows as from the events (day precision), twice
    let from_events = s.telemetry_from_events("feed", &ev, &options()).unwrap();
    let from_sightings = s.telemetry_from_sightings("feed", &options()).unwrap();
    assert_eq!(from_sightings.summary.source, "sightings");
    assert_eq!(s.telemetry_report(&from_sightings.summary.id).unwrap(), from_sightings);
    let a: Vec<Counted> = from_events
        .rows
        .iter()
        .map(|x| (x.indicator_id.clone(), x.sightings * 2, x.days.iter().map(|d| (d.day, d.count * 2)).collect()))
        .collect();
    let b: Vec<Counted> = from_sightings
        .rows
        .iter()
        .map(|x| (x.indicator_id.clone(), x.sightings, x.days.iter().map(|d| (d.day, d.count)).collect()))
        .collect();
    assert_eq!(a, b);
    assert_eq!(from_sightings.rows[0].first_seen, ts("2024-06-01"));
}
