//! `iocmatch import file` (preview, suggested and explicit mapping, first line, defaults) and
//! `iocmatch export --format csv`.

use serde_json::Value;
use std::path::Path;
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

fn ok_json(db: &Path, args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.push("--json");
    serde_json::from_str(&ok(db, &a)).unwrap()
}

fn fails(db: &Path, args: &[&str], needle: &str) {
    let out = run(db, args);
    assert!(!out.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("iocmatch: error: ") && err.contains(needle), "{args:?}: {err}");
}

const CSV: &str = "IOC,First seen,Comment\r\nevil[.]example,2024-05-07,\"=cmd|' /C calc'!A0\"\r\n203.0.113.5,45419,x\r\nnope,2024-05-07,\r\n";

#[test]
fn preview_import_and_export() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let file = dir.path().join("iocs.csv");
    std::fs::write(&file, CSV).unwrap();
    let f = file.to_str().unwrap();
    ok(&db, &["collection", "create", "c"]);

    let p = ok_json(&db, &["import", "file", "c", f, "--preview"]);
    assert_eq!(p["mapping"], serde_json::json!(["observable", "valid_from", "description"]));
    assert_eq!(p["ignore_first_line"], true);
    assert_eq!(p["preview"][1][0], "evil[.]example");
    let table = ok(&db, &["import", "file", "c", f, "--preview"]);
    assert!(table.contains("1: observable") && table.contains("first line: a header (ignored)"), "{table}");
    assert!(table.contains("--mapping observable,valid_from,description"), "{table}");

    let r = ok_json(&db, &["import", "file", "c", f, "--kill-chain", "c2", "--valid-until", "2030-01-01"]);
    assert_eq!((r["lines"].as_u64(), r["imported"].as_u64()), (Some(3), Some(2)), "{r}");
    assert_eq!(r["rejected"][0]["line"], 4);
    assert!(r["rejected"][0]["reason"].as_str().unwrap().contains("'nope'"), "{r}");

    // explicit mapping, first line kept (so it is rejected, with its row number)
    ok(&db, &["collection", "create", "d"]);
    let r = ok_json(&db, &["import", "file", "d", f, "--mapping", "observable,null,null", "--keep-first-line"]);
    assert_eq!(r["imported"], 2);
    let lines: Vec<u64> = r["rejected"].as_array().unwrap().iter().map(|x| x["line"].as_u64().unwrap()).collect();
    assert_eq!(lines, [1, 4]);

    let csv = ok(&db, &["export", "c", "--format", "csv"]);
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some(
            "observable,kind,valid_from,valid_until,kill_chain_phases,threats,description,created,modified,revoked,id"
        )
    );
    assert!(csv.contains("evil.example,domain,2024-05-07T00:00:00Z,2030-01-01T00:00:00Z,lockheed-martin-cyber-kill-chain:command-and-control,,'=cmd|' /C calc'!A0,"), "{csv}");
    let out = dir.path().join("out.csv");
    ok(&db, &["export", "c", "--format", "csv", "--out", out.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&out).unwrap(), csv);

    fails(&db, &["import", "file", "c", f, "--mapping", "observable,when"], "unknown mapping entry 'when'");
    fails(&db, &["import", "file", "c", f, "--mapping", "null,valid_from"], "no 'observable' column");
    fails(&db, &["import", "file", "nope", f], "nope");
    fails(&db, &["export", "nope", "--format", "csv"], "nope");
    let bad = dir.path().join("bad.xlsx");
    std::fs::write(&bad, b"PK\x03\x04 not a zip").unwrap();
    fails(&db, &["import", "file", "c", bad.to_str().unwrap(), "--preview"], "cannot read the xlsx workbook");
    let out = run(&db, &["export", "c", "--format", "xml"]);
    assert!(!out.status.success());
}

#[test]
fn a_workbook_worksheet_is_chosen_with_sheet() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("t.db");
    let xls = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/files/iocs.xls");
    let f = xls.to_str().unwrap();
    ok(&db, &["collection", "create", "c"]);
    let table = ok(&db, &["import", "file", "c", f, "--preview"]);
    assert!(table.contains("worksheet 'IOCs' of 'IOCs', 'More IOCs' (choose with --sheet NAME)"), "{table}");
    let p = ok_json(&db, &["import", "file", "c", f, "--preview", "--sheet", "2"]);
    assert_eq!(p["sheet"], "More IOCs");
    let r = ok_json(&db, &["import", "file", "c", f, "--sheet", "More IOCs"]);
    assert_eq!((r["imported"].as_u64(), r["rejected"].as_array().map(Vec::len)), (Some(2), Some(0)), "{r}");
    fails(&db, &["import", "file", "c", f, "--sheet", "Sheet9"], "no worksheet 'Sheet9'");
}
