//! The index file: round trip, and every kind of damage is an error, never a panic.

use iocmatch::{ErrorKind, ImportDefaults, Index, MatchOptions, Matcher, NewCollection, Store, Timestamp};
use std::sync::Arc;

fn store() -> Store {
    let s = Store::open_in_memory().unwrap();
    s.create_collection(&NewCollection { match_subdomains: true, ..NewCollection::named("f") }).unwrap();
    let mut text = String::new();
    for i in 0..300 {
        text.push_str(&format!("host{i}.evil.example\n198.51.{}.{}\n", i / 250, i % 250));
        text.push_str(&format!("{:032x}\nhttp://evil.example/{i}\n2001:db8::{i:x}\n", i * 7919));
    }
    text.push_str("10.0.0.0/8\n2001:db8:ffff::/48\nuser@evil.example\n");
    let r = s
        .import_text(
            "f",
            text.as_bytes(),
            &ImportDefaults { valid_from: Some(Timestamp::from_secs(0)), ..Default::default() },
        )
        .unwrap();
    assert!(r.rejected.is_empty(), "{r:?}");
    s
}

const EVENTS: &[&str] = &[
    r#"{"dns":{"question":{"name":"a.host7.evil.example"}}}"#,
    r#"{"source":{"ip":"198.51.0.9"},"destination":{"ip":"10.2.3.4"}}"#,
    r#"{"file":{"hash":{"md5":"00000000000000000000000000003dde"}}}"#,
    r#"{"url":{"original":"http://evil.example/42"}}"#,
    r#"{"source":{"ip":"2001:db8::2a"},"destination":{"ip":"2001:db8:ffff:1::1"}}"#,
    r#"{"user":{"email":"USER@evil.example"}}"#,
];

fn results(index: Index) -> Vec<Vec<(String, String)>> {
    let m = Matcher::new(Arc::new(index), &MatchOptions::default()).unwrap();
    EVENTS
        .iter()
        .map(|e| {
            let r = m.match_event(e.as_bytes(), Some(Timestamp::from_secs(1_700_000_000))).unwrap();
            r.matches.into_iter().map(|x| (x.indicator_id, x.observable)).collect()
        })
        .collect()
}

#[test]
fn saved_and_loaded_index_matches_the_same() {
    let s = store();
    let idx = s.compile().unwrap();
    assert_eq!(idx.len(), 1503);
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.idx");
    idx.save(&p).unwrap();
    let loaded = Index::load(&p).unwrap();
    assert_eq!(loaded.len(), idx.len());
    assert_eq!(loaded.seq(), idx.seq());
    let (a, b) = (results(idx), results(loaded));
    assert_eq!(a, b);
    assert!(a.iter().all(|r| !r.is_empty()), "{a:?}");
    assert_eq!(a[1].len(), 2, "source and destination both hit");
}

#[test]
fn damaged_files_are_errors() {
    let s = store();
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("x.idx");
    s.compile().unwrap().save(&p).unwrap();
    let good = std::fs::read(&p).unwrap();
    let q = dir.path().join("bad.idx");
    let expect_corrupt = |bytes: &[u8], what: &str| {
        std::fs::write(&q, bytes).unwrap();
        let e = Index::load(&q).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{what}: {e}");
        assert!(e.to_string().contains("bad.idx"), "{what}: {e}");
    };
    for n in [0, 1, 63, 64, 200, good.len() / 2, good.len() - 1] {
        expect_corrupt(&good[..n], &format!("truncated to {n}"));
    }
    // bit flips all over the file (a deterministic spread)
    let mut pos = 17usize;
    for _ in 0..300 {
        pos = (pos * 7919 + 104_729) % good.len();
        let mut b = good.clone();
        b[pos] ^= 1 << (pos % 8);
        expect_corrupt(&b, &format!("bit flip at {pos}"));
    }
    let mut longer = good.clone();
    longer.extend_from_slice(b"tail");
    expect_corrupt(&longer, "extended");
    expect_corrupt(
        b"SQLite format 3\0......................................................................",
        "foreign",
    );
    let e = Index::load(dir.path().join("missing.idx")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Io);
}

#[test]
fn index_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Index>();
    check::<Matcher>();
}
