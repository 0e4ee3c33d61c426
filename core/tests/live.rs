//! The live matcher follows the store: imports, edits and revocations are seen by the next
//! match; threads already matching finish on their snapshot.

use iocmatch::{
    ImportDefaults, IndicatorEdit, IndicatorQuery, LiveMatcher, MatchOptions, NewCollection, Store, Timestamp,
};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

fn ts(s: &str) -> Timestamp {
    Timestamp::parse(s).unwrap()
}

fn defaults() -> ImportDefaults {
    ImportDefaults { valid_from: Some(ts("2024-01-01")), ..Default::default() }
}

fn hits(live: &LiveMatcher, ip: &str) -> usize {
    let ev = format!(r#"{{"source":{{"ip":"{ip}"}}}}"#);
    live.matcher().unwrap().match_event(ev.as_bytes(), Some(ts("2024-06-01"))).unwrap().matches.len()
}

#[test]
fn next_match_sees_imports_edits_and_revocations() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    store.create_collection(&NewCollection::named("f")).unwrap();
    store.import_text("f", b"192.0.2.1\n", &defaults()).unwrap();
    let live = LiveMatcher::new(store.clone(), MatchOptions::default()).unwrap();
    assert_eq!((hits(&live, "192.0.2.1"), hits(&live, "192.0.2.2")), (1, 0));

    store.import_text("f", b"192.0.2.2\n", &defaults()).unwrap();
    assert_eq!(hits(&live, "192.0.2.2"), 1, "an import is seen");

    let id = store
        .indicators("f", &IndicatorQuery { search: Some("192.0.2.1".into()), ..Default::default() })
        .unwrap()
        .items[0]
        .id
        .clone();
    store
        .edit_indicator(&id, &IndicatorEdit { valid_until: Some(Some(ts("2024-03-01"))), ..Default::default() })
        .unwrap();
    assert_eq!(hits(&live, "192.0.2.1"), 0, "an edit of the window is seen");
    store.edit_indicator(&id, &IndicatorEdit { valid_until: Some(None), ..Default::default() }).unwrap();
    assert_eq!(hits(&live, "192.0.2.1"), 1, "and undone");

    store.revoke_indicator(&id).unwrap();
    assert_eq!(hits(&live, "192.0.2.1"), 0, "a revocation is seen");
    store.import_text("f", b"192.0.2.1\n", &defaults()).unwrap();
    assert_eq!(hits(&live, "192.0.2.1"), 1, "a new indicator after the revocation is seen");

    // collection changes recompile
    store.create_collection(&NewCollection::named("g")).unwrap();
    store.import_text("g", b"192.0.2.9\n", &defaults()).unwrap();
    assert_eq!(hits(&live, "192.0.2.9"), 1);
    store.delete_collection("g").unwrap();
    assert_eq!(hits(&live, "192.0.2.9"), 0, "a deleted collection is gone");
}

#[test]
fn changes_from_another_handle_are_seen_after_refresh() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("s.db");
    let a = Arc::new(Store::open(&p).unwrap());
    a.create_collection(&NewCollection::named("f")).unwrap();
    let live = LiveMatcher::new(a.clone(), MatchOptions::default()).unwrap();
    let b = Store::open(&p).unwrap();
    b.import_text("f", b"192.0.2.7\n", &defaults()).unwrap();
    assert_eq!(hits(&live, "192.0.2.7"), 0, "not yet: another handle wrote");
    live.refresh().unwrap();
    assert_eq!(hits(&live, "192.0.2.7"), 1);
}

#[test]
fn a_large_delta_recompiles_the_base() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    store.create_collection(&NewCollection::named("f")).unwrap();
    let live = LiveMatcher::new(store.clone(), MatchOptions::default()).unwrap();
    let text: String = (0..3000).map(|i| format!("10.{}.{}.1\n", i / 250, i % 250)).collect();
    store.import_text("f", text.as_bytes(), &defaults()).unwrap();
    let m = live.matcher().unwrap();
    assert_eq!(m.index().len(), 3000, "past the delta share the base itself is recompiled");
    assert_eq!(hits(&live, "10.11.249.1"), 1);
}

#[test]
fn matching_on_two_threads_while_another_imports_and_revokes() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    store.create_collection(&NewCollection::named("f")).unwrap();
    store.import_text("f", b"198.51.100.1\n", &defaults()).unwrap();
    let live = Arc::new(LiveMatcher::new(store.clone(), MatchOptions::default()).unwrap());
    let stop = Arc::new(AtomicBool::new(false));
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let (live, stop) = (live.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut rounds = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    // the stable indicator is always there; the churned ones come and go
                    assert_eq!(hits(&live, "198.51.100.1"), 1);
                    let n = hits(&live, "203.0.113.5");
                    assert!(n <= 1, "{n}");
                    rounds += 1;
                }
                rounds
            })
        })
        .collect();
    for i in 0..40 {
        let ip = format!("203.0.113.{}", 5 + i % 2);
        store.import_text("f", ip.as_bytes(), &defaults()).unwrap();
        let id = store
            .indicators("f", &IndicatorQuery { search: Some(ip.clone()), revoked: Some(false), ..Default::default() })
            .unwrap()
            .items[0]
            .id
            .clone();
        assert_eq!(hits(&live, &ip), 1, "round {i}: the import is seen");
        store.revoke_indicator(&id).unwrap();
        assert_eq!(hits(&live, &ip), 0, "round {i}: the revocation is seen");
    }
    stop.store(true, Ordering::Relaxed);
    for r in readers {
        assert!(r.join().expect("reader thread panicked") > 0);
    }
}

#[test]
fn a_first_change_that_is_a_revocation_is_seen() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    store.create_collection(&NewCollection::named("c2")).unwrap();
    store.import_text("c2", b"203.0.113.5\n", &defaults()).unwrap();
    let live = LiveMatcher::new(store.clone(), MatchOptions::default()).unwrap();
    let m = live.matcher().unwrap().match_event(br#"{"source":{"ip":"203.0.113.5"}}"#, Some(ts("2024-06-01"))).unwrap();
    store.revoke_indicator(&m.matches[0].indicator_id).unwrap();
    assert_eq!(hits(&live, "203.0.113.5"), 0);
}

#[test]
fn collection_settings_are_followed() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    store.create_collection(&NewCollection::named("d")).unwrap();
    store.import_text("d", b"evil.example\n", &defaults()).unwrap();
    let live = LiveMatcher::new(store.clone(), MatchOptions::default()).unwrap();
    let sub = |live: &LiveMatcher| {
        let ev = br#"{"dns":{"question":{"name":"www.evil.example"}}}"#;
        live.matcher().unwrap().match_event(ev, Some(ts("2024-06-01"))).unwrap().matches.len()
    };
    assert_eq!(sub(&live), 0);
    let u = iocmatch::CollectionUpdate { match_subdomains: Some(true), ..Default::default() };
    assert!(store.update_collection("d", &u).unwrap().match_subdomains);
    assert_eq!(sub(&live), 1, "turning sub-domain matching on is seen");
}

#[test]
fn a_kind_first_imported_after_the_compile_is_matched() {
    // kinds an index holds no key of are not looked up: a kind that arrives in a later import
    // (a delta layer) must be looked up again, with the same field ids
    let store = Arc::new(Store::open_in_memory().unwrap());
    store.create_collection(&NewCollection::named("f")).unwrap();
    store.import_text("f", b"192.0.2.1\n", &defaults()).unwrap();
    let live = LiveMatcher::new(store.clone(), MatchOptions::default()).unwrap();
    let ids = |live: &LiveMatcher| {
        let m = live.matcher().unwrap();
        ["source.ip", "user.name", "dns.question.name"].map(|f| m.fields().id(f))
    };
    let before = ids(&live);
    assert!(before.iter().all(Option::is_some));
    let ev = br#"{"user":{"name":"root"},"dns":{"question":{"name":"evil.example"}},"source":{"ip":"192.0.2.1"}}"#;
    let count =
        |live: &LiveMatcher| live.matcher().unwrap().match_event(ev, Some(ts("2024-06-01"))).unwrap().matches.len();
    assert_eq!(count(&live), 1);
    store.import_text("f", b"evil.example\n", &defaults()).unwrap();
    store.import_text("f", b"root\n", &ImportDefaults { kind: Some(iocmatch::Kind::Username), ..defaults() }).unwrap();
    assert_eq!(count(&live), 3, "the new kinds are looked up");
    assert_eq!(ids(&live), before, "field ids do not change between snapshots");
}
