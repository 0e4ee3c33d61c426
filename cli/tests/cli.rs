//! The CLI end to end: every command, JSON output, and one-line errors on bad input.

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_iocmatch");

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("--db").arg(db).args(args).env_remove("IOCMATCH_DB").output().unwrap()
}

fn ok_json(db: &Path, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let out = run(db, &a);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{args:?}: {e}: {}", String::from_utf8_lossy(&out.stdout)))
}

fn fails(db: &Path, args: &[&str], needle: &str) {
    let out = run(db, args);
    assert!(!out.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("iocmatch: error: "), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line expected: {err}");
    assert!(err.contains(needle), "{args:?}: '{needle}' not in {err}");
}

#[test]
fn tour_of_every_command() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let feed = dir.path().join("feed.txt");
    std::fs::write(&feed, "evil[.]example\n1.2.3.4:8080\nnot an ioc\n").unwrap();

    let t = ok_json(&db, &["threat", "add", "APT29", "--alias", "APT-29"]);
    assert!(t["id"].as_str().unwrap().starts_with("intrusion-set--"));
    assert_eq!(ok_json(&db, &["threat", "list"]).as_array().unwrap().len(), 1);
    let c = ok_json(&db, &["collection", "create", "feed", "--description", "demo"]);
    let cid = c["id"].as_str().unwrap().to_string();
    ok_json(&db, &["community", "create", "tenant"]);
    assert_eq!(ok_json(&db, &["community", "list"]).as_array().unwrap().len(), 2);

    let r = ok_json(
        &db,
        &[
            "import",
            "text",
            "feed",
            feed.to_str().unwrap(),
            "--threat",
            "apt-29",
            "--kill-chain",
            "c2",
            "--valid-from",
            "2024-01-01",
        ],
    );
    assert_eq!((r["lines"].as_u64(), r["imported"].as_u64()), (Some(3), Some(2)));
    assert_eq!(r["rejected"][0]["line"], 3);

    // stdin, forced kind
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(&db)
        .args(["import", "text", &cid, "-", "--kind", "username", "--json"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(b"jdoe\nAdministrator\n").unwrap();
    let out = child.wait_with_output().unwrap();
    let r: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(r["imported"], 2);

    let batch = dir.path().join("b.json");
    std::fs::write(
        &batch,
        r#"{"indicators": [{"value": "94.24.86.201"}], "default_fields": {"valid_from": "2015-05-07T00:00:00Z"}}"#,
    )
    .unwrap();
    let b = ok_json(&db, &["import", "batch", "feed", batch.to_str().unwrap()]);
    assert_eq!(b["total"], 1);
    assert_eq!(b["items"][0]["pattern"], "[ipv4-addr:value = '94.24.86.201']");

    let list = ok_json(&db, &["collection", "list"]);
    assert_eq!(list["items"][0]["indicator_count"], 5);
    let page = ok_json(&db, &["indicator", "list", "feed", "--kind", "username"]);
    assert_eq!(page["total"], 2);
    let found = ok_json(&db, &["indicator", "search", "feed", "EVIL[.]"]);
    assert_eq!(found["total"], 1);
    let id = found["items"][0]["id"].as_str().unwrap().to_string();
    assert_eq!(found["items"][0]["kill_chain_phases"][0]["phase_name"], "command-and-control");

    let shown = ok_json(&db, &["indicator", "show", &id]);
    assert_eq!(shown["name"], "evil.example");
    let edited = ok_json(&db, &["indicator", "edit", &id, "--description", "checked", "--valid-until", "2030-01-01"]);
    assert_eq!(edited["description"], "checked");
    assert_eq!(edited["valid_until"], "2030-01-01T00:00:00Z");
    fails(&db, &["indicator", "edit", &id, "--value", "other.example"], "cannot be changed");
    let revoked = ok_json(&db, &["indicator", "revoke", &id]);
    assert_eq!(revoked["revoked"], true);
    fails(&db, &["indicator", "revoke", &id], "already revoked");

    let lim = ok_json(&db, &["limit"]);
    assert_eq!((lim["count"].as_u64(), lim["max"].as_u64()), (Some(4), Some(500_000)));
    ok_json(&db, &["limit", "--set", "4"]);
    let batch2 = dir.path().join("b2.json");
    std::fs::write(&batch2, r#"{"indicators": [{"value": "5.6.7.8"}]}"#).unwrap();
    fails(&db, &["import", "batch", "feed", batch2.to_str().unwrap()], "limit of 4");
    // batch duplicates do not count: 94.24.86.201 is there already
    let b = ok_json(&db, &["import", "batch", "feed", batch.to_str().unwrap()]);
    assert_eq!(b["duplicates"], 1);

    let u = ok_json(&db, &["collection", "update", "feed", "--name", "renamed", "--clear-description"]);
    assert_eq!(u["name"], "renamed");
    assert!(u["description"].is_null());
    // people get tables
    let out = run(&db, &["collection", "show", "renamed"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("renamed"));
    let out = run(&db, &["indicator", "show", &id]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("yes, at"));
    let d = ok_json(&db, &["collection", "delete", "renamed"]);
    assert_eq!(d["indicators"], 5);
}

#[test]
fn bad_input_gets_a_one_line_error() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    run(&db, &["collection", "create", "feed"]);
    fails(&db, &["collection", "create", "feed"], "already exists");
    fails(&db, &["collection", "show", "nope"], "collection not found: 'nope'");
    fails(&db, &["import", "text", "feed", "/no/such/file"], "/no/such/file");
    fails(&db, &["import", "text", "feed", "-", "--valid-from", "yesterday"], "'yesterday'");
    fails(&db, &["import", "text", "feed", "-", "--kill-chain", "lunch"], "'lunch'");
    fails(&db, &["import", "text", "feed", "-", "--kind", "planet"], "'planet'");
    fails(&db, &["import", "text", "feed", "-", "--threat", "Nobody"], "'Nobody'");
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, "{ nope").unwrap();
    fails(&db, &["import", "batch", "feed", bad.to_str().unwrap()], "invalid batch payload");
    fails(&db, &["indicator", "show", "indicator--not-a-uuid"], "invalid indicator id");
    let junk = dir.path().join("junk.db");
    std::fs::write(&junk, vec![7u8; 4096]).unwrap();
    fails(&junk, &["collection", "list"], "junk.db");
}

fn match_lines(db: &Path, args: &[&str], stdin: &str) -> (Vec<Value>, String) {
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(db)
        .arg("match")
        .args(args)
        .env_remove("IOCMATCH_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "{args:?}: {err}");
    let lines = String::from_utf8_lossy(&out.stdout).lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    (lines, err)
}

#[test]
fn match_and_compile() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let feed = dir.path().join("feed.txt");
    std::fs::write(&feed, "evil.example\n192.0.2.0/24\n").unwrap();
    ok_json(&db, &["collection", "create", "feed"]);
    ok_json(&db, &["collection", "create", "other"]);
    ok_json(&db, &["import", "text", "feed", feed.to_str().unwrap(), "--valid-from", "2024-01-01"]);
    ok_json(
        &db,
        &[
            "import",
            "text",
            "other",
            feed.to_str().unwrap(),
            "--valid-from",
            "2024-01-01",
            "--valid-until",
            "2024-02-01",
        ],
    );
    let events = concat!(
        r#"{"@timestamp":"2024-06-01T00:00:00Z","dns":{"question":{"name":"evil.example"}}}"#,
        "\n\n",
        "not json\n",
        r#"{"@timestamp":"2024-01-15T00:00:00Z","source":{"ip":"192.0.2.9"},"url":{"original":"http://evil.example/"}}"#,
        "\n"
    );
    let (m, err) = match_lines(&db, &[], events);
    let got: Vec<(u64, String, String)> = m
        .iter()
        .map(|v| (v["line"].as_u64().unwrap(), v["field"].as_str().unwrap().into(), v["kind"].as_str().unwrap().into()))
        .collect();
    assert_eq!(
        got,
        vec![
            (1, "dns.question.name".into(), "domain".into()),
            (4, "source.ip".into(), "cidr".into()),
            (4, "source.ip".into(), "cidr".into())
        ]
    );
    for k in ["indicator_id", "observable", "collection_id", "value"] {
        assert!(m[0][k].is_string(), "{k} in {}", m[0]);
    }
    assert!(err.contains("skipped line 3"), "{err}");
    assert!(err.contains("events: 2, matched events: 2, matches: 3, bad lines: 1"), "{err}");

    // one collection; a fixed time; the strict profile; enrichments
    let (m, _) = match_lines(&db, &["--collection", "other"], events);
    assert_eq!(m.len(), 1, "only 'other', valid in January");
    let (m, _) = match_lines(&db, &["--at", "2030-01-01"], events);
    assert_eq!(m.len(), 2, "only 'feed' is valid in 2030");
    let (m, _) = match_lines(&db, &["--enrichments"], events);
    assert_eq!(m[0]["threat"]["enrichments"][0]["matched"]["field"], "dns.question.name");
    let profile = dir.path().join("p.txt");
    std::fs::write(&profile, "dns.question.name domain\n").unwrap();
    let (m, _) = match_lines(&db, &["--profile", profile.to_str().unwrap()], events);
    assert_eq!(m.len(), 1);

    // a compiled index gives the same matches without the store
    let idx = dir.path().join("x.idx");
    let c = ok_json(&db, &["compile", "--out", idx.to_str().unwrap()]);
    assert_eq!(c["indicators"], 4);
    let nodb = dir.path().join("absent.db");
    let (m, _) = match_lines(&nodb, &["--index", idx.to_str().unwrap(), "--threads", "1"], events);
    assert_eq!(m.len(), 3);
    assert!(!nodb.exists(), "match --index must not create a store");
    let out = run(&nodb, &["match", "--index", "/no/such.idx"]);
    assert!(!out.status.success());
    let (m, _) = match_lines(
        &db,
        &["--raw", "--at", "2024-06-01"],
        "GET http://notevil.example/ from 192.0.2.9 to evil.example\n",
    );
    let got: Vec<&str> = m.iter().map(|v| v["value"].as_str().unwrap()).collect();
    assert_eq!(got, vec!["192.0.2.9", "evil.example"], "raw text, with token boundaries");
    assert_eq!(m[0]["field"], "raw");
    fails(&db, &["match", "--collection", "nope"], "'nope'");
    fails(&db, &["match", "--profile", "/no/such/profile"], "cannot read profile");
    fails(&db, &["match", "--at", "soon"], "'soon'");
}

#[test]
fn a_closed_pipe_ends_the_output_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let feed = dir.path().join("feed.txt");
    let ips: String = (0..40_000u32).map(|i| format!("10.{}.{}.{}\n", i >> 16, (i >> 8) & 255, i & 255)).collect();
    std::fs::write(&feed, ips).unwrap();
    ok_json(&db, &["collection", "create", "feed"]);
    ok_json(&db, &["import", "text", "feed", feed.to_str().unwrap()]);
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(&db)
        .args(["export", "feed", "--format", "text"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // read one line, then hang up like `| head -1`
    let mut first = [0u8; 16];
    std::io::Read::read_exact(child.stdout.as_mut().unwrap(), &mut first).unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(err.is_empty(), "nothing on stderr: {err}");
}
