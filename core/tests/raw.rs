//! Raw-text mode, end to end: store -> compiled index -> `Matcher::scan_text`, table-driven,
//! plus property tests and an ignored throughput measurement (see `raw_throughput`).

use iocmatch::matcher::NdjsonItem;
use iocmatch::{
    Error, EventMatches, ImportDefaults, Kind, MatchOptions, Matcher, NewCollection, Pagination, PhaseSet, Store,
    TimeSource, Timestamp,
};
use proptest::prelude::*;
use std::sync::{Arc, OnceLock};

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

const MD5: &str = "d41d8cd98f00b204e9800998ecf8427e";
const SHA1: &str = "da39a3ee5e6b4b0d3255bfef95601890afd80709";
const SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const SHA512: &str = "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e";
const SSDEEP: &str = "3:AXGBicFlgVNhBGcL6wCrFQEv:AXGHsNhxLsr2C";

/// One collection of every kind valid through 2024, one matching sub-domains, one of C2
/// indicators.
fn sample() -> Store {
    let s = Store::open_in_memory().unwrap();
    s.create_collection(&NewCollection::named("feed")).unwrap();
    s.create_collection(&NewCollection { match_subdomains: true, ..NewCollection::named("parents") }).unwrap();
    s.create_collection(&NewCollection::named("c2")).unwrap();
    import(
        &s,
        "feed",
        &format!(
            "evil.com\n1.2.3.4\n198.51.100.0/24\n10.0.0.0/8\n10.1.0.0/16\n2001:db8:bad::1\n2001:db8:beef::/48\n\
             http://evil.example/gate.php?id=1\nhttps://evil.com/login\nphish@evil.example\n\
             {MD5}\n{SHA1}\n{SHA256}\n{SHA512}\n{SSDEEP}\nxn--bcher-kva.example\n"
        ),
        window("2024-01-01", Some("2024-12-31T23:59:59Z")),
    );
    import(&s, "feed", "jdoe\n", ImportDefaults { kind: Some(Kind::Username), ..window("2024-01-01", None) });
    import(&s, "parents", "bad-parent.example\n", window("2024-01-01", None));
    import(
        &s,
        "c2",
        "192.0.2.66\n192.0.2.128/25\nc2.example\n",
        ImportDefaults { kill_chain_phases: PhaseSet::parse_list("c2").unwrap(), ..window("2024-01-01", None) },
    );
    s
}

fn matcher_with(o: MatchOptions) -> Matcher {
    Matcher::new(Arc::new(sample().compile().unwrap()), &o).unwrap()
}

/// One matcher for the whole file (tests may run in parallel: it is `Send + Sync`).
fn shared() -> &'static Matcher {
    static M: OnceLock<Matcher> = OnceLock::new();
    M.get_or_init(|| matcher_with(MatchOptions::default()))
}

fn june() -> Option<Timestamp> {
    Some(ts("2024-06-01T12:00:00Z"))
}

/// Every reported offset points at the reported value.
fn check_offsets(line: &[u8], r: &EventMatches) {
    for m in &r.matches {
        assert_eq!(m.field, "raw");
        assert_eq!(line.get(m.offset..m.offset + m.value.len()), Some(m.value.as_bytes()), "{m:?}");
    }
    assert!(r.matches.windows(2).all(|w| w[0].offset <= w[1].offset), "line order: {:?}", r.matches);
}

/// (kind, observable, token) of each match, in line order.
type Found = Vec<(Kind, String, String)>;

fn found(m: &Matcher, line: &str) -> Found {
    let r = m.scan_text(line, june());
    check_offsets(line.as_bytes(), &r);
    r.matches.into_iter().map(|x| (x.kind, x.observable, x.value)).collect()
}

fn f(kind: Kind, obs: &str, token: &str) -> (Kind, String, String) {
    (kind, obs.to_string(), token.to_string())
}

fn dom(token: &str) -> (Kind, String, String) {
    f(Kind::Domain, "evil.com", token)
}

fn v4(token: &str) -> (Kind, String, String) {
    f(Kind::Ipv4, "1.2.3.4", token)
}

fn run_table(cases: &[(&str, Found)]) {
    let m = shared();
    for (line, want) in cases {
        assert_eq!(&found(m, line), want, "line: {line:?}");
    }
}

#[test]
fn domain_boundaries() {
    run_table(&[
        ("evil.com", vec![dom("evil.com")]),
        ("notevil.com", vec![]),
        ("evil.community", vec![]),
        ("my-evil.com", vec![]),
        ("evil.com.", vec![dom("evil.com")]),
        ("see evil.com...", vec![dom("evil.com")]),
        ("(evil.com)", vec![dom("evil.com")]),
        ("\"evil.com\"", vec![dom("evil.com")]),
        ("'evil.com',", vec![dom("evil.com")]),
        ("evil.com:443", vec![dom("evil.com")]),
        ("query=EVIL.Com;", vec![dom("EVIL.Com")]),
        ("user@evil.com", vec![dom("evil.com")]),
        ("-evil.com-", vec![dom("evil.com")]),
        ("evil.com_old evil.com-old evil.com0 evil.com.old 0evil.com _evil.com", vec![]),
        ("www.evil.com", vec![]), // the feed does not match sub-domains
        ("evil.com/path", vec![dom("evil.com")]),
        ("\u{201c}evil.com\u{201d}", vec![dom("evil.com")]),
        ("b\u{fc}evil.com", vec![]), // a non-ASCII letter is part of the word
        ("b\u{fc}cher.example", vec![f(Kind::Domain, "xn--bcher-kva.example", "b\u{fc}cher.example")]),
        // sub-domain indicators
        ("a.b.bad-parent.example", vec![f(Kind::Domain, "bad-parent.example", "a.b.bad-parent.example")]),
        ("Bad-Parent.Example", vec![f(Kind::Domain, "bad-parent.example", "Bad-Parent.Example")]),
        ("notbad-parent.example bad-parent.examples", vec![]),
        // once per (indicator, token) and line
        ("evil.com evil.com", vec![dom("evil.com")]),
        ("evil.com EVIL.COM", vec![dom("evil.com"), dom("EVIL.COM")]),
    ]);
}

#[test]
fn ip_boundaries_and_ranges() {
    run_table(&[
        ("1.2.3.4", vec![v4("1.2.3.4")]),
        ("1.2.3.45", vec![]),
        ("11.2.3.4", vec![]),
        ("1.2.3.4:80", vec![v4("1.2.3.4")]),
        ("1.2.3.4.5", vec![]),
        ("5.1.2.3.4", vec![]),
        ("01.2.3.4 1.02.3.4", vec![]),
        ("v1.2.3.4 1.2.3.4a", vec![]),
        ("src=1.2.3.4, [1.2.3.4]", vec![v4("1.2.3.4")]),
        ("host-1.2.3.4.", vec![v4("1.2.3.4")]),
        ("1.2.3.4/32", vec![v4("1.2.3.4")]),
        ("1.2.3.4567", vec![]),
        ("198.51.100.77", vec![f(Kind::Cidr, "198.51.100.0/24", "198.51.100.77")]),
        ("peer 198.51.101.1", vec![]),
        ("10.1.2.3", vec![f(Kind::Cidr, "10.0.0.0/8", "10.1.2.3"), f(Kind::Cidr, "10.1.0.0/16", "10.1.2.3")]),
        // IPv6
        ("2001:db8:bad::1", vec![f(Kind::Ipv6, "2001:db8:bad::1", "2001:db8:bad::1")]),
        ("[2001:db8:bad::1]:443", vec![f(Kind::Ipv6, "2001:db8:bad::1", "2001:db8:bad::1")]),
        ("from 2001:DB8:BAD::1.", vec![f(Kind::Ipv6, "2001:db8:bad::1", "2001:DB8:BAD::1")]),
        (
            "2001:0db8:0bad:0000:0000:0000:0000:0001",
            vec![f(Kind::Ipv6, "2001:db8:bad::1", "2001:0db8:0bad:0000:0000:0000:0000:0001")],
        ),
        ("2001:db8:beef:1::9", vec![f(Kind::Cidr, "2001:db8:beef::/48", "2001:db8:beef:1::9")]),
        ("::ffff:1.2.3.4", vec![v4("::ffff:1.2.3.4")]),
        ("[::FFFF:1.2.3.4]:53", vec![v4("::FFFF:1.2.3.4")]),
        ("GET http://[2001:db8:bad::1]:8443/x", vec![f(Kind::Ipv6, "2001:db8:bad::1", "2001:db8:bad::1")]),
        ("GET http://1.2.3.4:8080/gate", vec![v4("1.2.3.4")]),
        ("2001:db8:bad::1%eth0", vec![f(Kind::Ipv6, "2001:db8:bad::1", "2001:db8:bad::1")]),
        ("2001:db8:bad::1g x2001:db8:bad::1 2001:db8:bad::12 12:30:45 aa:bb:cc:dd:ee:ff std::x", vec![]),
    ]);
}

#[test]
fn urls_and_emails() {
    let url = |token: &str| f(Kind::Url, "http://evil.example/gate.php?id=1", token);
    let login = |token: &str| f(Kind::Url, "https://evil.com/login", token);
    let plain = "http://evil.example/gate.php?id=1";
    run_table(&[
        (&format!("GET {plain} HTTP/1.1"), vec![url(plain)]),
        (&format!("see {plain}."), vec![url(plain)]),
        (&format!("see {plain}!?"), vec![url(plain)]),
        (&format!("({plain})"), vec![url(plain)]),
        (&format!("<{plain}>"), vec![url(plain)]),
        (&format!("\"{plain}\""), vec![url(plain)]),
        (&format!("[{plain}],"), vec![url(plain)]),
        (&format!("{plain}#frag"), vec![url(&format!("{plain}#frag"))]),
        ("HTTP://EVIL.EXAMPLE:80/gate.php?id=1", vec![url("HTTP://EVIL.EXAMPLE:80/gate.php?id=1")]),
        ("hxxp://evil.example/gate.php?id=1", vec![url("hxxp://evil.example/gate.php?id=1")]),
        ("hXXp[:]//evil[.]example/gate.php?id=1", vec![url("hXXp[:]//evil[.]example/gate.php?id=1")]),
        (&format!("{plain}2 {plain}&x=1 x{plain} ftp://evil.example/gate.php?id=1"), vec![]),
        ("https://evil.com/login", vec![login("https://evil.com/login"), dom("evil.com")]),
        ("hxxps://evil[.]com/login", vec![login("hxxps://evil[.]com/login"), dom("evil[.]com")]),
        ("https://user:pw@evil.com:8443/x", vec![dom("evil.com")]),
        ("http://redirect.test/r?u=https://evil.com/login", vec![login("https://evil.com/login"), dom("evil.com")]),
        // e-mail addresses
        ("From: Phish@Evil.Example", vec![f(Kind::Email, "phish@evil.example", "Phish@Evil.Example")]),
        ("<phish@evil.example>.", vec![f(Kind::Email, "phish@evil.example", "phish@evil.example")]),
        ("xphish@evil.example phish@evil.example.org phish@evil.examples", vec![]),
    ]);
}

#[test]
fn hashes() {
    let up = MD5.to_ascii_uppercase();
    run_table(&[
        (&format!("md5={up}"), vec![f(Kind::Md5, MD5, &up)]),
        (&format!("sha1:{SHA1},"), vec![f(Kind::Sha1, SHA1, SHA1)]),
        (&format!("hash=\"{SHA256}\""), vec![f(Kind::Sha256, SHA256, SHA256)]),
        (SHA512, vec![f(Kind::Sha512, SHA512, SHA512)]),
        (&format!("file_{MD5}.bin"), vec![f(Kind::Md5, MD5, MD5)]),
        (&format!("{MD5}0 0{MD5} x{MD5} {MD5}g {}", &MD5[1..]), vec![]),
        (&format!("ssdeep={SSDEEP},\"a.exe\""), vec![f(Kind::Ssdeep, SSDEEP, SSDEEP)]),
        (&format!("x{SSDEEP} {SSDEEP}:1"), vec![]),
    ]);
}

#[test]
fn what_never_matches_raw_text() {
    run_table(&[
        ("Failed password for jdoe", vec![]),                              // user names
        ("DROP 192.0.2.66 192.0.2.200", vec![]),                           // C2 IPs: raw text has no destination.ip
        ("c2.example", vec![f(Kind::Domain, "c2.example", "c2.example")]), // the C2 rule is for IPs only
    ]);
}

#[test]
fn log_formats() {
    let cases: Vec<(&str, Found)> = vec![
        (
            "1717243200.123456\tCHhAvVGS1DHFjwGM9\t172.16.0.5\t49152\t1.2.3.4\t443\ttcp\tssl\t0.30\t517\t4245\tSF\tT\tF\t0\tShADadFf\t8\t941\t9\t4617\t-",
            vec![v4("1.2.3.4")],
        ),
        (
            "1717243200.551\tCq9Nf84d9D1GWFZ7Ue\t172.16.0.5\t53124\t8.8.8.8\t53\tudp\t30165\t-\twww.Evil.Com\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t1.2.3.4\t60.000000\tF",
            vec![v4("1.2.3.4")],
        ),
        (
            "1717243200.9\tCy2Tdd1nXQ6m4yQ2Ri\t172.16.0.5\t50012\t93.184.216.34\t80\t1\tGET\tevil.com\t/login\t-\t1.1\tMozilla/5.0\t0\t1024\t200\tOK\t-",
            vec![dom("evil.com")],
        ),
        (
            "<34>Oct 11 22:14:15 mymachine sshd[1234]: Failed password for jdoe from 1.2.3.4 port 22 ssh2",
            vec![v4("1.2.3.4")],
        ),
        (
            "1717243200.123     42 172.16.0.5 TCP_MISS/200 1234 GET https://evil.com/login - HIER_DIRECT/1.2.3.4 text/html",
            vec![f(Kind::Url, "https://evil.com/login", "https://evil.com/login"), dom("evil.com"), v4("1.2.3.4")],
        ),
        (
            r#"{"@timestamp":"2024-06-01T12:00:00Z","url":{"original":"https://evil.com/login"},"source":{"ip":"172.16.0.5"},"user":{"email":"phish@evil.example"}}"#,
            vec![
                f(Kind::Url, "https://evil.com/login", "https://evil.com/login"),
                dom("evil.com"),
                f(Kind::Email, "phish@evil.example", "phish@evil.example"),
            ],
        ),
        (
            "CEF:0|Vendor|Proxy|1.0|100|Blocked|5|src=172.16.0.5 dst=1.2.3.4 dhost=evil.com request=http://evil.example/gate.php?id=1",
            vec![
                v4("1.2.3.4"),
                dom("evil.com"),
                f(Kind::Url, "http://evil.example/gate.php?id=1", "http://evil.example/gate.php?id=1"),
            ],
        ),
    ];
    let m = shared();
    for (line, want) in cases {
        assert_eq!(found(m, line), want, "line: {line:?}");
    }
}

#[test]
fn bytes_that_are_not_utf8() {
    let m = shared();
    let line: &[u8] = b"\xff\xfe evil.com \xc3(1.2.3.4) \xe9vil.com ok";
    let r = m.scan_text_bytes(line, june());
    check_offsets(line, &r);
    let got: Vec<(&str, usize)> = r.matches.iter().map(|x| (x.value.as_str(), x.offset)).collect();
    assert_eq!(got, [("evil.com", 3), ("1.2.3.4", 14)]);
    // a URL is cut at the first byte that is not UTF-8
    let r = m.scan_text_bytes(b"https://evil.com/login\xff/x", june());
    assert_eq!(r.matches.len(), 2, "{:?}", r.matches);
}

#[test]
fn validity_windows_time_and_visibility() {
    let m = shared();
    let n = |t: &str| m.scan_text("GET https://evil.com/login from 1.2.3.4", Some(ts(t))).matches.len();
    assert_eq!(n("2023-12-31T23:59:59Z"), 0);
    assert_eq!(n("2024-01-01T00:00:00Z"), 3);
    assert_eq!(n("2024-12-31T23:59:59Z"), 3);
    assert_eq!(n("2025-01-01T00:00:00Z"), 0);
    let r = m.scan_text("1.2.3.4", june());
    assert_eq!((r.time, r.time_source), (ts("2024-06-01T12:00:00Z"), TimeSource::Caller));
    assert!(r.matches[0].indicator_id.starts_with("indicator--"));
    assert!(r.matches[0].collection_id.starts_with("ioc-collection--"));

    // the default time, and the collections a matcher sees
    let store = sample();
    let index = Arc::new(store.compile().unwrap());
    let parents = store
        .collections(None, Pagination::default())
        .unwrap()
        .items
        .into_iter()
        .find(|c| c.name == "parents")
        .unwrap();
    let m = Matcher::new(
        index.clone(),
        &MatchOptions {
            default_time: Some(ts("2024-05-05")),
            collections: Some(vec![parents.id]),
            ..Default::default()
        },
    )
    .unwrap();
    let r = m.scan_text("evil.com x.bad-parent.example", None);
    assert_eq!(r.time_source, TimeSource::Default);
    assert_eq!(r.time, ts("2024-05-05"));
    assert_eq!(r.matches.len(), 1);
    assert_eq!(r.matches[0].observable, "bad-parent.example");
}

#[test]
fn streams_keep_order_and_count() {
    let m = shared();
    let mut input = Vec::new();
    let n = 60_000; // several blocks of the stream
    for i in 0..n {
        match i % 1000 {
            7 => input.extend_from_slice(format!("{i} GET https://evil.com/login\r\n").as_bytes()),
            8 => input.extend_from_slice(b"\n"),
            9 => input.extend_from_slice(b"\xff\xfe 1.2.3.4\n"),
            _ => input.extend_from_slice(
                format!("{i} padding padding padding padding padding padding.example 172.16.{}.{}\n", i % 256, i % 200)
                    .as_bytes(),
            ),
        }
    }
    input.extend_from_slice(b"last line 1.2.3.4 without newline");
    let mut seen = Vec::new();
    let sum = m
        .scan_text_stream(&input[..], june(), &mut |item| {
            match item {
                NdjsonItem::Event { line, matches } => {
                    assert_eq!(matches.time_source, TimeSource::Caller);
                    if !matches.matches.is_empty() {
                        seen.push((line, matches.matches.len()));
                    }
                }
                NdjsonItem::BadLine { .. } => panic!("no bad lines in raw text"),
            }
            Ok(())
        })
        .unwrap();
    let mut want = Vec::new();
    for i in 0..n as u64 {
        match i % 1000 {
            7 => want.push((i + 1, 2)),
            9 => want.push((i + 1, 1)),
            _ => {}
        }
    }
    want.push((n as u64 + 1, 1));
    assert_eq!(seen, want);
    let blocks = (n / 1000) as u64;
    assert_eq!(sum.events, n as u64 + 1 - blocks, "blank lines are not events");
    assert_eq!(sum.matched_events, 2 * blocks + 1);
    assert_eq!(sum.matches, 3 * blocks + 1);
    assert_eq!(sum.bad_lines, 0);
    assert_eq!(sum.bytes, input.len() as u64);

    // the sink stops the stream
    let mut count = 0;
    let e = m
        .scan_text_stream(&input[..], june(), &mut |_| {
            count += 1;
            if count == 10 {
                Err(Error::new(iocmatch::ErrorKind::Validation, "enough"))
            } else {
                Ok(())
            }
        })
        .unwrap_err();
    assert_eq!(e.message(), "enough");
    assert_eq!(count, 10);
}

#[test]
fn live_matchers_see_changes_in_raw_text() {
    let store = Arc::new(Store::open_in_memory().unwrap());
    store.create_collection(&NewCollection::named("f")).unwrap();
    import(&store, "f", "evil.com\n", window("2024-01-01", None));
    let live = iocmatch::LiveMatcher::new(store.clone(), MatchOptions::default()).unwrap();
    let line = "GET https://evil.com/login from 1.2.3.4 via evil.com";
    let seen = |live: &iocmatch::LiveMatcher| {
        let r = live.matcher().unwrap().scan_text(line, june());
        check_offsets(line.as_bytes(), &r);
        r.matches.into_iter().map(|x| (x.kind, x.value, x.offset)).collect::<Vec<_>>()
    };
    assert_eq!(seen(&live), [(Kind::Domain, "evil.com".to_string(), 12)]);
    // an import lands in the delta layer
    import(&store, "f", "1.2.3.4\nhttps://evil.com/login\n", window("2024-01-01", None));
    assert_eq!(
        seen(&live),
        [
            (Kind::Url, "https://evil.com/login".to_string(), 4),
            (Kind::Domain, "evil.com".to_string(), 12),
            (Kind::Ipv4, "1.2.3.4".to_string(), 32),
        ]
    );
    // a revocation is a tombstone over the base row
    let id = store
        .indicators(
            "f",
            &iocmatch::IndicatorQuery {
                search: Some("evil.com".into()),
                kind: Some(Kind::Domain),
                ..Default::default()
            },
        )
        .unwrap()
        .items[0]
        .id
        .clone();
    store.revoke_indicator(&id).unwrap();
    assert_eq!(seen(&live).len(), 2);
}

#[test]
fn send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<Matcher>();
}

/// Pieces of text random lines are made of: indicators in many spellings, separators,
/// and whatever else.
fn piece() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "evil.com",
            "EVIL.COM.",
            "1.2.3.4",
            "10.1.2.3",
            "::ffff:1.2.3.4",
            "2001:db8:bad::1",
            "[",
            "]",
            "(",
            ")",
            "http://",
            "hxxps://",
            "[:]//",
            "https://evil.com/login",
            "phish@evil.example",
            "@",
            ":",
            "::",
            ".",
            "-",
            "_",
            "/",
            "\"",
            " ",
            "\t",
            "\u{fc}",
            "\u{201c}",
            "\u{fffd}",
            MD5,
            SHA1,
            SSDEEP,
            "3:",
            "a.b.bad-parent.example",
            "b\u{fc}cher.example",
            "xn--",
            "%",
        ])
        .prop_map(str::to_string),
        "[a-f0-9.:@/\\[\\]()x-]{0,12}",
        any::<String>(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Never panics; every offset points at its value (which also proves it is on a char
    /// boundary).
    #[test]
    fn any_text_scans(parts in prop::collection::vec(piece(), 0..16)) {
        let line = parts.concat();
        let r = shared().scan_text(&line, june());
        for m in &r.matches {
            prop_assert_eq!(&line[m.offset..m.offset + m.value.len()], m.value.as_str());
        }
        check_offsets(line.as_bytes(), &r);
    }

    /// An indicator between any of the usual separators is found, at its place.
    #[test]
    fn separated_tokens_are_found(
        token in prop::sample::select(vec![
            "evil.com", "EVIL.com", "1.2.3.4", "10.1.2.3", "2001:db8:bad::1", "::ffff:1.2.3.4",
            "http://evil.example/gate.php?id=1", "hxxps://evil[.]com/login", "phish@evil.example", MD5, SHA1,
            SHA256, SHA512, SSDEEP, "x.y.bad-parent.example",
        ]),
        left in prop::sample::select(vec![" ", "\t", "\"", "'", "(", "[", "<", "=", ",", ";", "|", "\u{201c}"]),
        right in prop::sample::select(vec![" ", "\t", "\"", "'", ")", "]", ">", ",", ";", "|", "\u{201d}", ""]),
        before in "([a-z0-9]{1,8} ){0,3}",
        after in "( [a-z0-9]{1,8}){0,3}",
    ) {
        let line = format!("{before}{left}{token}{right}{after}");
        let at = before.len() + left.len();
        let r = shared().scan_text(&line, june());
        prop_assert!(r.matches.iter().any(|m| m.offset == at && m.value == token), "{:?}: {:?}", line, r.matches);
    }

    #[test]
    fn any_bytes_scan(mut bytes in prop::collection::vec(any::<u8>(), 0..200), parts in prop::collection::vec(piece(), 0..6)) {
        for p in parts {
            bytes.extend_from_slice(p.as_bytes());
        }
        let r = shared().scan_text_bytes(&bytes, june());
        check_offsets(&bytes, &r);
    }
}

// ----- throughput (run it with: cargo test --release -p iocmatch --test raw -- --ignored --nocapture)

/// splitmix64.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn label(&mut self, min: u64, max: u64) -> String {
        let n = min + self.below(max - min + 1);
        (0..n).map(|_| (b'a' + self.below(26) as u8) as char).collect()
    }

    fn hex(&mut self, n: usize) -> String {
        (0..n).map(|_| char::from(b"0123456789abcdef"[self.below(16) as usize])).collect()
    }

    fn domain(&mut self) -> String {
        const TLDS: [&str; 10] = ["com", "net", "org", "info", "ru", "cn", "xyz", "top", "io", "de"];
        let tld = TLDS[self.below(10) as usize];
        let base = format!("{}.{tld}", self.label(5, 12));
        if self.below(3) == 0 {
            format!("{}.{base}", self.label(2, 8))
        } else {
            base
        }
    }

    fn ipv4(&mut self) -> String {
        let a = self.next() as u32;
        std::net::Ipv4Addr::from(a).to_string()
    }
}

/// Random indicators in the mix of `shared/bench/gen.py`: 40 % domains (an eighth matching
/// sub-domains), 25 % IPv4 (6 % of them /16-/24 ranges, mostly /24), 5 % IPv6, 20 % hashes,
/// 5 % URLs, 5 % e-mail addresses.
fn random_indicators(n: usize) -> Vec<(Kind, String, bool)> {
    let mut rng = Rng(42);
    (0..n)
        .map(|_| {
            let r = rng.below(1000);
            let (kind, value) = match r {
                0..400 => (Kind::Domain, rng.domain()),
                400..635 => (Kind::Ipv4, rng.ipv4()),
                635..650 => {
                    let plen = [24, 24, 24, 24, 24, 24, 23, 22, 20, 16][rng.below(10) as usize];
                    let net = ipnet::Ipv4Net::new((rng.next() as u32).into(), plen).unwrap().trunc();
                    (Kind::Cidr, net.to_string())
                }
                650..700 => {
                    let a = (0x2001_0db8u128 << 96) | u128::from(rng.next());
                    (Kind::Ipv6, std::net::Ipv6Addr::from(a).to_string())
                }
                700..760 => (Kind::Md5, rng.hex(32)),
                760..800 => (Kind::Sha1, rng.hex(40)),
                800..880 => (Kind::Sha256, rng.hex(64)),
                880..900 => (Kind::Sha512, rng.hex(128)),
                900..950 => (Kind::Url, format!("http://{}/{}", rng.domain(), rng.label(3, 10))),
                _ => (Kind::Email, format!("{}@{}", rng.label(3, 8), rng.domain())),
            };
            let subdomains = kind == Kind::Domain && rng.below(8) == 0;
            (kind, value, subdomains)
        })
        .collect()
}

/// The indicators of a `gen.py indicators` TSV file (`type, value, valid_from, valid_until,
/// opts`), windows left out (the whole file is valid at the time used).
fn tsv_indicators(path: &str) -> Option<Vec<(Kind, String, bool)>> {
    let text = std::fs::read_to_string(path).ok()?;
    let kind = |t: &str| {
        Some(match t {
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
            _ => return None,
        })
    };
    let lines: Vec<&str> = text.lines().collect();
    use rayon::prelude::*;
    Some(
        lines
            .par_iter()
            .filter_map(|l| {
                let mut f = l.split('\t');
                let k = kind(f.next()?)?;
                let value = iocmatch::observable::normalize(f.next()?, Some(k)).ok()?.value;
                let subdomains = f.nth(2).is_some_and(|o| o.contains("subdomains"));
                Some((k, value, subdomains))
            })
            .collect(),
    )
}

fn build_index(indicators: &[(Kind, String, bool)]) -> iocmatch::Index {
    use iocmatch::index::{CollectionRecord, CommunityRecord, IndexBuilder, IndicatorRecord};
    use iocmatch::{IndicatorValue, Observable};
    let mut b = IndexBuilder::new();
    let comm = b.add_community(CommunityRecord { id: uuid::Uuid::from_u128(1), parent: None });
    let coll = b.add_collection(CollectionRecord {
        id: uuid::Uuid::from_u128(2),
        community: comm,
        available_for_sub_communities: true,
    });
    b.reserve(indicators.len());
    let base = uuid::Uuid::now_v7().as_u128();
    for (i, (kind, value, subdomains)) in indicators.iter().enumerate() {
        b.add_indicator(IndicatorRecord {
            id: uuid::Uuid::from_u128(base + i as u128),
            collection: coll,
            value: IndicatorValue::single(Observable { kind: *kind, value: value.clone() }),
            valid_from: Timestamp(0),
            valid_until: None,
            c2: false,
            subdomains: *subdomains,
        });
    }
    b.build().unwrap()
}

/// ~100 MB of log lines: the NDJSON events of /tmp/e100k.jsonl when present (each is a fine
/// raw line), else synthetic syslog, proxy and Zeek lines.
fn corpus() -> (String, Vec<Vec<u8>>) {
    if let Ok(data) = std::fs::read("/tmp/e100k.jsonl") {
        let lines = data.split(|&c| c == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect();
        return ("/tmp/e100k.jsonl".into(), lines);
    }
    ("synthetic".into(), synthetic(100 << 20, true))
}

/// Syslog (sshd), Squid proxy, Zeek dns.log and EDR lines. `benign`: addresses and domains
/// from pools that no indicator holds (private ranges, the benign first octets and domains of
/// `gen.py`), so that nearly nothing matches, as in real logs; else random public addresses
/// and random domains (at 10M indicators a quarter of random addresses lie in some range).
fn synthetic(bytes: usize, benign: bool) -> Vec<Vec<u8>> {
    const FIRST: [u32; 14] = [13, 20, 23, 34, 35, 40, 52, 54, 104, 142, 151, 157, 184, 199];
    const BASES: [&str; 12] = [
        "google.com",
        "microsoft.com",
        "windowsupdate.com",
        "office365.com",
        "amazonaws.com",
        "akamaiedge.net",
        "github.com",
        "slack-edge.com",
        "elastic.co",
        "cloudflare.com",
        "example-corp.com",
        "zoom.us",
    ];
    const HOSTS: [&str; 8] = ["www", "api", "cdn", "login", "eus-1.events.data", "s3.us-east-1", "teams", "ocsp"];
    let mut rng = Rng(7);
    let ip = |rng: &mut Rng| {
        if benign {
            let first = FIRST[rng.below(14) as usize];
            std::net::Ipv4Addr::from((first << 24) | (rng.next() as u32 & 0x00FF_FFFF)).to_string()
        } else {
            rng.ipv4()
        }
    };
    let domain = |rng: &mut Rng| {
        if benign {
            format!("{}.{}", HOSTS[rng.below(8) as usize], BASES[rng.below(12) as usize])
        } else {
            rng.domain()
        }
    };
    let mut lines = Vec::new();
    let mut total = 0;
    while total < bytes {
        let line = match rng.below(4) {
            0 => format!(
                "<34>Oct 11 22:14:{:02} host-{} sshd[{}]: Failed password for invalid user {} from {} port {} ssh2",
                rng.below(60),
                rng.below(999),
                rng.below(65535),
                rng.label(3, 8),
                ip(&mut rng),
                rng.below(65535)
            ),
            1 => format!(
                "{}.{:03} {:>6} 172.16.{}.{} TCP_MISS/200 {} GET http://{}/{}/{}.js?v={} - HIER_DIRECT/{} application/javascript \"Mozilla/5.0 (Windows NT 10.0; Win64; x64)\"",
                1_717_243_200 + rng.below(86_400),
                rng.below(1000),
                rng.below(5000),
                rng.below(256),
                rng.below(256),
                rng.below(100_000),
                domain(&mut rng),
                rng.label(3, 9),
                rng.label(3, 9),
                rng.hex(8),
                ip(&mut rng)
            ),
            2 => format!(
                "{}.{:06}\tC{}\t10.0.{}.{}\t{}\t{}\t53\tudp\t{}\t0.001\t{}\t1\tC_INTERNET\t1\tA\t0\tNOERROR\tF\tF\tT\tT\t0\t{}\t60.000000\tF",
                1_717_243_200 + rng.below(86_400),
                rng.below(1_000_000),
                rng.hex(17),
                rng.below(256),
                rng.below(256),
                rng.below(65535),
                ip(&mut rng),
                rng.below(65535),
                domain(&mut rng),
                ip(&mut rng)
            ),
            _ => format!(
                "2024-06-01T12:{:02}:{:02}Z edr[{}]: process started image=C:\\Windows\\Temp\\{}.exe sha256={} parent={} user={}@example-corp.com",
                rng.below(60),
                rng.below(60),
                rng.below(9999),
                rng.label(4, 10),
                rng.hex(64),
                rng.hex(32),
                rng.label(3, 8)
            ),
        };
        total += line.len() + 1;
        lines.push(line.into_bytes());
    }
    lines
}

/// How many of the hits planted in the events (`<file>.truth.tsv` of `gen.py events`: line,
/// type, indicator, field, value) raw-text scanning finds on their line.
fn recall(m: &Matcher, name: &str, lines: &[Vec<u8>], at: Option<Timestamp>) {
    let Ok(truth) = std::fs::read_to_string(format!("{name}.truth.tsv")) else { return };
    let (mut found, mut all) = (0, 0);
    for row in truth.lines() {
        let f: Vec<&str> = row.split('\t').collect();
        let (Some(line), Some(ind)) = (f.first().and_then(|l| l.parse::<usize>().ok()), f.get(2)) else { continue };
        let Some(text) = lines.get(line) else { continue }; // 0-based
        all += 1;
        let r = m.scan_text_bytes(text, at);
        if r.matches.iter().any(|x| x.observable.eq_ignore_ascii_case(ind)) {
            found += 1;
        } else {
            println!("missed: {row}");
        }
    }
    println!("{name}: raw scanning finds {found} of the {all} planted hits");
    // what else it finds (the planted values elsewhere in their event, sub-domains, ...)
    let planted: std::collections::HashSet<(usize, String)> = truth
        .lines()
        .filter_map(|row| {
            let f: Vec<&str> = row.split('\t').collect();
            Some((f.first()?.parse().ok()?, f.get(2)?.to_ascii_lowercase()))
        })
        .collect();
    let mut other = std::collections::BTreeMap::<String, usize>::new();
    for (i, l) in lines.iter().enumerate() {
        for x in m.scan_text_bytes(l, at).matches {
            if !planted.contains(&(i, x.observable.to_ascii_lowercase())) {
                *other.entry(format!("{:?} {} ({})", x.kind, x.observable, x.value)).or_default() += 1;
            }
        }
    }
    for (what, n) in other.iter().take(20) {
        println!("  also found {n} x {what}");
    }
}

/// Seconds this thread has spent on a CPU (so that a busy machine does not skew the figure);
/// wall time where the kernel does not say.
fn thread_cpu() -> f64 {
    static START: OnceLock<std::time::Instant> = OnceLock::new();
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split_whitespace().next()?.parse::<u64>().ok())
        .map_or_else(|| START.get_or_init(std::time::Instant::now).elapsed().as_secs_f64(), |ns| ns as f64 / 1e9)
}

/// Seconds the whole process has spent on CPUs (user and system, all threads), in clock ticks
/// of 10 ms; 0 where the kernel does not say.
fn process_cpu() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // the fields after the command name (in parentheses): state, ppid, ... utime is the 14th
    // field of the line, the 12th of these, stime the next
    let f: Vec<&str> = stat.rsplit_once(')').map_or("", |r| r.1).split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
    (tick(11) + tick(12)) as f64 / 100.0
}

/// Throughput of one thread (CPU time, so that a busy machine does not skew it) and of the
/// stream, over ~100 MB of log lines, with no indicators (the tokenizer alone) and with the
/// shared benchmark's indicators:
///
/// ```text
/// cargo test --release -p iocmatch --test raw -- --ignored --nocapture raw_throughput
/// RAW_TSV=/tmp/iocmatch-bench/ind_10000000.tsv RAW_INDEX=/tmp/raw-10M.idx cargo test ...
/// ```
///
/// `RAW_TSV`: a `gen.py indicators` file (default `/tmp/iocmatch-bench/ind_1000000.tsv`; when
/// missing, `RAW_INDICATORS` random ones, default 1M); `RAW_INDEX`: a compiled index to load,
/// written there the first time; `RAW_CORPUS`: only the corpora whose name holds this.
#[test]
#[ignore = "a measurement: run in release mode with --ignored --nocapture"]
fn raw_throughput() {
    // the shared benchmark's indicators when they are there (RAW_TSV=path), else random ones
    let tsv = std::env::var("RAW_TSV").unwrap_or_else(|_| "/tmp/iocmatch-bench/ind_1000000.tsv".into());
    let t0 = std::time::Instant::now();
    // RAW_INDEX=path: reuse a compiled index (written there the first time)
    let cached = std::env::var("RAW_INDEX").ok();
    let index = match cached.as_deref().map(iocmatch::Index::load) {
        Some(Ok(index)) => index,
        _ => {
            let (source, indicators) = match tsv_indicators(&tsv) {
                Some(v) => (tsv, v),
                None => {
                    let n = std::env::var("RAW_INDICATORS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
                    ("random".to_string(), random_indicators(n))
                }
            };
            println!("{} indicators from {source}", indicators.len());
            let index = build_index(&indicators);
            if let Some(path) = &cached {
                index.save(path).unwrap();
            }
            index
        }
    };
    let index = Arc::new(index);
    println!("{} indicators ready in {:.1?} ({} MiB)", index.len(), t0.elapsed(), index.size_bytes() >> 20);
    let m = Matcher::new(index, &MatchOptions::default()).unwrap();
    let empty = Matcher::new(Arc::new(build_index(&[])), &MatchOptions::default()).unwrap();
    let at = Some(ts("2026-01-01T12:00:00Z"));
    let (name, lines) = corpus();
    recall(&m, &name, &lines, at);
    let mut corpora = vec![
        (name, lines),
        ("synthetic".to_string(), synthetic(100 << 20, true)),
        ("synthetic, random addresses".to_string(), synthetic(100 << 20, false)),
    ];
    if let Ok(only) = std::env::var("RAW_CORPUS") {
        corpora.retain(|c| c.0.contains(&only)); // e.g. RAW_CORPUS=synthetic
    }
    for (name, lines) in corpora {
        let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
        // one thread: the tokenizer alone (an empty index), then with the indicators
        for (what, m) in [("no indicators", &empty), ("1 thread", &m)] {
            let mut matches = 0usize;
            let (mut best, mut best_cpu) = (f64::MAX, f64::MAX);
            for _ in 0..3 {
                let (t, cpu) = (std::time::Instant::now(), thread_cpu());
                matches = 0;
                for l in &lines {
                    matches += m.scan_text_bytes(l, at).matches.len();
                }
                best = best.min(t.elapsed().as_secs_f64());
                best_cpu = best_cpu.min(thread_cpu() - cpu);
            }
            println!(
                "{name}: {} lines, {:.1} MB, {matches} matches: {what} {:.0} MB/s of CPU time ({:.0} MB/s wall, {:.2} us/line)",
                lines.len(),
                bytes as f64 / 1e6,
                bytes as f64 / 1e6 / best_cpu,
                bytes as f64 / 1e6 / best,
                best_cpu * 1e6 / lines.len() as f64
            );
        }
        // the stream, every core
        let mut input = Vec::with_capacity(bytes);
        for l in &lines {
            input.extend_from_slice(l);
            input.push(b'\n');
        }
        let (mut best, mut best_cpu, mut sum) = (f64::MAX, f64::MAX, None);
        for _ in 0..3 {
            let (t, cpu) = (std::time::Instant::now(), process_cpu());
            sum = Some(m.scan_text_stream(&input[..], at, &mut |_| Ok(())).unwrap());
            best = best.min(t.elapsed().as_secs_f64());
            best_cpu = best_cpu.min(process_cpu() - cpu);
        }
        let sum = sum.unwrap();
        println!(
            "{name}: stream on {} threads {:.0} MB/s wall ({:.0} MB/s per CPU second), {} events, {} matches",
            rayon::current_num_threads(),
            bytes as f64 / 1e6 / best,
            bytes as f64 / 1e6 / best_cpu,
            sum.events,
            sum.matches
        );
    }
}
