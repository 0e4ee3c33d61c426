//! `iocmatch telemetry` end to end: reports over archives and from recorded sightings, tables,
//! JSON and the HTML page.

use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

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
    let out = ok(db, &a);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("{args:?}: {e}: {out}"))
}

fn fails(db: &Path, args: &[&str], needle: &str) {
    let out = run(db, args);
    assert!(!out.status.success(), "{args:?} should fail");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("iocmatch: error: "), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: one line expected: {err}");
    assert!(err.contains(needle), "{args:?}: '{needle}' not in {err}");
}

const SHA: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

fn events() -> String {
    [
        r#"{"@timestamp":"2024-06-01T23:59:59Z","dns":{"question":{"name":"evil.example"}},"destination":{"domain":"evil.example"}}"#.to_string(),
        r#"{"@timestamp":"2024-06-02T00:00:00Z","destination":{"domain":"evil.example","ip":"203.0.113.7"}}"#.into(),
        r#"{"@timestamp":"2024-09-02T00:00:00Z","url":{"original":"http://evil.example/gate.php"}}"#.into(),
        r#"{"@timestamp":"2023-01-01T00:00:00Z","destination":{"domain":"evil.example"}}"#.into(),
        format!(r#"{{"@timestamp":"2024-11-30T12:00:00Z","file":{{"hash":{{"sha256":"{SHA}"}}}}}}"#),
        "not json".into(),
    ]
    .join("\n")
}

fn gz(data: &[u8]) -> Vec<u8> {
    // a stored (uncompressed) deflate block is enough: gzip by magic, whatever the name
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];
    for (i, chunk) in data.chunks(65_535).enumerate() {
        let last = (i + 1) * 65_535 >= data.len();
        out.push(u8::from(last));
        let n = chunk.len() as u16;
        out.extend_from_slice(&n.to_le_bytes());
        out.extend_from_slice(&(!n).to_le_bytes());
        out.extend_from_slice(chunk);
    }
    out.extend_from_slice(&crc32(data).to_le_bytes());
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut c = 0xffff_ffffu32;
    for &b in data {
        c ^= u32::from(b);
        for _ in 0..8 {
            c = if c & 1 != 0 { (c >> 1) ^ 0xedb8_8320 } else { c >> 1 };
        }
    }
    !c
}

/// A store with a collection whose name needs escaping, and an archive directory.
fn setup(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let db = dir.join("t.db");
    ok_json(&db, &["collection", "create", "<b>feed</b> & co"]);
    let feed = dir.join("feed.txt");
    std::fs::write(&feed, format!("evil.example\n203.0.113.7\n{SHA}\nhttp://evil.example/gate.php\nunseen.example\n"))
        .unwrap();
    // valid in 2030 only: telemetry ignores validity
    ok_json(&db, &["import", "text", "<b>feed</b> & co", feed.to_str().unwrap(), "--valid-from", "2030-01-01"]);
    let archive = dir.join("archive");
    std::fs::create_dir_all(archive.join("old")).unwrap();
    let ev = events();
    let (a, b) = ev.split_at(ev.find("{\"@timestamp\":\"2024-09").unwrap());
    std::fs::write(archive.join("a.ndjson"), a).unwrap();
    std::fs::write(archive.join("old/b.json.gz"), gz(b.as_bytes())).unwrap();
    (db, archive)
}

#[test]
fn run_show_list_and_delete_reports() {
    let dir = tempfile::tempdir().unwrap();
    let (db, archive) = setup(dir.path());
    let coll = "<b>feed</b> & co";
    let r = ok_json(&db, &["telemetry", "run", coll, archive.to_str().unwrap(), "--until", "2025-01-01"]);
    let rows: Vec<(String, String, u64)> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| {
            (
                x["observable"].as_str().unwrap().into(),
                x["kind"].as_str().unwrap().into(),
                x["sightings"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        rows,
        [
            ("evil.example".to_string(), "domain".to_string(), 2),
            ("203.0.113.7".into(), "ipv4".into(), 1),
            (SHA.into(), "sha256".into(), 1)
        ]
    );
    assert_eq!(
        r["rows"][0]["days"],
        serde_json::json!([{"date": "2024-06-01", "count": 1}, {"date": "2024-06-02", "count": 1}])
    );
    assert_eq!((r["events"].as_u64(), r["source"].as_str()), (Some(5), Some("events")));
    assert_eq!(r["window_start"], "2024-01-02T00:00:00Z");
    let id = r["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("telemetry-report--"));

    // the issue's spelling, without `run`: the same report
    let again = ok_json(&db, &["telemetry", coll, archive.to_str().unwrap(), "--until", "2025-01-01"]);
    assert_eq!(again["rows"], r["rows"]);
    assert_ne!(again["id"], r["id"], "a new report");
    ok_json(&db, &["telemetry", "delete", again["id"].as_str().unwrap()]);

    // a shorter window: the hash of November only
    let short =
        ok_json(&db, &["telemetry", coll, archive.to_str().unwrap(), "--until", "2025-01-01", "--window", "5w"]);
    assert_eq!(short["rows"].as_array().unwrap().len(), 1);
    assert_eq!(short["rows"][0]["observable"], SHA);

    // read back
    assert_eq!(ok_json(&db, &["telemetry", "show", &id]), r);
    let list = ok_json(&db, &["telemetry", "list", coll]);
    let ids: Vec<&str> = list.as_array().unwrap().iter().map(|x| x["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [short["id"].as_str().unwrap(), id.as_str()]);
    assert_eq!(list[1]["indicators_seen"], 3);
    let table = ok(&db, &["telemetry", "show", &id]);
    assert!(table.contains("evil.example") && table.contains("sightings"), "{table}");
    assert!(ok(&db, &["telemetry", "list", coll]).contains(&id));

    ok_json(&db, &["telemetry", "delete", &id]);
    fails(&db, &["telemetry", "show", &id], &id);
    assert_eq!(ok_json(&db, &["telemetry", "list", coll]).as_array().unwrap().len(), 1);
}

#[test]
fn the_html_page_is_self_contained_and_escaped() {
    let dir = tempfile::tempdir().unwrap();
    let (db, archive) = setup(dir.path());
    let html = dir.path().join("report.html");
    let r = ok_json(
        &db,
        &[
            "telemetry",
            "run",
            "<b>feed</b> & co",
            archive.to_str().unwrap(),
            "--until",
            "2025-01-01",
            "--html",
            html.to_str().unwrap(),
        ],
    );
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>") && page.trim_end().ends_with("</html>"));
    assert!(page.contains("<svg") && page.contains("</svg>"));
    assert_eq!(page.matches("<svg").count(), 1);
    // the name escaped, never raw
    assert!(page.contains("&lt;b&gt;feed&lt;/b&gt; &amp; co"), "{page}");
    assert!(!page.contains("<b>feed"));
    // no script, no external resource
    for bad in ["<script", "src=", "<link", "url(", "@import"] {
        assert!(!page.contains(bad), "{bad}");
    }
    assert!(!page.contains("href=\"http"));
    // one heatmap row and one table row per indicator, ordered by sightings
    assert_eq!(page.matches("<g class=\"row\"").count(), 3);
    assert_eq!(page.matches("<tr id=\"row-").count(), 3);
    let (a, b, c) = (page.find("row-0").unwrap(), page.find("row-1").unwrap(), page.find("row-2").unwrap());
    assert!(a < b && b < c);
    let evil_row = &page[page.find("<tr id=\"row-0\"").unwrap()..];
    assert!(evil_row[..evil_row.find("</tr>").unwrap()].contains("evil.example"));
    // a year: one column per week, tooltips, month labels and a legend
    assert!(page.contains("evil.example: 2 sightings on 2024-05-28 to 2024-06-03"), "weekly tooltip");
    assert!(page.contains(">Jan 2024</text>") && page.contains(">Jun</text>"));
    assert!(page.contains("class=\"legend\""));
    // the tags balance
    for tag in ["svg", "g", "text", "title", "rect", "table", "tr", "dl"] {
        let open = page.matches(&format!("<{tag}>")).count() + page.matches(&format!("<{tag} ")).count();
        assert_eq!(open, page.matches(&format!("</{tag}>")).count(), "<{tag}>");
    }
    // show writes the same page
    let again = dir.path().join("again.html");
    ok(&db, &["telemetry", "show", r["id"].as_str().unwrap(), "--html", again.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&again).unwrap(), page);
}

#[test]
fn match_records_sightings_for_a_report_without_archives() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = setup(dir.path());
    let mut child = Command::new(BIN)
        .arg("--db")
        .arg(&db)
        .args(["match", "--record-sightings"])
        .env_remove("IOCMATCH_DB")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(events().as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    // nothing matched (valid in 2030 only), yet 6 sightings (the URL one too)
    assert!(out.stdout.is_empty());
    assert!(err.contains("sightings recorded: 6"), "{err}");
    let r = ok_json(&db, &["telemetry", "run", "<b>feed</b> & co", "--from-sightings", "--until", "2025-01-01"]);
    assert_eq!(r["source"], "sightings");
    let rows: Vec<(&str, u64)> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| (x["observable"].as_str().unwrap(), x["sightings"].as_u64().unwrap()))
        .collect();
    assert_eq!(rows, [("evil.example", 2), ("203.0.113.7", 1), (SHA, 1)]);
    assert_eq!(r["rows"][0]["first_seen"], "2024-06-01T00:00:00Z");
}

#[test]
fn bad_arguments_fail_on_one_line_naming_the_value() {
    let dir = tempfile::tempdir().unwrap();
    let (db, archive) = setup(dir.path());
    let a = archive.to_str().unwrap();
    fails(&db, &["telemetry", "run", "nope", a], "'nope'");
    fails(&db, &["telemetry", "run", "<b>feed</b> & co", "/no/such/archive"], "/no/such/archive");
    fails(&db, &["telemetry", "run", "<b>feed</b> & co", a, "--window", "5x"], "'5x'");
    fails(&db, &["telemetry", "run", "<b>feed</b> & co", a, "--window", "0d"], "'0d'");
    fails(&db, &["telemetry", "run", "<b>feed</b> & co", a, "--until", "soon"], "'soon'");
    fails(&db, &["telemetry", "run", "<b>feed</b> & co", a, "--community", "nope"], "'nope'");
    fails(&db, &["telemetry", "show", "telemetry-report--nope"], "telemetry-report--nope");
    fails(&db, &["telemetry", "list", "nope"], "'nope'");
    // PATH and --from-sightings: one or the other
    assert!(!run(&db, &["telemetry", "run", "<b>feed</b> & co"]).status.success());
    assert!(!run(&db, &["telemetry", "run", "<b>feed</b> & co", a, "--from-sightings"]).status.success());
    assert!(!run(&db, &["telemetry", "<b>feed</b> & co"]).status.success());
    assert!(!run(&db, &["telemetry"]).status.success());
    fails(&db, &["telemetry", "nope", a], "'nope'");
    assert!(!run(&db, &["match", "--record-sightings", "--index", "x.idx"]).status.success());
}
