//! File import (CSV/TSV, XLSX, ODS: preview, mapping, process) and CSV export, on fixtures the
//! tests write (and the tiny workbooks of testdata/files, made by its make_fixtures.py); and
//! every real published file of ../shared/data/iocs, when that directory is there.

use iocmatch::export::CSV_COLUMNS;
use iocmatch::import::file::{parse_mapping, preview, Column};
use iocmatch::FileProcess;
use iocmatch::{
    ErrorKind, FileImport, ImportDefaults, ImportReport, IndicatorQuery, NewCollection, NewThreat, Pagination, Store,
    Timestamp,
};
use std::path::{Path, PathBuf};

const APT29: &str = "intrusion-set--202fc7e0-1580-4ad1-83d8-5f98be4fe1a2";

fn store() -> Store {
    let s = Store::open_in_memory().unwrap();
    s.create_collection(&NewCollection::named("c")).unwrap();
    s.add_threat(&NewThreat {
        id: Some(APT29.into()),
        name: "APT29".into(),
        aliases: vec!["Cozy Bear".into()],
        threat_type: None,
    })
    .unwrap();
    s.add_threat(&NewThreat { id: None, name: "Phishing".into(), aliases: vec![], threat_type: None }).unwrap();
    s
}

fn all(s: &Store, c: &str) -> Vec<iocmatch::Indicator> {
    s.indicators(c, &IndicatorQuery { page: Pagination { offset: 0, limit: 1000 }, ..Default::default() })
        .unwrap()
        .items
}

fn by_name(s: &Store, c: &str, name: &str) -> iocmatch::Indicator {
    all(s, c).into_iter().find(|i| i.name() == name).unwrap_or_else(|| panic!("no indicator {name}"))
}

fn day(y: i32, m: u32, d: u32) -> Timestamp {
    Timestamp::parse(&format!("{y:04}-{m:02}-{d:02}")).unwrap()
}

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/files").join(name)).unwrap()
}

/// A CSV with a BOM, CRLF line ends, `;` as delimiter, a quoted cell over two lines, two hashes
/// of one file in a cell, several phases and threats in a cell, every date form, and bad rows.
const CSV: &str = "\u{feff}Indicator;Valid from;Valid until;Kill chain phases;Threats;Description\r\n\
evil[.]example;2024-05-07T10:00:00Z;2025-01-01;c2, delivery;APT29, Phishing;\"C2 domain,\r\nseen twice\"\r\n\
203.0.113.5:8080;2024-05-07;;;;\r\n\
d30bb9df615a8d1661f843d426ff40eb,4344e695b5f65917dc68f241ecde4b99cf25d930;2024-05-07 10:00:00;;;;two hashes\r\n\
\r\n\
not an ioc;2024-05-07;;;;\r\n\
bad-date.example;yesterday;;;;\r\n\
unknown-threat.example;1715076000;;;Lazarus;\r\n\
excel.example;45419;45420.5;TA0011;;\r\n\
window.example;2024-05-07;2024-01-01;;;\r\n\
phase.example;2024-05-07;;not a phase;;\r\n\
;2024-05-07;;;;orphan description\r\n";

#[test]
fn csv_preview_suggests_the_mapping_and_the_header() {
    let p = preview(CSV.as_bytes(), Some("iocs.csv")).unwrap();
    assert!(p.ignore_first_line);
    assert_eq!(p.delimiter.as_deref(), Some(";"));
    assert_eq!(p.preview.len(), 10);
    assert_eq!(p.preview[0][0], "Indicator", "the BOM is gone");
    assert_eq!(p.preview[1][5], "C2 domain,\r\nseen twice", "a quoted cell keeps its line break");
    assert_eq!(
        p.mapping,
        parse_mapping("observable,valid_from,valid_until,kill_chain_phases,x_ic_related_threat_refs,description")
            .unwrap()
    );
    // exactly the spec's keys (plus what iocmatch adds: format, delimiter)
    let v = serde_json::to_value(&p).unwrap();
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["delimiter", "file_handle", "format", "ignore_first_line", "mapping", "preview"]);
    assert_eq!(v["file_handle"], "iocs.csv");
    assert_eq!(v["format"], "csv");
    assert_eq!(v["mapping"][4], "x_ic_related_threat_refs");
}

#[test]
fn csv_process_imports_valid_rows_and_explains_the_others() {
    let s = store();
    let r = s.import_file("c", CSV.as_bytes(), Some("iocs.csv"), &FileImport::default()).unwrap();
    let rows: Vec<(u64, &str)> = r.rejected.iter().map(|x| (x.line, x.reason.as_str())).collect();
    assert_eq!(r.imported, 4, "{rows:?}");
    assert_eq!(r.lines, 10, "the blank row is not counted");
    // row numbers as a spreadsheet shows them: the two-line cell is one row, the blank row counts
    let lines: Vec<u64> = r.rejected.iter().map(|x| x.line).collect();
    assert_eq!(lines, [6, 7, 8, 10, 11, 12], "{rows:?}");
    assert!(rows[0].1.contains("column 1 (observable)"), "{rows:?}");
    assert!(rows[1].1.contains("column 2 (valid_from): invalid date 'yesterday'"), "{rows:?}");
    assert!(rows[2].1.contains("unknown threat 'Lazarus'"), "{rows:?}");
    assert!(rows[3].1.contains("must be after valid_from"), "{rows:?}");
    assert!(rows[4].1.contains("column 4 (kill_chain_phases)"), "{rows:?}");
    assert!(rows[5].1.contains("no observable: column 1 is empty"), "{rows:?}");
    assert_eq!(r.rejected[5].text, ";2024-05-07;;;;orphan description");

    let evil = by_name(&s, "c", "evil.example");
    assert_eq!(evil.valid_from, Timestamp::parse("2024-05-07T10:00:00Z").unwrap());
    assert_eq!(evil.valid_until, Some(day(2025, 1, 1)));
    assert_eq!(evil.kill_chain_phases.phases().len(), 2);
    assert_eq!(evil.threats.len(), 2);
    assert!(evil.threats.contains(&APT29.to_string()));
    assert_eq!(evil.description.as_deref(), Some("C2 domain,\r\nseen twice"));
    let ip = by_name(&s, "c", "203.0.113.5");
    assert_eq!((ip.value.port, ip.valid_from, ip.threats.len()), (Some(8080), day(2024, 5, 7), 0));
    let hashes = by_name(&s, "c", "d30bb9df615a8d1661f843d426ff40eb,4344e695b5f65917dc68f241ecde4b99cf25d930");
    assert_eq!(hashes.value.observables.len(), 2);
    assert_eq!(hashes.valid_from, Timestamp::parse("2024-05-07T10:00:00Z").unwrap());
    let excel = by_name(&s, "c", "excel.example");
    assert_eq!(excel.valid_from, day(2024, 5, 7));
    assert_eq!(excel.valid_until, Some(Timestamp::parse("2024-05-08T12:00:00Z").unwrap()));
    assert_eq!(excel.kill_chain_phases.phases()[0].phase_name, "command-and-control");

    // again: every valid row is a duplicate now
    let again = s.import_file("c", CSV.as_bytes(), None, &FileImport::default()).unwrap();
    assert_eq!((again.imported, again.duplicates, again.rejected.len()), (0, 4, 6));
}

#[test]
fn explicit_mapping_first_line_and_defaults() {
    let s = store();
    let csv = "evil.example,whatever,2024-05-07\n1.2.3.4,x,2024-05-08\n";
    let defaults = ImportDefaults {
        valid_until: Some(day(2030, 1, 1)),
        threats: vec!["Cozy Bear".into()],
        description: Some("from the file".into()),
        kill_chain_phases: iocmatch::PhaseSet::parse_list("delivery").unwrap(),
        ..Default::default()
    };
    let opts = FileImport {
        mapping: Some(parse_mapping("observable,null,valid_from").unwrap()),
        ignore_first_line: Some(true),
        sheet: None,
        defaults,
    };
    let r = s.import_file("c", csv.as_bytes(), None, &opts).unwrap();
    assert_eq!((r.lines, r.imported), (1, 1), "{r:?}");
    let ip = by_name(&s, "c", "1.2.3.4");
    assert_eq!(ip.valid_from, day(2024, 5, 8));
    assert_eq!(ip.valid_until, Some(day(2030, 1, 1)));
    assert_eq!(ip.threats, [APT29]);
    assert_eq!(ip.description.as_deref(), Some("from the file"));
    assert_eq!(ip.kill_chain_phases.phases()[0].phase_name, "delivery");

    // the same with the spec's files/process payload
    let r = s
        .process_file_json(
            "c",
            csv.as_bytes(),
            None,
            r#"{"mapping": ["observable", null, "valid_from"], "ignore_first_line": false,
                "x_ic_related_threat_refs": ["Phishing"], "kill_chain_phases": ["c2"]}"#,
        )
        .unwrap();
    assert_eq!((r.lines, r.imported, r.duplicates), (2, 1, 1));
    assert_eq!(by_name(&s, "c", "evil.example").kill_chain_phases.phases()[0].phase_name, "command-and-control");
}

#[test]
fn bad_mappings_and_payloads_are_clear_errors() {
    let s = store();
    let csv = b"evil.example,2024-05-07\n";
    let no_obs = FileImport { mapping: Some(vec![None, Some(Column::ValidFrom)]), ..Default::default() };
    let e = s.import_file("c", csv, None, &no_obs).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.message().contains("no 'observable' column"), "{e}");
    let twice =
        FileImport { mapping: Some(parse_mapping("observable,valid_from,valid_from").unwrap()), ..Default::default() };
    let e = s.import_file("c", csv, None, &twice).unwrap_err();
    assert!(e.message().contains("'valid_from' more than once"), "{e}");
    let e = s.process_file_json("c", csv, None, r#"{"mapping": "observable"}"#).unwrap_err();
    assert!(e.message().contains("invalid files/process payload"), "{e}");
    let e = s.process_file_json("c", csv, None, r#"{"valid_from": "soon"}"#).unwrap_err();
    assert!(e.message().contains("'soon'"), "{e}");
    let e = s.import_file("nope", csv, None, &FileImport::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    let e = s.preview_file("nope", csv, None).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
    assert!(all(&s, "c").is_empty());
}

#[test]
fn corrupt_workbooks_oversized_cells_and_odd_bytes_never_panic() {
    let s = store();
    for (bytes, name) in [
        (b"PK\x03\x04 this is no zip".to_vec(), Some("x.xlsx")),
        (b"\xD0\xCF\x11\xE0\xA1\xB1\x1A\xE1 no ole".to_vec(), Some("x.xls")),
        (fixture("iocs.xlsx")[..600].to_vec(), Some("cut.xlsx")),
        (fixture("iocs.xls")[..1500].to_vec(), Some("cut.xls")),
        (b"a,b\n".to_vec(), Some("not-a-workbook.xlsx")),
    ] {
        let e = s.preview_file("c", &bytes, name).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{name:?}: {e}");
        let e = s.import_file("c", &bytes, name, &FileImport::default()).unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Corrupt, "{name:?}: {e}");
    }
    // a huge cell, a Latin-1 description, an unterminated quote, a lone CR
    let mut csv = format!("{},x\n", "a".repeat(70_000)).into_bytes();
    csv.extend_from_slice(b"evil.example,caf\xE9\n\"unterminated.example,x\nok.example\r");
    let opts = FileImport {
        mapping: Some(parse_mapping("observable,description").unwrap()),
        ignore_first_line: Some(false),
        ..Default::default()
    };
    let r = s.import_file("c", &csv, None, &opts).unwrap();
    assert!(r.rejected[0].reason.contains("over the limit of 65536"), "{r:?}");
    assert_eq!(r.rejected[0].line, 1);
    assert_eq!(by_name(&s, "c", "evil.example").description.as_deref(), Some("café"));
    assert!(r.rejected.iter().all(|x| !x.reason.is_empty()));
    // empty input: nothing to do
    let r = s.import_file("c", b"", None, &FileImport::default()).unwrap();
    assert_eq!(r, ImportReport::default());
    assert!(preview(b"", None).unwrap().preview.is_empty());
}

#[test]
fn tsv_and_pipe_files() {
    let s = store();
    let r =
        s.import_file("c", b"ip\tnote\n1.2.3.4\tscanner, loud\n5.6.7.8\tx\n", None, &FileImport::default()).unwrap();
    assert_eq!((r.imported, r.rejected.len()), (2, 0), "{r:?}");
    assert_eq!(by_name(&s, "c", "1.2.3.4").description.as_deref(), Some("scanner, loud"));
    let p = preview(b"value|first_seen\nevil.example|2024-01-01\n", None).unwrap();
    assert_eq!(p.delimiter.as_deref(), Some("|"));
    assert_eq!(p.mapping, vec![Some(Column::Observable), Some(Column::ValidFrom)]);
}

fn check_workbook(name: &str) {
    let s = store();
    let bytes = fixture(name);
    let p = s.preview_file("c", &bytes, Some(name)).unwrap();
    assert!(p.ignore_first_line, "{p:?}");
    assert_eq!(p.preview.len(), 7);
    assert_eq!(p.preview[1][1], "2024-05-07T00:00:00Z", "a date cell in RFC 3339");
    assert_eq!(p.preview[3][1], "45420", "a plain number stays a number");
    assert_eq!(
        p.mapping,
        parse_mapping("observable,valid_from,valid_until,kill_chain_phases,x_ic_related_threat_refs,description")
            .unwrap()
    );
    let r = s.import_file("c", &bytes, Some(name), &FileImport::default()).unwrap();
    assert_eq!(r.imported, 3, "{r:?}");
    let lines: Vec<u64> = r.rejected.iter().map(|x| x.line).collect();
    assert_eq!(lines, [5, 7], "{r:?}");
    assert!(r.rejected[1].reason.contains("invalid date 'yesterday'"));
    let evil = by_name(&s, "c", "evil.example");
    assert_eq!((evil.valid_from, evil.valid_until), (day(2024, 5, 7), Some(day(2025, 1, 1))));
    assert_eq!(evil.threats, [APT29]);
    assert_eq!(by_name(&s, "c", "203.0.113.5").description.as_deref(), Some("=HYPERLINK(\"x\")"));
    let h = by_name(&s, "c", "d30bb9df615a8d1661f843d426ff40eb,4344e695b5f65917dc68f241ecde4b99cf25d930");
    assert_eq!(h.valid_from, day(2024, 5, 8), "an Excel serial number");
}

#[test]
fn xlsx_fixture() {
    check_workbook("iocs.xlsx");
}

#[test]
fn xls_fixture() {
    check_workbook("iocs.xls");
}

#[test]
fn a_worksheet_is_chosen_by_name_or_number() {
    let s = store();
    let bytes = fixture("iocs.xls");
    let p = s.preview_file("c", &bytes, Some("iocs.xls")).unwrap();
    assert_eq!(p.sheets, ["IOCs", "More IOCs"]);
    assert_eq!(p.sheet.as_deref(), Some("IOCs"));
    for pick in ["more iocs", "2"] {
        let p = s.preview_file_sheet("c", &bytes, Some("iocs.xls"), Some(pick)).unwrap();
        assert_eq!(p.sheet.as_deref(), Some("More IOCs"), "{pick}");
        assert_eq!(p.preview.len(), 3, "{pick}: {p:?}");
        assert!(p.ignore_first_line, "{pick}");
    }
    let e = s.preview_file_sheet("c", &bytes, Some("iocs.xls"), Some("Sheet9")).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert!(e.to_string().contains("'Sheet9'") && e.to_string().contains("'More IOCs'"), "{e}");
    let options = FileImport { sheet: Some("More IOCs".into()), ..Default::default() };
    let r = s.import_file("c", &bytes, Some("iocs.xls"), &options).unwrap();
    assert_eq!((r.imported, r.rejected.len()), (2, 0), "{r:?}");
    by_name(&s, "c", "198.51.100.7");
    // the payload names the sheet too; delimited text ignores it
    let p = FileProcess::from_json(r#"{"sheet": "2"}"#).unwrap().to_import().unwrap();
    assert_eq!(p.sheet.as_deref(), Some("2"));
    let r = s.import_file("c", b"a.example\n", None, &options).unwrap();
    assert_eq!(r.imported, 1);
}

#[test]
fn ods_fixture() {
    check_workbook("iocs.ods");
}

#[test]
fn limit_and_one_transaction() {
    let s = store();
    s.set_max_indicators_per_community(2).unwrap();
    let e = s.import_file("c", b"a.example\nb.example\nc.example\n", None, &FileImport::default()).unwrap_err();
    assert_eq!(e.kind(), ErrorKind::LimitExceeded);
    assert!(all(&s, "c").is_empty(), "nothing written");
}

#[test]
fn progress_is_reported() {
    let s = store();
    let csv: String = (0..5000).map(|i| format!("host{i}.example,2024-01-01\n")).collect();
    let mut seen = Vec::new();
    let r =
        s.import_file_with_progress("c", csv.as_bytes(), None, &FileImport::default(), &mut |p| seen.push(p)).unwrap();
    assert_eq!(r.imported, 5000);
    let last = seen.last().unwrap();
    assert_eq!((last.done, last.total), (5000, 5000));
    assert!(seen.iter().any(|p| p.stage == iocmatch::Stage::Parse));
}

#[test]
fn csv_export_neutralises_formulas_and_reimports() {
    let s = store();
    let batch = format!(
        r#"{{"indicators": [
            {{"value": "evil.example", "description": "=HYPERLINK(\"http://x\")", "kill_chain_phases": ["c2"],
              "x_ic_related_threat_refs": ["{APT29}"], "valid_until": "2030-01-01"}},
            {{"value": "1.2.3.4:8080", "description": "+33 1 23"}},
            {{"value": "d30bb9df615a8d1661f843d426ff40eb,4344e695b5f65917dc68f241ecde4b99cf25d930", "description": "@x"}}
        ]}}"#
    );
    s.add_indicators_json("c", &batch).unwrap();
    let revoked = by_name(&s, "c", "1.2.3.4");
    s.revoke_indicator(&revoked.id).unwrap();
    let out = s.export_csv_string("c").unwrap();
    let mut rdr = csv::ReaderBuilder::new().from_reader(out.as_bytes());
    assert_eq!(rdr.headers().unwrap().iter().collect::<Vec<_>>(), CSV_COLUMNS);
    let rows: Vec<csv::StringRecord> = rdr.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), 3);
    assert_eq!(&rows[0][0], "evil.example");
    assert_eq!(&rows[0][1], "domain");
    assert_eq!(&rows[0][3], "2030-01-01T00:00:00Z");
    assert_eq!(&rows[0][4], "lockheed-martin-cyber-kill-chain:command-and-control");
    assert_eq!(&rows[0][5], APT29);
    assert_eq!(&rows[0][6], "'=HYPERLINK(\"http://x\")");
    assert_eq!((&rows[1][0], &rows[1][6], &rows[1][9]), ("1.2.3.4:8080", "'+33 1 23", "true"));
    assert_eq!((&rows[2][1], &rows[2][6]), ("md5,sha1", "'@x"));
    for r in &rows {
        assert!(r.iter().all(|c| !c.starts_with(['=', '+', '-', '@', '\t', '\r'])), "{r:?}");
    }
    // the export reads back through the file import, mapping suggested
    s.create_collection(&NewCollection::named("copy")).unwrap();
    let p = preview(out.as_bytes(), Some("export.csv")).unwrap();
    assert!(p.ignore_first_line);
    assert_eq!(
        &p.mapping[..7],
        &parse_mapping("observable,null,valid_from,valid_until,kill_chain_phases,x_ic_related_threat_refs,description")
            .unwrap()[..]
    );
    let r = s.import_file("copy", out.as_bytes(), None, &FileImport::default()).unwrap();
    assert_eq!((r.imported, r.rejected.len()), (3, 0), "{r:?}");
    let copy = by_name(&s, "copy", "evil.example");
    let orig = by_name(&s, "c", "evil.example");
    assert_eq!(
        (copy.valid_from, copy.valid_until, copy.kill_chain_phases, copy.threats.clone()),
        (orig.valid_from, orig.valid_until, orig.kill_chain_phases, orig.threats.clone())
    );
    let e = s.export_csv_string("nope").unwrap_err();
    assert_eq!(e.kind(), ErrorKind::NotFound);
}

/// The published IOC files beside the project (`../shared/data/iocs`, or `IOCMATCH_SHARED_DATA`).
fn shared_iocs() -> Option<PathBuf> {
    let dir = std::env::var_os("IOCMATCH_SHARED_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data"))
        .join("iocs");
    dir.is_dir().then_some(dir)
}

fn tabular_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            tabular_files(&p, out);
        } else if let Some(ext) = p.extension().and_then(|x| x.to_str()) {
            if ["csv", "tsv", "xlsx", "xls", "ods"].contains(&ext.to_ascii_lowercase().as_str()) {
                out.push(p);
            }
        }
    }
}

#[test]
fn every_published_tabular_file_imports_with_every_rejection_explained() {
    let Some(dir) = shared_iocs() else {
        eprintln!("skipped: no shared/data/iocs beside the project");
        return;
    };
    let mut files = Vec::new();
    tabular_files(&dir, &mut files);
    files.sort();
    assert!(!files.is_empty(), "no tabular file under {}", dir.display());
    let s = store();
    s.set_max_indicators_per_community(10_000_000).unwrap();
    let mut imported = 0;
    for (n, f) in files.iter().enumerate() {
        let name = f.file_name().unwrap().to_string_lossy().to_string();
        let bytes = std::fs::read(f).unwrap();
        let coll = format!("f{n}");
        s.create_collection(&NewCollection::named(coll.clone())).unwrap();
        let p = s.preview_file(&coll, &bytes, Some(&name)).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        assert!(p.mapping.contains(&Some(Column::Observable)), "{}: {p:?}", f.display());
        let r = s
            .import_file(&coll, &bytes, Some(&name), &FileImport::default())
            .unwrap_or_else(|e| panic!("{}: {e}", f.display()));
        for x in &r.rejected {
            assert!(x.line > 0 && !x.reason.is_empty(), "{}: {x:?}", f.display());
        }
        assert!(r.imported + r.duplicates + r.rejected.len() as u64 >= r.lines, "{}: {r:?}", f.display());
        imported += r.imported;
        eprintln!(
            "{}: {} rows, {} imported, {} duplicates, {} rejected",
            f.display(),
            r.lines,
            r.imported,
            r.duplicates,
            r.rejected.len()
        );
    }
    assert!(imported > 0);
}

#[test]
fn damaged_legacy_workbooks_are_errors_or_rows_never_panics() {
    // calamine parses BIFF8 records from the bytes: every cut and many flipped bytes must end
    // in an error or in rows, never in a panic
    let s = store();
    let good = fixture("iocs.xls");
    let mut errors = 0;
    for cut in (0..good.len()).step_by(97) {
        errors += usize::from(s.preview_file("c", &good[..cut], Some("cut.xls")).is_err());
    }
    for at in (0..good.len()).step_by(53) {
        let mut bad = good.clone();
        bad[at] ^= 0x5a;
        let _ = s.preview_file("c", &bad, Some("flipped.xls"));
    }
    assert!(errors > 0, "cut workbooks are refused");
}
