//! The CLI's STIX and MISP imports and its exports.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_iocmatch");

fn run(db: &Path, args: &[&str]) -> Output {
    Command::new(BIN).arg("--db").arg(db).args(args).env_remove("IOCMATCH_DB").output().unwrap()
}

fn ok(db: &Path, args: &[&str]) -> String {
    let out = run(db, args);
    assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

fn fixture(name: &str) -> String {
    let p: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/interchange").join(name);
    p.to_str().unwrap().to_string()
}

#[test]
fn import_stix_and_misp_then_export() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    ok(&db, &["collection", "create", "feed"]);

    let r: Value =
        serde_json::from_str(&ok(&db, &["--json", "import", "stix", "feed", &fixture("bundle.json")])).unwrap();
    assert_eq!((r["lines"].as_u64(), r["imported"].as_u64()), (Some(9), Some(9)), "{r}");
    assert_eq!(r["rejected"].as_array().unwrap().len(), 5);
    let table = ok(&db, &["import", "stix", "feed", &fixture("bundle.json")]);
    assert!(table.contains("9 lines: 0 imported, 9 duplicates, 5 rejected"), "{table}");
    assert!(table.contains("pattern_type 'yara' is not supported"), "{table}");

    let r: Value =
        serde_json::from_str(&ok(&db, &["--json", "import", "misp", "feed", &fixture("misp_event.json")])).unwrap();
    assert_eq!(r["imported"].as_u64(), Some(7), "{r}");
    let r: Value = serde_json::from_str(&ok(
        &db,
        &["--json", "import", "misp", "feed", &fixture("misp_event.json"), "--all-attributes"],
    ))
    .unwrap();
    assert_eq!(r["imported"].as_u64(), Some(1), "the hostname without to_ids: {r}");
    ok(&db, &["import", "misp", "feed", &fixture("misp.csv")]);

    let domains = ok(&db, &["export", "feed", "--format", "text", "--kind", "domain"]);
    assert_eq!(domains, "evil-c2.com\nevil-drop.com\ncdn.evil-drop.com\ncsv-evil.com\n");
    let out = dir.path().join("all.txt");
    assert_eq!(ok(&db, &["export", "feed", "--format", "text", "--out", out.to_str().unwrap()]), "");
    let all = std::fs::read_to_string(&out).unwrap();
    assert!(all.lines().count() > 10 && all.contains("198.51.100.0/24\n"), "{all}");

    let bundle: Value = serde_json::from_str(&ok(&db, &["export", "feed", "--format", "stix"])).unwrap();
    assert_eq!(bundle["type"], "bundle");
    let n = bundle["objects"].as_array().unwrap().iter().filter(|o| o["type"] == "indicator").count();
    assert!(n > 15, "{n}");
    let file = dir.path().join("bundle.json");
    ok(&db, &["export", "feed", "--format", "stix", "--out", file.to_str().unwrap()]);
    ok(&db, &["collection", "create", "copy"]);
    let r: Value =
        serde_json::from_str(&ok(&db, &["--json", "import", "stix", "copy", file.to_str().unwrap()])).unwrap();
    assert_eq!(r["imported"].as_u64(), Some(n as u64), "{r}");
}

#[test]
fn bad_input_is_one_clear_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    ok(&db, &["collection", "create", "feed"]);
    let junk = dir.path().join("junk.json");
    std::fs::write(&junk, "{\"type\": \"bundle\", ").unwrap();
    for (args, needle) in [
        (vec!["import", "stix", "feed", junk.to_str().unwrap()], "invalid STIX JSON"),
        (vec!["import", "misp", "feed", junk.to_str().unwrap()], "invalid MISP JSON"),
        (vec!["import", "stix", "feed", "/nonexistent/x.json"], "cannot read '/nonexistent/x.json'"),
        (vec!["export", "nope", "--format", "text"], "nope"),
        (vec!["export", "feed", "--format", "text", "--kind", "colour"], "unknown observable kind 'colour'"),
        (vec!["export", "feed", "--format", "stix", "--kind", "ipv4"], "--kind applies to the text format only"),
    ] {
        let out = run(&db, &args);
        assert!(!out.status.success(), "{args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("iocmatch: error: ") && err.contains(needle), "{args:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    }
    let out = run(&db, &["export", "feed", "--format", "yaml"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("yaml"));
}
