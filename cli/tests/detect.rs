//! Rules, `match --alerts` and `retrohunt` end to end.

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_iocmatch");

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("--db").arg(db).args(args).env_remove("IOCMATCH_DB").output().unwrap()
}

fn ok(db: &Path, args: &[&str]) -> Output {
    let out = run(db, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    out
}

fn ok_json(db: &Path, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    let out = ok(db, &a);
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

fn ndjson(out: &[u8]) -> Vec<Value> {
    String::from_utf8_lossy(out).lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn event(at: &str, host: &str) -> String {
    format!(r#"{{"@timestamp":"{at}T08:00:00Z","url":{{"domain":"{host}"}}}}"#)
}

fn gz(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// A store with collections `feed` (with its rule) and `other` (with a disabled rule).
fn setup(dir: &Path) -> std::path::PathBuf {
    let db = dir.join("t.db");
    ok_json(&db, &["collection", "create", "feed", "--create-rule"]);
    ok_json(&db, &["collection", "create", "other"]);
    let feed = dir.join("feed.txt");
    std::fs::write(&feed, "evil.example\n").unwrap();
    let window = ["--valid-from", "2024-01-10", "--valid-until", "2024-01-20"];
    ok_json(&db, &[&["import", "text", "feed", feed.to_str().unwrap()][..], &window].concat());
    std::fs::write(&feed, "other.example\n").unwrap();
    ok_json(&db, &[&["import", "text", "other", feed.to_str().unwrap()][..], &window].concat());
    db
}

#[test]
fn rule_commands() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let rules = ok_json(&db, &["rule", "list"]);
    assert_eq!(rules.as_array().unwrap().len(), 1);
    assert_eq!(rules[0]["name"], "IOC collection: feed");
    assert_eq!(rules[0]["enabled"], true);

    let r = ok_json(&db, &["rule", "create", "both", "--collection", "feed", "--collection", "other", "--disabled"]);
    assert!(r["id"].as_str().unwrap().starts_with("rule--"));
    assert_eq!(r["enabled"], false);
    assert_eq!(r["collections"].as_array().unwrap().len(), 2);
    let t = ok_json(&db, &["rule", "create", "tenant-wide", "--community", "default", "--description", "all of it"]);
    assert_eq!(t["collections"].as_array().unwrap().len(), 2);
    assert_eq!(ok_json(&db, &["rule", "enable", "both"])["enabled"], true);
    assert_eq!(ok_json(&db, &["rule", "disable", r["id"].as_str().unwrap()])["enabled"], false);
    assert_eq!(ok_json(&db, &["rule", "show", "tenant-wide"])["description"], "all of it");

    let table = String::from_utf8(ok(&db, &["rule", "list"]).stdout).unwrap();
    for needle in ["IOC collection: feed", "feed, other", "community default (all collections)", "3 rules"] {
        assert!(table.contains(needle), "'{needle}' not in\n{table}");
    }
    assert_eq!(ok_json(&db, &["rule", "delete", "tenant-wide"])["name"], "tenant-wide");
    assert_eq!(ok_json(&db, &["rule", "list"]).as_array().unwrap().len(), 2);

    fails(&db, &["rule", "create", "x", "--collection", "ghost"], "'ghost'");
    fails(&db, &["rule", "create", "BOTH", "--collection", "feed"], "'BOTH'");
    fails(&db, &["rule", "create", " ", "--collection", "feed"], "name is required");
    fails(&db, &["rule", "enable", "nope"], "'nope'");
    fails(&db, &["rule", "delete", "nope"], "'nope'");
}

#[test]
fn match_with_alerts() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    ok_json(&db, &["rule", "create", "disabled", "--collection", "other", "--disabled"]);
    let events = dir.path().join("ev.ndjson");
    let text = [event("2024-01-15", "evil.example"), event("2024-01-15", "other.example"), "junk".into()].join("\n");
    std::fs::write(&events, text).unwrap();
    let out = ok(&db, &["match", "--alerts", events.to_str().unwrap()]);
    let alerts = ndjson(&out.stdout);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a["detection_type"], "cti");
    assert_eq!(a["rule_name"], "IOC collection: feed");
    assert_eq!(a["line"], 1);
    assert_eq!(a["source"], events.to_str().unwrap());
    assert_eq!(a["matches"][0]["observable"], "evil.example");
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped line 3"));

    // an index file, but the rules from the store; no store: an error, not an empty store
    let idx = dir.path().join("i.idx");
    ok(&db, &["compile", "--out", idx.to_str().unwrap()]);
    let out = ok(&db, &["match", "--alerts", "--index", idx.to_str().unwrap(), events.to_str().unwrap()]);
    assert_eq!(ndjson(&out.stdout).len(), 1);
    let missing = dir.path().join("missing.db");
    fails(&missing, &["match", "--alerts", "--index", idx.to_str().unwrap(), events.to_str().unwrap()], "missing.db");
    assert!(!missing.exists());
}

#[test]
fn retrohunt_archives() {
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    let arch = dir.path().join("archive");
    std::fs::create_dir_all(arch.join("2024")).unwrap();
    // 4 days before valid_from: in the margin; 6 days before: not
    let plain = [event("2024-01-06", "evil.example"), "{oops".into(), event("2024-01-04", "evil.example")].join("\n");
    std::fs::write(arch.join("2024/a.ndjson"), plain).unwrap();
    let zipped = [event("2024-01-12", "quiet.example"), event("2024-01-24", "evil.example")].join("\n");
    std::fs::write(arch.join("2024/b.json.gz"), gz(zipped.as_bytes())).unwrap();

    let a = arch.to_str().unwrap();
    let out = ok(&db, &["retrohunt", a]);
    let mut alerts = ndjson(&out.stdout);
    alerts.sort_by_key(|a| a["source"].as_str().unwrap().to_string());
    let got: Vec<(String, u64)> = alerts
        .iter()
        .map(|a| {
            assert_eq!(a["detection_type"], "cti_retrohunt");
            assert_eq!(a["rule_name"], "IOC collection: feed");
            let f = Path::new(a["source"].as_str().unwrap()).file_name().unwrap().to_string_lossy().to_string();
            (f, a["line"].as_u64().unwrap())
        })
        .collect();
    assert_eq!(got, [("a.ndjson".to_string(), 1), ("b.json.gz".to_string(), 2)]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a.ndjson:2:"), "{err}");
    assert!(err.contains("alerts: 2") && err.contains("files: 2"), "{err}");

    // a narrower margin; --out; JSON summary
    let file = dir.path().join("alerts.ndjson");
    let out = ok(&db, &["retrohunt", a, "--margin", "1d", "--out", file.to_str().unwrap(), "--json"]);
    assert!(out.stdout.is_empty());
    assert!(ndjson(&std::fs::read(&file).unwrap()).is_empty());
    let summary: Value = serde_json::from_str(String::from_utf8_lossy(&out.stderr).lines().last().unwrap()).unwrap();
    assert_eq!((summary["alerts"].as_u64(), summary["events"].as_u64()), (Some(0), Some(4)));
    assert_eq!(summary["bad_line_details"][0]["line"], 2);

    // incremental: the second run reports nothing, a new indicator only its alerts
    assert_eq!(ndjson(&ok(&db, &["retrohunt", "--incremental", a]).stdout).len(), 2);
    let out = ok(&db, &["retrohunt", "--incremental", a]);
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped: 2"));
    let feed = dir.path().join("more.txt");
    std::fs::write(&feed, "quiet.example\n").unwrap();
    ok_json(&db, &["import", "text", "feed", feed.to_str().unwrap(), "--valid-from", "2024-01-01"]);
    let alerts = ndjson(&ok(&db, &["retrohunt", "--incremental", a]).stdout);
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0]["matches"][0]["observable"], "quiet.example");

    // --since after every indicator: nothing; a duration back from now: all of them
    assert!(ok(&db, &["retrohunt", a, "--since", "now"]).stdout.is_empty());
    assert_eq!(ndjson(&ok(&db, &["retrohunt", a, "--since", "1h"]).stdout).len(), 3);

    // an unreadable file is reported and the others hunted
    std::fs::write(arch.join("broken.gz"), &gz(b"{}\n")[..10]).unwrap();
    let out = ok(&db, &["retrohunt", a]);
    assert_eq!(ndjson(&out.stdout).len(), 3);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("broken.gz") && err.contains("unreadable: 1"), "{err}");

    fails(&db, &["retrohunt", "/nonexistent/dir"], "/nonexistent/dir");
    fails(&db, &["retrohunt", a, "--margin", "5x"], "'5x'");
    fails(&db, &["retrohunt", a, "--since", "yesterday"], "'yesterday'");
    fails(&db, &["retrohunt", a, "--community", "ghost"], "'ghost'");
}

#[test]
fn retrohunt_without_an_enabled_rule_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let archive = dir.path().join("a.ndjson");
    std::fs::write(&archive, event("2024-06-01", "evil.example") + "\n").unwrap();
    ok(&db, &["collection", "create", "feed"]);
    let out = ok(&db, &["retrohunt", archive.to_str().unwrap()]);
    assert!(out.stdout.is_empty());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no enabled detection rule: nothing was hunted"), "{err}");
}
