//! `iocmatch import ...`

use super::{date, read_input};
use crate::args::{DefaultArgs, FileArgs, ImportCmd};
use crate::output::{self, Bar};
use iocmatch::import::file::parse_mapping;
use iocmatch::import::MispOptions;
use iocmatch::{BatchPayload, Error, FileImport, FilePreview, ImportDefaults, ImportReport, PhaseSet, Result, Store};

fn defaults(a: &DefaultArgs) -> Result<ImportDefaults> {
    Ok(ImportDefaults {
        valid_from: date(&a.valid_from)?,
        valid_until: date(&a.valid_until)?,
        kill_chain_phases: a.kill_chain.as_deref().map(PhaseSet::parse_list).transpose()?.unwrap_or_default(),
        threats: a.threats.clone(),
        description: a.description.clone(),
        kind: a.kind.as_deref().map(str::parse).transpose()?,
        match_subdomains: a.match_subdomains,
    })
}

fn print_preview(p: &FilePreview, json: bool) -> Result<()> {
    if json {
        return output::json(p);
    }
    let width = p.preview.iter().map(Vec::len).max().unwrap_or(0).max(p.mapping.len());
    let header: Vec<String> = (0..width)
        .map(|c| {
            let m = p.mapping.get(c).copied().flatten().map_or("null", |m| m.as_str());
            format!("{}: {m}", c + 1)
        })
        .collect();
    let mut t = output::table(&header.iter().map(String::as_str).collect::<Vec<_>>());
    for row in &p.preview {
        t.add_row((0..width).map(|c| row.get(c).cloned().unwrap_or_default()).collect::<Vec<_>>());
    }
    output::print_table(&t);
    let delimiter = match p.delimiter.as_deref() {
        Some("\t") => ", tab-delimited".to_string(),
        Some(d) => format!(", delimiter '{d}'"),
        None => String::new(),
    };
    let first = if p.ignore_first_line { "a header (ignored)" } else { "data" };
    println!("format {}{delimiter}; first line: {first}", p.format.name());
    if p.sheets.len() > 1 {
        let sheet = p.sheet.as_deref().unwrap_or_default();
        println!("worksheet '{sheet}' of '{}' (choose with --sheet NAME)", p.sheets.join("', '"));
    }
    let mapping: Vec<&str> = p.mapping.iter().map(|m| m.map_or("null", |m| m.as_str())).collect();
    println!("suggested mapping: --mapping {}", mapping.join(","));
    Ok(())
}

fn file(store: &Store, a: FileArgs, json: bool) -> Result<()> {
    let input = read_input(&a.file)?;
    let name = a.file.file_name().map(|n| n.to_string_lossy().to_string()).filter(|n| n != "-");
    if a.preview {
        let p = store.preview_file_sheet(&a.collection, &input, name.as_deref(), a.sheet.as_deref())?;
        return print_preview(&p, json);
    }
    let options = FileImport {
        mapping: a.mapping.as_deref().map(parse_mapping).transpose()?,
        ignore_first_line: match (a.ignore_first_line, a.keep_first_line) {
            (true, _) => Some(true),
            (_, true) => Some(false),
            _ => None,
        },
        sheet: a.sheet,
        defaults: defaults(&a.defaults)?,
    };
    let mut bar = Bar::new();
    let report =
        store.import_file_with_progress(&a.collection, &input, name.as_deref(), &options, &mut |p| bar.update(p));
    bar.finish();
    print_report(&report?, json)
}

fn print_report(r: &ImportReport, json: bool) -> Result<()> {
    if json {
        return output::json(r);
    }
    println!("{} lines: {} imported, {} duplicates, {} rejected", r.lines, r.imported, r.duplicates, r.rejected.len());
    if !r.rejected.is_empty() {
        let mut t = output::table(&["line", "text", "reason"]);
        for x in &r.rejected {
            t.add_row(vec![x.line.to_string(), x.text.clone(), x.reason.clone()]);
        }
        output::print_table(&t);
    }
    Ok(())
}

pub fn run(store: &Store, cmd: ImportCmd, json: bool) -> Result<()> {
    match cmd {
        ImportCmd::Text { collection, file, defaults: d } => {
            let defaults = defaults(&d)?;
            let input = read_input(&file)?;
            let mut bar = Bar::new();
            let report = store.import_text_with_progress(&collection, &input, &defaults, &mut |p| bar.update(p));
            bar.finish();
            print_report(&report?, json)
        }
        ImportCmd::Stix { collection, file } => {
            let input = read_input(&file)?;
            let mut bar = Bar::new();
            let report = store.import_stix_with_progress(&collection, &input, &mut |p| bar.update(p));
            bar.finish();
            print_report(&report?, json)
        }
        ImportCmd::Misp { collection, file, all_attributes } => {
            let input = read_input(&file)?;
            let options = MispOptions { all_attributes };
            let mut bar = Bar::new();
            let report = store.import_misp_with_progress(&collection, &input, &options, &mut |p| bar.update(p));
            bar.finish();
            print_report(&report?, json)
        }
        ImportCmd::File(a) => file(store, a, json),
        ImportCmd::Batch { collection, file } => {
            let input = read_input(&file)?;
            let text = std::str::from_utf8(&input).map_err(|e| {
                Error::invalid(file.display().to_string(), format!("'{}' is not UTF-8: {e}", file.display()))
            })?;
            let resp = store.add_indicators(&collection, &BatchPayload::from_json(text)?)?;
            if json {
                return output::json(&resp);
            }
            println!("{} indicators ({} duplicates), {} rejected", resp.total, resp.duplicates, resp.errors.len());
            output::print_table(&output::indicators(&resp.items));
            if !resp.errors.is_empty() {
                let mut t = output::table(&["item", "value", "reason"]);
                for e in &resp.errors {
                    t.add_row(vec![e.index.to_string(), e.value.clone().unwrap_or_default(), e.reason.clone()]);
                }
                output::print_table(&t);
            }
            Ok(())
        }
    }
}
