//! Field extraction from ECS JSON events (`iocmatch::event`): table-driven cases for every rule of
//! the module documentation, realistic events, and property tests against a reference extractor
//! and against serde_json's idea of validity.

use std::borrow::Cow;

use iocmatch::event::{parse_timestamp, scan_event, EventError, EventMeta, FieldPaths, FieldValue};
use iocmatch::{ErrorKind, Timestamp};
use proptest::prelude::*;
use serde_json::Value;

/// The ECS fields of the benchmark workload (`shared/bench/ecs_fields.txt`).
const ECS_FIELDS: &[&str] = &[
    "source.ip",
    "destination.ip",
    "client.ip",
    "server.ip",
    "host.ip",
    "source.nat.ip",
    "destination.nat.ip",
    "client.nat.ip",
    "server.nat.ip",
    "related.ip",
    "dns.resolved_ip",
    "observer.ip",
    "dns.answers.data",
    "source.domain",
    "destination.domain",
    "client.domain",
    "server.domain",
    "source.registered_domain",
    "destination.registered_domain",
    "client.registered_domain",
    "server.registered_domain",
    "dns.question.name",
    "dns.question.registered_domain",
    "url.domain",
    "url.registered_domain",
    "tls.client.server_name",
    "related.hosts",
    "url.original",
    "url.full",
    "http.request.referrer",
    "file.hash.md5",
    "file.hash.sha1",
    "file.hash.sha256",
    "file.hash.sha512",
    "process.hash.md5",
    "process.hash.sha1",
    "process.hash.sha256",
    "process.hash.sha512",
    "process.parent.hash.md5",
    "process.parent.hash.sha1",
    "process.parent.hash.sha256",
    "process.parent.hash.sha512",
    "dll.hash.md5",
    "dll.hash.sha1",
    "dll.hash.sha256",
    "dll.hash.sha512",
    "email.attachments.file.hash.md5",
    "email.attachments.file.hash.sha1",
    "email.attachments.file.hash.sha256",
    "email.attachments.file.hash.sha512",
    "related.hash",
    "email.from.address",
    "email.to.address",
    "email.cc.address",
    "email.bcc.address",
    "email.reply_to.address",
    "email.sender.address",
    "user.email",
    "source.user.email",
    "destination.user.email",
    "client.user.email",
    "server.user.email",
    "user.name",
    "source.user.name",
    "destination.user.name",
    "client.user.name",
    "server.user.name",
    "user.target.name",
    "process.user.name",
    "related.user",
];

type Found = Vec<(String, String)>;

/// Scan `json` for `paths`: the (path, value) pairs in order, and the meta.
fn scan_with(json: &[u8], paths: &FieldPaths) -> Result<(Found, EventMeta), EventError> {
    let mut found = Vec::new();
    let meta = scan_event(json, paths, &mut |v| found.push((paths.name(v.field).to_owned(), v.value.into_owned())))?;
    Ok((found, meta))
}

fn found(json: &str, paths: &[&str]) -> Found {
    match scan_with(json.as_bytes(), &FieldPaths::new(paths)) {
        Ok((f, _)) => f,
        Err(e) => panic!("{json}: {e}"),
    }
}

fn pairs(p: &[(&str, &str)]) -> Found {
    p.iter().map(|&(a, b)| (a.to_owned(), b.to_owned())).collect()
}

fn error(json: &[u8]) -> EventError {
    match scan_with(json, &FieldPaths::new(ECS_FIELDS)) {
        Ok(r) => panic!("{:?} was accepted: {r:?}", String::from_utf8_lossy(json)),
        Err(e) => e,
    }
}

#[test]
fn nested_dotted_and_mixed_keys_reach_the_same_path() {
    let paths = ["source.ip", "source.nat.ip", "dns.question.name", "a.b.c.d"];
    for (json, want) in [
        (r#"{"source":{"ip":"1.2.3.4"}}"#, vec![("source.ip", "1.2.3.4")]),
        (r#"{"source.ip":"1.2.3.4"}"#, vec![("source.ip", "1.2.3.4")]),
        (r#"{"source":{"nat.ip":"5.6.7.8"}}"#, vec![("source.nat.ip", "5.6.7.8")]),
        (r#"{"source.nat":{"ip":"5.6.7.8"}}"#, vec![("source.nat.ip", "5.6.7.8")]),
        (r#"{"source.nat.ip":"5.6.7.8"}"#, vec![("source.nat.ip", "5.6.7.8")]),
        (r#"{"dns.question":{"name":"evil.example"}}"#, vec![("dns.question.name", "evil.example")]),
        (r#"{"dns":{"question.name":"evil.example"}}"#, vec![("dns.question.name", "evil.example")]),
        (
            r#"{"a.b":{"c":{"d":"x"}},"a":{"b.c":{"d":"y"}},"a.b.c.d":"z"}"#,
            vec![("a.b.c.d", "x"), ("a.b.c.d", "y"), ("a.b.c.d", "z")],
        ),
        (
            r#"{"source":{"ip":"1.1.1.1","nat":{"ip":"2.2.2.2"},"port":53},"source.ip":"3.3.3.3"}"#,
            vec![("source.ip", "1.1.1.1"), ("source.nat.ip", "2.2.2.2"), ("source.ip", "3.3.3.3")],
        ),
        // Not these: other depths, prefixes, case, empty segments, the top level.
        (
            r#"{"ip":"x","nat":{"ip":"x"},"Source":{"ip":"x"},"source":{"IP":"x","ipx":"x","i":"x","ip.":"x"},
               "source.":{"ip":"x"},"source..ip":"x",".source.ip":"x","x":{"source":{"ip":"x"}},"sourceip":"x"}"#,
            vec![],
        ),
    ] {
        assert_eq!(found(json, &paths), pairs(&want), "{json}");
    }
}

#[test]
fn arrays_are_transparent_at_every_level() {
    let paths = ["related.ip", "email.to.address", "email.attachments.file.hash.sha256", "a.b"];
    for (json, want) in [
        (r#"{"related":{"ip":["10.0.0.1","10.0.0.2"]}}"#, vec![("related.ip", "10.0.0.1"), ("related.ip", "10.0.0.2")]),
        (r#"{"related.ip":[]}"#, vec![]),
        (
            r#"{"email":{"to":[{"address":["x@y"]},{"address":"z@w"},{},[],{"name":"n"}]}}"#,
            vec![("email.to.address", "x@y"), ("email.to.address", "z@w")],
        ),
        (
            r#"{"email":{"attachments":[{"file":{"name":"a.doc","hash":{"sha256":"aa","md5":"bb"}}},{"file.hash.sha256":"cc"}]}}"#,
            vec![("email.attachments.file.hash.sha256", "aa"), ("email.attachments.file.hash.sha256", "cc")],
        ),
        (r#"{"a":[[{"b":[["x"],"y"]}],[[]]]}"#, vec![("a.b", "x"), ("a.b", "y")]),
        (
            r#"{"a":[{"b":"1"},[{"b":["2",["3"]]}]],"a.b":[[["4"]]]}"#,
            vec![("a.b", "1"), ("a.b", "2"), ("a.b", "3"), ("a.b", "4")],
        ),
    ] {
        assert_eq!(found(json, &paths), pairs(&want), "{json}");
    }
}

#[test]
fn only_strings_are_reported() {
    let paths = ["a", "a.b", "email.from", "email.from.address"];
    for (json, want) in [
        (r#"{"a":1,"b":"x"}"#, vec![]),
        (r#"{"a":[1,-2.5e3,true,false,null,{},{"c":"x"},"s"]}"#, vec![("a", "s")]),
        (r#"{"a":{"b":"x"}}"#, vec![("a.b", "x")]),
        (r#"{"a":{"b":{"c":"x"}}}"#, vec![]),
        (r#"{"a":["s",{"b":"x"}]}"#, vec![("a", "s"), ("a.b", "x")]),
        (r#"{"email":{"from":{"address":"a@b"}}}"#, vec![("email.from.address", "a@b")]),
        (r#"{"email":{"from":"a@b"}}"#, vec![("email.from", "a@b")]),
        (r#"{"email":{"from":["a@b",{"address":"c@d"}]}}"#, vec![("email.from", "a@b"), ("email.from.address", "c@d")]),
        (r#"{"email.from":null,"email.from.address":7}"#, vec![]),
    ] {
        assert_eq!(found(json, &paths), pairs(&want), "{json}");
    }
}

#[test]
fn duplicate_keys_report_every_occurrence_in_document_order() {
    let json = r#"{"source":{"ip":"1"},"source":{"ip":"2","ip":"3"},"source.ip":"4"}"#;
    assert_eq!(
        found(json, &["source.ip"]),
        pairs(&[("source.ip", "1"), ("source.ip", "2"), ("source.ip", "3"), ("source.ip", "4")])
    );
}

#[test]
fn keys_match_exactly_after_unescaping() {
    let paths = ["source.ip", "é.ü", "a\"b.c"];
    for (json, want) in [
        (r#"{"sour\u0063e":{"\u0069p":"1"}}"#, vec![("source.ip", "1")]),
        (r#"{"source\u002eip":"2"}"#, vec![("source.ip", "2")]),
        (r#"{"\u00e9":{"\u00fc":"3"}}"#, vec![("é.ü", "3")]),
        (r#"{"é.ü":"4"}"#, vec![("é.ü", "4")]),
        (r#"{"a\"b":{"c":"5"}}"#, vec![("a\"b.c", "5")]),
        (r#"{"\u0053ource":{"ip":"x"},"source\u0000":{"ip":"x"}}"#, vec![]),
    ] {
        assert_eq!(found(json, &paths), pairs(&want), "{json}");
    }
}

#[test]
fn values_are_unescaped_and_borrowed_when_plain() {
    for (raw, want) in [
        (r#""plain""#, "plain"),
        (r#""""#, ""),
        (r#""a\"b\\c\/d""#, "a\"b\\c/d"),
        (r#""\b\f\n\r\t""#, "\u{8}\u{c}\n\r\t"),
        (r#""\u0041\u00e9\u20AC\uffff""#, "Aé€\u{ffff}"),
        (r#""\ud83d\ude00 \uD834\uDD1E""#, "😀 𝄞"),
        (r#""é€😀 raw""#, "é€😀 raw"),
        (r#""http:\/\/evil.example\/a?b=c""#, "http://evil.example/a?b=c"),
        (r#""\u0000""#, "\0"),
    ] {
        let json = format!(r#"{{"x":{{"v":{raw}}},"v":{raw}}}"#);
        let paths = FieldPaths::new(&["x.v", "v"]);
        let mut values = Vec::new();
        scan_event(json.as_bytes(), &paths, &mut |v: FieldValue<'_>| values.push(v)).unwrap();
        assert_eq!(values.len(), 2, "{json}");
        let first_offset = json.find(raw).unwrap();
        let last_offset = json.rfind(raw).unwrap();
        for (v, offset) in values.iter().zip([first_offset, last_offset]) {
            assert_eq!(v.value, want, "{json}");
            assert_eq!(v.offset, offset, "{json}");
            assert_eq!(matches!(v.value, Cow::Borrowed(_)), !raw.contains('\\'), "{json}");
        }
        assert_eq!((values[0].field, values[1].field), (0, 1));
    }
}

#[test]
fn timestamp_is_read_from_the_top_level() {
    let base = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
    for (json, want, bad) in [
        (r#"{"@timestamp":"2026-01-01T00:00:00.587Z"}"#, Some(base + 587_000), false),
        (r#"{"a":1,"@timestamp":"2026-01-01T01:00:00+01:00","b":2}"#, Some(base), false),
        (r#"{"@timestamp":"2026-01-01 00:00:00.5"}"#, Some(base + 500_000), false),
        (r#"{"@timestamp":1767225600587}"#, Some(base + 587_000), false),
        (r#"{"@timestamp":"1767225600587"}"#, Some(base + 587_000), false),
        (r#"{"@timestamp":1.767225600587e12}"#, Some(base + 587_000), false),
        (r#"{"@timestamp":"2026-01-0\u0031T00:00:00Z"}"#, Some(base), false),
        (r#"{"@timestamp":"yesterday"}"#, None, true),
        (r#"{"@timestamp":"2026-02-30T00:00:00Z"}"#, None, true),
        (r#"{"@timestamp":""}"#, None, true),
        (r#"{"@timestamp":true}"#, None, true),
        (r#"{"@timestamp":{"a":"2026-01-01T00:00:00Z"}}"#, None, true),
        (r#"{"@timestamp":1e400}"#, None, true),
        (r#"{"@timestamp":null}"#, None, false),
        (r#"{}"#, None, false),
        (r#"{"event":{"@timestamp":"2026-01-01T00:00:00Z"},"@timestamp.x":"2026-01-01T00:00:00Z"}"#, None, false),
        (r#"{"@timestamp":"bad","@timestamp":"2026-01-01T00:00:00Z"}"#, Some(base), false),
        (r#"{"@timestamp":"2026-01-01T00:00:00Z","@timestamp":"bad"}"#, None, true),
        (r#"{"@timestamp":["2026-01-01T00:00:00Z"]}"#, Some(base), false),
    ] {
        let (_, meta) = scan_with(json.as_bytes(), &FieldPaths::new(ECS_FIELDS)).unwrap();
        assert_eq!(meta, EventMeta { timestamp: want.map(Timestamp), bad_timestamp: bad }, "{json}");
    }
    // With `@timestamp.x` wanted, an object there is still a bad timestamp.
    let json = r#"{"@timestamp":{"x":"y"}}"#;
    let (f, meta) = scan_with(json.as_bytes(), &FieldPaths::new(&["@timestamp.x"])).unwrap();
    assert_eq!((f, meta), (pairs(&[("@timestamp.x", "y")]), EventMeta { timestamp: None, bad_timestamp: true }));
    // Asked for as a field, it is also reported.
    let json = r#"{"@timestamp":"2026-01-01T00:00:00Z"}"#;
    assert_eq!(found(json, &["@timestamp"]), pairs(&[("@timestamp", "2026-01-01T00:00:00Z")]));
    let (_, meta) = scan_with(json.as_bytes(), &FieldPaths::new(&["@timestamp"])).unwrap();
    assert_eq!(meta.timestamp, Some(Timestamp(base)));
    assert_eq!(parse_timestamp("2026-01-01T00:00:00Z"), Some(Timestamp(base)));
}

#[test]
fn whitespace_around_and_between_tokens_is_fine() {
    let json = "\r\n \t{ \"source\" :\n{\t\"ip\"\r:\"1.2.3.4\" , \"port\" : 1 } ,\n \"related\" : [ \"x\" ] }\r\n";
    let (f, _) = scan_with(json.as_bytes(), &FieldPaths::new(&["source.ip", "related"])).unwrap();
    assert_eq!(f, pairs(&[("source.ip", "1.2.3.4"), ("related", "x")]));
    assert!(scan_with(b"{}\r\n", &FieldPaths::new(ECS_FIELDS)).is_ok());
    assert!(scan_with(b"{}\n\n   ", &FieldPaths::new(ECS_FIELDS)).is_ok());
}

#[test]
fn invalid_json_is_an_error_naming_the_offset() {
    for (json, offset, message) in [
        (&b""[..], 0, "unexpected end of input"),
        (b"   ", 3, "unexpected end of input"),
        (b"[]", 0, "expected '{' (an event is a json object), found '['"),
        (b"\"s\"", 0, "expected '{'"),
        (b"1", 0, "expected '{'"),
        (b"{", 1, "unexpected end of input"),
        (b"{\"a\"", 4, "unexpected end of input"),
        (b"{\"a\":", 5, "unexpected end of input"),
        (b"{\"a\":1", 6, "unexpected end of input"),
        (b"{\"a", 3, "unexpected end of input in string"),
        (b"{\"a\":\"b", 7, "unexpected end of input in string"),
        (b"{\"a\":\"b\\", 8, "unexpected end of input in string"),
        (b"{\"a\" 1}", 5, "expected ':', found '1'"),
        (b"{\"a\":1 \"b\":2}", 7, "expected ',' or '}', found '\"'"),
        (b"{\"a\":[1 2]}", 8, "expected ',' or ']', found '2'"),
        (b"{\"a\":1,}", 7, "expected '\"' (an object key), found '}'"),
        (b"{\"a\":[1,]}", 8, "expected a value, found ']'"),
        (b"{,}", 1, "expected '\"' (an object key)"),
        (b"{a:1}", 1, "expected '\"' (an object key), found 'a'"),
        (b"{\"a\":tru}", 5, "invalid literal"),
        (b"{\"a\":nul}", 5, "invalid literal"),
        (b"{\"a\":True}", 5, "expected a value, found 'T'"),
        (b"{\"a\":01}", 6, "expected ',' or '}', found '1'"),
        (b"{\"a\":-}", 6, "invalid number"),
        (b"{\"a\":1.}", 7, "invalid number: expected a digit after '.'"),
        (b"{\"a\":1e}", 7, "invalid number: expected a digit in the exponent"),
        (b"{\"a\":.5}", 5, "expected a value, found '.'"),
        (b"{\"a\":+1}", 5, "expected a value, found '+'"),
        (b"{\"a\":[}", 6, "expected a value, found '}'"),
        (b"{\"a\":{]}", 6, "expected '\"' (an object key), found ']'"),
        (b"{\"a\":1}}", 7, "trailing characters after the event object"),
        (b"{} {}", 3, "trailing characters"),
        (b"{}\x00", 2, "trailing characters"),
        (b"{\"a\":\"\x01\"}", 6, "control character in string"),
        (b"{\"a\x0a\":1}", 3, "control character in string"),
        (b"{\"a\":\"\\x\"}", 6, "invalid escape"),
        (b"{\"a\":\"\\u12G4\"}", 6, "invalid \\u escape"),
        (b"{\"a\":\"\\ud800\"}", 6, "lone surrogate in \\u escape"),
        (b"{\"a\":\"\\udc00\\ud800\"}", 6, "lone surrogate"),
        (b"{\"a\":\"\\ud800\\u0041\"}", 6, "lone surrogate"),
        (b"{\"a\":\"\\ud800\\n\"}", 6, "lone surrogate"),
        (b"{\"a\":\"\xff\"}", 6, "invalid utf-8 in string"),
        (b"{\"source\":{\"ip\":\"\xc3\x28\"}}", 17, "invalid utf-8 in string"),
        (b"{\"\xed\xa0\x80\":1}", 2, "invalid utf-8 in string"),
        (b"{\"a\":1}\xef\xbb\xbf", 7, "trailing characters"),
        (b"\xef\xbb\xbf{}", 0, "expected '{' (an event is a json object), found byte 0xef"),
    ] {
        let e = error(json);
        assert_eq!(e.offset, offset, "{:?}: {e}", String::from_utf8_lossy(json));
        assert!(e.message.contains(message), "{:?}: {e}", String::from_utf8_lossy(json));
        assert!(e.to_string().starts_with(&format!("invalid json at byte {offset}: ")), "{e}");
        assert!(serde_json::from_slice::<Value>(json).map_or(true, |v| !v.is_object()), "{e}");
    }
}

#[test]
fn an_event_error_is_a_validation_error() {
    let e = error(b"{\"a\" 1}");
    assert_eq!(e.to_string(), "invalid json at byte 5: expected ':', found '1'");
    let e: iocmatch::Error = e.into();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(e.to_string(), "invalid json at byte 5: expected ':', found '1'");
    let _: &dyn std::error::Error = &error(b"{");
}

/// `depth` nested containers (`open` .. `close`) holding `1`, in an object: `depth + 1` levels.
fn nested(depth: usize, open: &str, close: &str) -> String {
    format!("{{\"a\":{}1{}}}", open.repeat(depth), close.repeat(depth))
}

#[test]
fn nesting_is_limited_like_serde_json_without_overflowing_the_stack() {
    // "a", "a.a", ... so that `{"a":{"a":...` is walked as wanted; `{"b":` is skipped.
    let deep: Vec<String> = (1..300).map(|n| vec!["a"; n].join(".")).collect();
    let paths = FieldPaths::new(&deep);
    for depth in [120, 125, 126, 127, 128, 200] {
        for (open, close) in [("[", "]"), ("{\"a\":", "}"), ("{\"b\":", "}"), ("[{\"a\":", "}]")] {
            let json = nested(depth, open, close);
            let ours = scan_with(json.as_bytes(), &paths);
            let theirs = serde_json::from_slice::<Value>(json.as_bytes());
            assert_eq!(ours.is_ok(), theirs.is_ok(), "depth {depth} {open}: {ours:?} / {theirs:?}");
            let levels = depth * open.matches(['[', '{']).count() + 1;
            assert_eq!(ours.is_ok(), levels <= 127, "depth {depth} {open}");
        }
    }
    let e = error(nested(127, "[", "]").as_bytes()).to_string();
    assert!(e.contains("nesting deeper than 127 levels"), "{e}");
    let (f, _) = scan_with(nested(125, "{\"a\":", "}").replace('1', "\"x\"").as_bytes(), &paths).unwrap();
    assert_eq!(f, pairs(&[(&deep[125], "x")]));
    // Far deeper than any stack would allow for naive recursion.
    for (open, close) in [("[", "]"), ("{\"a\":", "}"), ("{\"b\":", "}")] {
        let json = nested(1_000_000, open, close);
        assert!(scan_with(json.as_bytes(), &paths).is_err());
        assert!(scan_with(&json.as_bytes()[..json.len() / 2], &paths).is_err());
    }
}

#[test]
fn invalid_utf8_and_lone_surrogates_are_rejected_even_where_skipped() {
    // The documented choice: agree with serde_json::Value, which rejects both anywhere.
    for json in [
        &b"{\"event\":{\"x\":\"\xff\"}}"[..],
        b"{\"\xff\":1}",
        b"{\"event\":{\"x\":\"\\udead\"}}",
        b"{\"event\":[\"\\ud83d\"]}",
        b"{\"event\":\"\xe2\x82\"}",
        b"{\"event\":\"\xf4\x90\x80\x80\"}",
        b"{\"event\":\"\xc0\xaf\"}",
    ] {
        error(json);
        assert!(serde_json::from_slice::<Value>(json).is_err());
    }
}

#[test]
fn numbers_too_large_for_f64_are_accepted_unlike_serde_json() {
    // The one deliberate difference with serde_json::Value on validity.
    let json = br#"{"event":{"n":1e400},"source":{"ip":"1.2.3.4"}}"#;
    assert!(serde_json::from_slice::<Value>(json).is_err());
    assert_eq!(scan_with(json, &FieldPaths::new(ECS_FIELDS)).unwrap().0, pairs(&[("source.ip", "1.2.3.4")]));
}

#[test]
fn field_paths_api() {
    let p = FieldPaths::new(&["source.ip".to_owned(), "related.ip".to_owned(), "source.ip".to_owned()]);
    assert_eq!((p.len(), p.is_empty()), (3, false));
    assert_eq!((p.name(0), p.name(1), p.name(2)), ("source.ip", "related.ip", "source.ip"));
    assert_eq!((p.id("source.ip"), p.id("related.ip"), p.id("related")), (Some(0), Some(1), None));
    // A path listed twice: its first id gets the values.
    let (f, _) = scan_with(br#"{"source":{"ip":"1"}}"#, &p).unwrap();
    assert_eq!(f, pairs(&[("source.ip", "1")]));
    let mut ids = Vec::new();
    scan_event(br#"{"source":{"ip":"1"}}"#, &p, &mut |v| ids.push(v.field)).unwrap();
    assert_eq!(ids, [0]);
    let empty = FieldPaths::new::<&str>(&[]);
    assert!(empty.is_empty());
    let (f, meta) = scan_with(br#"{"@timestamp":"2026-01-01T00:00:00Z","source":{"ip":"1"}}"#, &empty).unwrap();
    assert!(f.is_empty() && meta.timestamp.is_some());
    fn send_sync<T: Send + Sync + Clone>() {}
    send_sync::<FieldPaths>();
    send_sync::<EventError>();
}

// --- Realistic events -----------------------------------------------------------------------

/// Hand-written ECS events and the (field, value) pairs they must give, in order.
/// (event, expected (field, value) pairs, expected @timestamp in ms).
type Realistic = Vec<(&'static str, Vec<(&'static str, &'static str)>, Option<i64>)>;

fn realistic() -> Realistic {
    vec![
        (
            r#"{"@timestamp":"2026-01-01T00:00:00.587Z","ecs":{"version":"8.11.0"},"event":{"kind":"event","category":["web"],"type":["access"],"dataset":"proxy.access","module":"proxy","id":"fe4bb6cea9d5b94e"},"host":{"name":"ws-05049.example-corp.com","hostname":"ws-05049","ip":["10.0.19.185"],"os":{"family":"linux"}},"agent":{"type":"filebeat","version":"8.13.4","id":"c18ae31b-d04c-a8b0-e821-02893c09bc6c","name":"ws-05049"},"observer":{"vendor":"Elastic","product":"proxy"},"source":{"ip":"172.19.64.189","port":35911},"destination":{"ip":"13.172.60.184","port":443,"domain":"s3.us-east-1.youtube.com"},"url":{"original":"https://s3.us-east-1.youtube.com/login","domain":"s3.us-east-1.youtube.com","path":"/login","scheme":"https"},"http":{"request":{"method":"POST","referrer":"https://update.reddit.com/"},"response":{"status_code":302,"bytes":449625}},"user_agent":{"original":"Microsoft-CryptoAPI/10.0"},"user":{"name":"jwilliams"},"related":{"ip":["172.19.64.189","13.172.60.184"],"hosts":["s3.us-east-1.youtube.com"],"user":["jwilliams"]}}"#,
            vec![
                ("host.ip", "10.0.19.185"),
                ("source.ip", "172.19.64.189"),
                ("destination.ip", "13.172.60.184"),
                ("destination.domain", "s3.us-east-1.youtube.com"),
                ("url.original", "https://s3.us-east-1.youtube.com/login"),
                ("url.domain", "s3.us-east-1.youtube.com"),
                ("http.request.referrer", "https://update.reddit.com/"),
                ("user.name", "jwilliams"),
                ("related.ip", "172.19.64.189"),
                ("related.ip", "13.172.60.184"),
                ("related.hosts", "s3.us-east-1.youtube.com"),
                ("related.user", "jwilliams"),
            ],
            Some(1_767_225_600_587_000),
        ),
        (
            r#"{"@timestamp":"2026-01-01T00:00:03.120Z","event":{"category":["network"],"type":["protocol"],"dataset":"zeek.dns"},"source":{"ip":"10.0.3.7","port":5353},"destination":{"ip":"10.0.0.53","port":53},"dns":{"question":{"name":"c2.evil-domain.example","registered_domain":"evil-domain.example","type":"A"},"answers":[{"data":"198.51.100.7","type":"A","ttl":60},{"data":"cdn.evil-domain.example","type":"CNAME"}],"resolved_ip":["198.51.100.7"],"response_code":"NOERROR"},"network":{"transport":"udp","protocol":"dns"},"related":{"ip":["10.0.3.7","10.0.0.53","198.51.100.7"],"hosts":["c2.evil-domain.example"]}}"#,
            vec![
                ("source.ip", "10.0.3.7"),
                ("destination.ip", "10.0.0.53"),
                ("dns.question.name", "c2.evil-domain.example"),
                ("dns.question.registered_domain", "evil-domain.example"),
                ("dns.answers.data", "198.51.100.7"),
                ("dns.answers.data", "cdn.evil-domain.example"),
                ("dns.resolved_ip", "198.51.100.7"),
                ("related.ip", "10.0.3.7"),
                ("related.ip", "10.0.0.53"),
                ("related.ip", "198.51.100.7"),
                ("related.hosts", "c2.evil-domain.example"),
            ],
            Some(1_767_225_603_120_000),
        ),
        (
            r#"{"@timestamp":"2026-01-01T00:01:00Z","event":{"category":["email"],"dataset":"o365.mail"},"email":{"from":{"address":["Billing <billing@pay-portal.example>"]},"sender":{"address":"bounce@mailer.example"},"to":{"address":["alice@example-corp.com","bob@example-corp.com"]},"cc":{"address":[]},"reply_to":{"address":["refunds@pay-portal.example"]},"subject":"Invoice \"Q4\" \u2014 overdue","attachments":[{"file":{"name":"invoice.pdf.exe","size":48213,"hash":{"md5":"d41d8cd98f00b204e9800998ecf8427e","sha256":"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"}}},{"file":{"name":"logo.png","hash":{"sha1":"da39a3ee5e6b4b0d3255bfef95601890afd80709"}}}],"message_id":"<abc@pay-portal.example>"},"related":{"hash":["d41d8cd98f00b204e9800998ecf8427e"],"user":["alice","bob"]}}"#,
            vec![
                ("email.from.address", "Billing <billing@pay-portal.example>"),
                ("email.sender.address", "bounce@mailer.example"),
                ("email.to.address", "alice@example-corp.com"),
                ("email.to.address", "bob@example-corp.com"),
                ("email.reply_to.address", "refunds@pay-portal.example"),
                ("email.attachments.file.hash.md5", "d41d8cd98f00b204e9800998ecf8427e"),
                ("email.attachments.file.hash.sha256", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"),
                ("email.attachments.file.hash.sha1", "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
                ("related.hash", "d41d8cd98f00b204e9800998ecf8427e"),
                ("related.user", "alice"),
                ("related.user", "bob"),
            ],
            Some(1_767_225_660_000_000),
        ),
        (
            // Flattened (dotted) keys, as some shippers write them, and an epoch-millisecond timestamp.
            r#"{"@timestamp":1767225600000,"event.category":["process"],"process.name":"powershell.exe","process.pid":4242,"process.hash.sha256":"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","process.parent.hash.md5":"098f6bcd4621d373cade4e832627b4f6","process.user.name":"SYSTEM","process.args":["-enc","SQBFAFgA"],"file.hash.sha1":"a94a8fe5ccb19ba61c4c0873d391e987982fbbd3","dll.hash":{"sha512":"ee26b0dd4af7e749aa1a8ee3c10ae9923f618980772e473f8819a5d4940e0db27ac185f8a0e1d5f84f88bc887fd67b143732c304cc5fa9ad8e6f57f50028a8ff"},"user.name":"admin","host.ip":"10.0.5.5"}"#,
            vec![
                ("process.hash.sha256", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"),
                ("process.parent.hash.md5", "098f6bcd4621d373cade4e832627b4f6"),
                ("process.user.name", "SYSTEM"),
                ("file.hash.sha1", "a94a8fe5ccb19ba61c4c0873d391e987982fbbd3"),
                (
                    "dll.hash.sha512",
                    "ee26b0dd4af7e749aa1a8ee3c10ae9923f618980772e473f8819a5d4940e0db27ac185f8a0e1d5f84f88bc887fd67b143732c304cc5fa9ad8e6f57f50028a8ff",
                ),
                ("user.name", "admin"),
                ("host.ip", "10.0.5.5"),
            ],
            Some(1_767_225_600_000_000),
        ),
        (
            // Escapes, unicode, numbers, booleans and nulls around the wanted fields; TLS and NAT.
            r#"{"@timestamp":"2026-01-01T02:00:00.000001+02:00","message":"conn\tfrom \"10.1.1.1\"\n\u00e9t\u00e9 \ud83d\ude00","event":{"duration":1.5e9,"risk_score":-0.25,"ok":true,"x":null},"source":{"ip":"10.1.1.1","nat":{"ip":"203.0.113.9","port":40000},"user":{"name":"J\u00fcrgen","email":"j\u00fcrgen@b\u00fccher.example"}},"destination":{"ip":"2001:db8::1","nat.ip":"198.51.100.2","domain":"xn--bcher-kva.example","user":{"email":null}},"tls":{"client":{"server_name":"b\u00fccher.example","ja3":"abc"},"established":true},"url":{"full":"https:\/\/b\u00fccher.example\/p?q=\"x\"","original":"https://bücher.example/p"},"observer":{"ip":["192.0.2.1",null,"192.0.2.2"]}}"#,
            vec![
                ("source.ip", "10.1.1.1"),
                ("source.nat.ip", "203.0.113.9"),
                ("source.user.name", "Jürgen"),
                ("source.user.email", "jürgen@bücher.example"),
                ("destination.ip", "2001:db8::1"),
                ("destination.nat.ip", "198.51.100.2"),
                ("destination.domain", "xn--bcher-kva.example"),
                ("tls.client.server_name", "bücher.example"),
                ("url.full", "https://bücher.example/p?q=\"x\""),
                ("url.original", "https://bücher.example/p"),
                ("observer.ip", "192.0.2.1"),
                ("observer.ip", "192.0.2.2"),
            ],
            Some(1_767_225_600_000_001),
        ),
        (
            // Pretty-printed, with CRLF line ends, and a bad timestamp.
            "{\r\n  \"@timestamp\": \"01/01/2026 00:00\",\r\n  \"client\": {\r\n    \"ip\": \"10.9.8.7\",\r\n    \"registered_domain\": \"example.org\",\r\n    \"user\": { \"name\": \"svc_backup\" }\r\n  },\r\n  \"server\": {\r\n    \"ip\": \"10.9.8.1\",\r\n    \"domain\": \"files.example.org\"\r\n  },\r\n  \"user\": { \"target\": { \"name\": \"root\" }, \"email\": \"ops@example.org\" },\r\n  \"related\": { \"user\": [ \"svc_backup\", \"root\" ] }\r\n}\r\n",
            vec![
                ("client.ip", "10.9.8.7"),
                ("client.registered_domain", "example.org"),
                ("client.user.name", "svc_backup"),
                ("server.ip", "10.9.8.1"),
                ("server.domain", "files.example.org"),
                ("user.target.name", "root"),
                ("user.email", "ops@example.org"),
                ("related.user", "svc_backup"),
                ("related.user", "root"),
            ],
            None,
        ),
    ]
}

#[test]
fn realistic_events_give_exactly_their_fields() {
    let paths = FieldPaths::new(ECS_FIELDS);
    for (json, want, ts) in realistic() {
        let (f, meta) = scan_with(json.as_bytes(), &paths).unwrap_or_else(|e| panic!("{json}: {e}"));
        assert_eq!(f, pairs(&want), "{json}");
        assert_eq!(meta.timestamp.map(Timestamp::micros), ts, "{json}");
        assert_eq!(meta.bad_timestamp, ts.is_none(), "{json}");
        assert!(serde_json::from_str::<Value>(json).unwrap().is_object());
        assert_eq!(reference_from_value(&serde_json::from_str(json).unwrap(), &paths).len(), want.len());
    }
}

#[test]
fn many_threads_share_one_field_paths() {
    let paths = FieldPaths::new(ECS_FIELDS);
    let events = realistic();
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..200 {
                    for (json, want, _) in &events {
                        assert_eq!(scan_with(json.as_bytes(), &paths).unwrap().0, pairs(want));
                    }
                }
            });
        }
    });
}

/// Every line of a generated NDJSON file (`IOCMATCH_EVENTS=/tmp/ev.jsonl`, made by
/// `shared/bench/gen.py events`) gives what the serde_json reference finds:
/// `IOCMATCH_EVENTS=/tmp/ev.jsonl cargo test --release --test event -- --ignored`.
#[test]
#[ignore = "needs IOCMATCH_EVENTS, a generated NDJSON file"]
fn generated_events_agree_with_serde_json() {
    let Ok(path) = std::env::var("IOCMATCH_EVENTS") else {
        eprintln!("IOCMATCH_EVENTS is not set: nothing to check");
        return;
    };
    let data = std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {path}: {e}"));
    let paths = FieldPaths::new(ECS_FIELDS);
    let mut checked = 0;
    for (n, line) in data.split(|&b| b == b'\n').filter(|l| !l.is_empty()).enumerate() {
        let mut got = Vec::new();
        let meta = scan_event(line, &paths, &mut |v| got.push((v.field, v.value.into_owned())))
            .unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        let value: Value = serde_json::from_slice(line).unwrap_or_else(|e| panic!("line {}: {e}", n + 1));
        let mut want = reference_from_value(&value, &paths);
        got.sort();
        want.sort();
        assert_eq!(got, want, "line {}", n + 1);
        let ts = value["@timestamp"].as_str().and_then(parse_timestamp);
        assert_eq!(meta.timestamp, ts, "line {}", n + 1);
        checked += 1;
    }
    assert!(checked > 0, "{path} holds no events");
}

/// The pairs a serde_json `Value` holds at wanted paths (no duplicate keys there), unordered.
fn reference_from_value(v: &Value, paths: &FieldPaths) -> Vec<(u32, String)> {
    fn walk(v: &Value, path: Option<&str>, paths: &FieldPaths, out: &mut Vec<(u32, String)>) {
        match v {
            Value::String(s) => {
                if let Some(id) = path.and_then(|p| paths.id(p)) {
                    out.push((id, s.clone()));
                }
            }
            Value::Array(a) => a.iter().for_each(|x| walk(x, path, paths, out)),
            Value::Object(m) => {
                for (k, x) in m {
                    let p = path.map_or_else(|| k.clone(), |p| format!("{p}.{k}"));
                    walk(x, Some(&p), paths, out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, None, paths, &mut out);
    out
}

// --- Property tests -------------------------------------------------------------------------

/// A JSON value that keeps key order and duplicate keys (unlike `serde_json::Value`).
#[derive(Debug, Clone)]
enum J {
    Null,
    Bool(bool),
    /// The text of a number.
    Num(String),
    Str(String),
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

/// Paths wanted in the property tests: nested, overlapping, with odd segments.
const PROP_PATHS: &[&str] = &[
    "source.ip",
    "source.nat.ip",
    "dns.question.name",
    "email.to.address",
    "email.from",
    "email.from.address",
    "related.ip",
    "file.hash.sha256",
    "a",
    "a.b",
    "a.b.c",
    "x.y.a",
    "é.ip",
    "",
    "a..b",
    "q\"\\.ip",
    "@timestamp",
    "sourceip",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => prop::sample::select(vec![
            "source", "ip", "nat", "dns", "question", "name", "email", "to", "from", "address", "related", "file",
            "hash", "sha256", "a", "b", "c", "x.y", "x", "y", "", "é", "q\"\\", "source.ip", "a.b", "nat.ip", "port",
            "@timestamp", "sourceip", "Source", "ip.", ".a",
        ])
        .prop_map(str::to_owned),
        1 => "[a-z.@]{0,6}",
        1 => any::<String>(),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z0-9.:@/-]{0,24}",
        2 => any::<String>(),
        1 => "[\"\\\\/\u{0}-\u{1f}\u{7f}é€😀]{0,8}",
        1 => prop::sample::select(vec![
            "2026-01-01T00:00:00.587Z", "2026-01-01T01:00:00+01:00", "1767225600587", "not a time", "",
        ])
        .prop_map(str::to_owned),
    ]
}

fn json_value() -> impl Strategy<Value = J> {
    let leaf = prop_oneof![
        1 => Just(J::Null),
        1 => any::<bool>().prop_map(J::Bool),
        2 => "-?(0|[1-9][0-9]{0,12})(\\.[0-9]{1,6})?([eE][+-]?[0-9]{1,2})?".prop_map(J::Num),
        6 => text().prop_map(J::Str),
    ];
    leaf.prop_recursive(6, 96, 8, |inner| {
        prop_oneof![
            1 => prop::collection::vec(inner.clone(), 0..6).prop_map(J::Arr),
            2 => prop::collection::vec((key(), inner), 0..8).prop_map(J::Obj),
        ]
    })
}

/// A member leading to a wanted path: its segments grouped into dotted keys at random, with
/// random arrays around the levels, ending in a string (mostly) or any value.
fn planted() -> impl Strategy<Value = (String, J)> {
    let leaf = prop_oneof![3 => text().prop_map(J::Str), 1 => json_value()];
    (prop::sample::select(PROP_PATHS), leaf, prop::collection::vec(0..6u8, 8)).prop_map(|(path, leaf, choices)| {
        let segments: Vec<&str> = path.split('.').collect();
        let mut groups: Vec<String> = vec![segments[0].to_owned()];
        for (i, seg) in segments.iter().enumerate().skip(1) {
            if choices[i % choices.len()] == 0 {
                let last = groups.last_mut().expect("one group");
                last.push('.');
                last.push_str(seg);
            } else {
                groups.push((*seg).to_owned());
            }
        }
        let mut value = leaf;
        for (i, group) in groups.iter().enumerate().rev() {
            if choices[(i + 3) % choices.len()] == 5 {
                value = J::Arr(vec![J::Null, value]);
            }
            if i > 0 {
                value = J::Obj(vec![(group.clone(), value)]);
            }
        }
        (groups.swap_remove(0), value)
    })
}

fn event() -> impl Strategy<Value = J> {
    let member = prop_oneof![2 => (key(), json_value()), 1 => planted()];
    prop::collection::vec(member, 0..10).prop_map(J::Obj)
}

/// A tiny deterministic generator for the serialiser's choices.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// How to serialise: flatten objects into dotted keys, escape optional characters, add whitespace.
struct Style {
    rng: Rng,
    flatten: u64,
    escape: u64,
    space: u64,
}

impl Style {
    fn ws(&mut self, out: &mut String) {
        while self.space > 0 && self.rng.chance(self.space) {
            out.push([' ', '\n', '\t', '\r'][(self.rng.next() % 4) as usize]);
        }
    }

    fn string(&mut self, s: &str, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            let must = c == '"' || c == '\\' || c < ' ';
            if !must && !self.rng.chance(self.escape) {
                out.push(c);
                continue;
            }
            let short = match c {
                '"' => Some("\\\""),
                '\\' => Some("\\\\"),
                '/' => Some("\\/"),
                '\u{8}' => Some("\\b"),
                '\u{c}' => Some("\\f"),
                '\n' => Some("\\n"),
                '\r' => Some("\\r"),
                '\t' => Some("\\t"),
                _ => None,
            };
            match short {
                Some(e) if self.rng.chance(70) => out.push_str(e),
                _ => {
                    let mut units = [0u16; 2];
                    for u in c.encode_utf16(&mut units) {
                        if self.rng.chance(50) {
                            out.push_str(&format!("\\u{u:04x}"));
                        } else {
                            out.push_str(&format!("\\u{u:04X}"));
                        }
                    }
                }
            }
        }
        out.push('"');
    }

    fn value(&mut self, v: &J, out: &mut String) {
        match v {
            J::Null => out.push_str("null"),
            J::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            J::Num(n) => out.push_str(n),
            J::Str(s) => self.string(s, out),
            J::Arr(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        self.ws(out);
                        out.push(',');
                    }
                    self.ws(out);
                    self.value(x, out);
                }
                self.ws(out);
                out.push(']');
            }
            J::Obj(m) => {
                out.push('{');
                let mut members = Vec::new();
                for (k, x) in m {
                    self.flattened(k, x, &mut members);
                }
                for (i, (k, x)) in members.iter().enumerate() {
                    if i > 0 {
                        self.ws(out);
                        out.push(',');
                    }
                    self.ws(out);
                    self.string(k, out);
                    self.ws(out);
                    out.push(':');
                    self.ws(out);
                    self.value(x, out);
                }
                self.ws(out);
                out.push('}');
            }
        }
    }

    /// The members `k: x` becomes, with non-empty objects sometimes lifted into dotted keys.
    fn flattened<'v>(&mut self, k: &str, x: &'v J, members: &mut Vec<(String, &'v J)>) {
        match x {
            J::Obj(m) if !m.is_empty() && k != "@timestamp" && self.rng.chance(self.flatten) => {
                for (k2, x2) in m {
                    self.flattened(&format!("{k}.{k2}"), x2, members);
                }
            }
            _ => members.push((k.to_owned(), x)),
        }
    }
}

fn serialise(v: &J, seed: u64) -> String {
    let mut rng = Rng(seed | 1);
    let flatten = [0, 30, 100][(rng.next() % 3) as usize];
    let escape = [0, 0, 10, 100][(rng.next() % 4) as usize];
    let space = [0, 0, 20, 60][(rng.next() % 4) as usize];
    let mut style = Style { rng, flatten, escape, space };
    let mut out = String::new();
    style.ws(&mut out);
    style.value(v, &mut out);
    style.ws(&mut out);
    out
}

/// The reference extractor: (field, value) pairs in document order, and the meta.
fn reference(v: &J, paths: &FieldPaths) -> (Vec<(u32, String)>, EventMeta) {
    fn walk(v: &J, path: Option<&str>, paths: &FieldPaths, out: &mut Vec<(u32, String)>) {
        match v {
            J::Str(s) => {
                if let Some(id) = path.and_then(|p| paths.id(p)) {
                    out.push((id, s.clone()));
                }
            }
            J::Arr(a) => a.iter().for_each(|x| walk(x, path, paths, out)),
            J::Obj(m) => {
                for (k, x) in m {
                    let p = path.map_or_else(|| k.clone(), |p| format!("{p}.{k}"));
                    walk(x, Some(&p), paths, out);
                }
            }
            _ => {}
        }
    }
    fn timestamp(v: &J, meta: &mut EventMeta) {
        let mut set = |t: Option<Timestamp>| *meta = EventMeta { timestamp: t, bad_timestamp: t.is_none() };
        match v {
            J::Null => {}
            J::Str(s) => set(parse_timestamp(s)),
            J::Num(n) => set(parse_timestamp(n)),
            J::Bool(_) | J::Obj(_) => set(None),
            J::Arr(a) => a.iter().for_each(|x| timestamp(x, meta)),
        }
    }
    let mut out = Vec::new();
    walk(v, None, paths, &mut out);
    let mut meta = EventMeta::default();
    if let J::Obj(m) = v {
        m.iter().filter(|(k, _)| k == "@timestamp").for_each(|(_, x)| timestamp(x, &mut meta));
    }
    (out, meta)
}

/// Validity as serde_json sees it, mapped to ours: (accepted, an allowed disagreement).
fn serde_verdict(json: &[u8]) -> (bool, bool) {
    match serde_json::from_slice::<Value>(json) {
        Ok(v) => (v.is_object(), false),
        Err(e) => (false, e.to_string().contains("number out of range")),
    }
}

fn check_validity(json: &[u8]) -> Result<(), TestCaseError> {
    let ours = scan_event(json, &FieldPaths::new(PROP_PATHS), &mut |_| {});
    let (theirs, exception) = serde_verdict(json);
    if !exception {
        prop_assert_eq!(ours.is_ok(), theirs, "{:?}: {:?}", String::from_utf8_lossy(json), ours);
    }
    if let Err(e) = ours {
        prop_assert!(e.offset <= json.len());
    }
    Ok(())
}

/// Valid events to mutate: the realistic ones and serialised random ones.
fn corpus() -> impl Strategy<Value = Vec<u8>> {
    let fixed: Vec<Vec<u8>> = realistic().into_iter().map(|(j, _, _)| j.as_bytes().to_vec()).collect();
    prop_oneof![
        1 => prop::sample::select(fixed),
        1 => (event(), any::<u64>()).prop_map(|(v, seed)| serialise(&v, seed).into_bytes()),
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Insert(usize, u8),
    Delete(usize),
    Truncate(usize),
    Duplicate(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let byte = prop_oneof![
        3 => prop::sample::select(b"{}[]\":,\\ \n\t0123456789.eE+-tfnrlsua/".to_vec()),
        1 => any::<u8>(),
    ];
    prop_oneof![
        3 => (any::<usize>(), byte.clone()).prop_map(|(i, b)| Mutation::Set(i, b)),
        2 => (any::<usize>(), byte).prop_map(|(i, b)| Mutation::Insert(i, b)),
        2 => any::<usize>().prop_map(Mutation::Delete),
        1 => any::<usize>().prop_map(Mutation::Truncate),
        1 => (any::<usize>(), 1..40usize).prop_map(|(i, n)| Mutation::Duplicate(i, n)),
    ]
}

fn mutate(mut v: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let n = v.len().max(1);
        match *m {
            Mutation::Set(i, b) if !v.is_empty() => v[i % n] = b,
            Mutation::Insert(i, b) => v.insert(i % (v.len() + 1), b),
            Mutation::Delete(i) if !v.is_empty() => {
                v.remove(i % n);
            }
            Mutation::Truncate(i) => v.truncate(i % n),
            Mutation::Duplicate(i, len) if !v.is_empty() => {
                let start = i % n;
                let piece = v[start..(start + len).min(v.len())].to_vec();
                v.splice(start..start, piece);
            }
            _ => {}
        }
    }
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, ..ProptestConfig::default() })]

    /// scan_event finds exactly what the reference extractor finds, in the same order, on random
    /// events serialised nested, flattened, escaped and spaced in random ways.
    #[test]
    fn agrees_with_the_reference_extractor(v in event(), seed in any::<u64>()) {
        let json = serialise(&v, seed);
        let paths = FieldPaths::new(PROP_PATHS);
        let (want, want_meta) = reference(&v, &paths);
        let mut got = Vec::new();
        let result = scan_event(json.as_bytes(), &paths, &mut |f| got.push(f));
        prop_assert!(serde_json::from_str::<Value>(&json).is_ok(), "serialiser bug: {}", json);
        let meta = result.map_err(|e| TestCaseError::fail(format!("{json}: {e}")))?;
        prop_assert_eq!(meta, want_meta, "{}", json);
        let pairs: Vec<(u32, String)> = got.iter().map(|f| (f.field, f.value.to_string())).collect();
        prop_assert_eq!(&pairs, &want, "{}", json);
        for w in got.windows(2) {
            prop_assert!(w[0].offset < w[1].offset);
        }
        for f in &got {
            prop_assert_eq!(json.as_bytes()[f.offset], b'"');
            if let Cow::Borrowed(s) = f.value {
                prop_assert_eq!(&json[f.offset + 1..f.offset + 1 + s.len()], s);
                prop_assert_eq!(json.as_bytes()[f.offset + 1 + s.len()], b'"');
            }
        }
    }

    /// Mutated events: never a panic, and valid exactly when serde_json says so.
    #[test]
    fn mutated_events_are_valid_exactly_when_serde_json_says_so(
        base in corpus(),
        mutations in prop::collection::vec(mutation(), 1..4),
    ) {
        check_validity(&mutate(base, &mutations))?;
    }

    /// Arbitrary bytes: never a panic, and valid exactly when serde_json says so.
    #[test]
    fn arbitrary_bytes_never_panic(
        bytes in prop_oneof![
            prop::collection::vec(any::<u8>(), 0..64),
            prop::collection::vec(prop::sample::select(b"{}[]\":,\\ 0123456789.eE+-truefalsn\xc3\xa9\xff".to_vec()), 0..64),
            prop::collection::vec(any::<u8>(), 0..64).prop_map(|mut v| { v.insert(0, b'{'); v }),
        ],
    ) {
        check_validity(&bytes)?;
    }
}
