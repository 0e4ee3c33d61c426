//! Processing a file: every row read with the mapping into drafts, then written the way the
//! text import writes (one transaction, duplicates merged, the community limit checked).

use super::{dates, mapping, sheet, Column, FileImport};
use crate::error::{Error, Result};
use crate::import::{excerpt, ImportReport, Progress, Rejected, Stage};
use crate::killchain::PhaseSet;
use crate::observable::{self, IndicatorValue, Kind};
use crate::store::{self, Draft, Store, ThreatRegistry};
use crate::time::Timestamp;
use csv::ByteRecord;
use rayon::prelude::*;
use std::borrow::Cow;

/// Rows parsed per progress report.
const CHUNK: usize = 32_768;

/// Bytes a cell may hold.
pub const MAX_CELL_BYTES: usize = 65_536;

/// A cell as text: UTF-8, or else read as Latin-1 (what spreadsheet programs on Windows write).
pub(crate) fn decode(b: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(b) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(b.iter().map(|&c| c as char).collect()),
    }
}

/// One indicator of a row, before threats are resolved and defaults applied.
struct RowDraft {
    value: IndicatorValue,
    valid_from: Option<Timestamp>,
    valid_until: Option<Timestamp>,
    phases: Option<PhaseSet>,
    threats: Option<Vec<String>>,
    description: Option<String>,
}

enum Row {
    Skip,
    /// The row's indicators, and its observable cells that could not be read.
    Read(Vec<RowDraft>, Vec<(String, String)>),
    /// The whole row is rejected: its text and why.
    Bad(String, String),
}

fn row_text(rec: &ByteRecord, delimiter: u8) -> String {
    let sep = (delimiter as char).to_string();
    excerpt(&rec.iter().map(decode).collect::<Vec<_>>().join(&sep), 200)
}

fn column_error(c: usize, target: Column, e: &Error) -> String {
    format!("column {} ({}): {}", c + 1, target.as_str(), e.message())
}

fn parse_row(rec: &ByteRecord, mapping: &[Option<Column>], kind: Option<Kind>, delimiter: u8) -> Row {
    if rec.iter().all(|c| c.iter().all(u8::is_ascii_whitespace)) {
        return Row::Skip;
    }
    let bad = |reason: String| Row::Bad(row_text(rec, delimiter), reason);
    // per observable cell: its value, or its text and why it cannot be read
    let mut values: Vec<std::result::Result<IndicatorValue, (String, String)>> = Vec::new();
    let mut d = RowDraft {
        value: IndicatorValue { observables: Vec::new(), port: None },
        valid_from: None,
        valid_until: None,
        phases: None,
        threats: None,
        description: None,
    };
    for (c, target) in mapping.iter().enumerate() {
        let (Some(target), Some(raw)) = (target, rec.get(c)) else { continue };
        if raw.len() > MAX_CELL_BYTES {
            return bad(format!(
                "column {} ({}): the cell holds {} bytes, over the limit of {MAX_CELL_BYTES}",
                c + 1,
                target.as_str(),
                raw.len()
            ));
        }
        let cell = decode(raw);
        let cell = cell.trim();
        if cell.is_empty() {
            continue;
        }
        let r = match target {
            Column::Observable => {
                values.push(
                    observable::parse_indicator(cell, kind)
                        .map_err(|e| (excerpt(cell, 200), column_error(c, Column::Observable, &e))),
                );
                Ok(())
            }
            Column::ValidFrom => dates::parse_date(cell).map(|t| d.valid_from = Some(t)),
            Column::ValidUntil => dates::parse_date(cell).map(|t| d.valid_until = Some(t)),
            Column::KillChainPhases => phases(cell).map(|p| d.phases = Some(p)),
            Column::XIcRelatedThreatRefs => {
                d.threats =
                    Some(cell.split([',', ';']).map(str::trim).filter(|t| !t.is_empty()).map(String::from).collect());
                Ok(())
            }
            Column::Description => store::check_description(cell).map(|()| d.description = Some(cell.to_string())),
        };
        if let Err(e) = r {
            return bad(column_error(c, *target, &e));
        }
    }
    if values.is_empty() {
        let cols: Vec<String> = mapping
            .iter()
            .enumerate()
            .filter(|(_, t)| **t == Some(Column::Observable))
            .map(|(c, _)| (c + 1).to_string())
            .collect();
        let (s, verb) = if cols.len() > 1 { ("s", "are") } else { ("", "is") };
        return bad(format!("no observable: column{s} {} {verb} empty", cols.join(", ")));
    }
    let mut drafts = Vec::with_capacity(values.len());
    let mut errors = Vec::new();
    for v in values {
        match v {
            Ok(value) => {
                drafts.push(RowDraft { value, threats: d.threats.clone(), description: d.description.clone(), ..d })
            }
            Err(e) => errors.push(e),
        }
    }
    Row::Read(drafts, errors)
}

/// Kill chain phases of a cell: what [`PhaseSet::parse_list`] reads, and `phase (chain)` as some
/// exports write it (`command-and-control (mitre-attack)`).
fn phases(cell: &str) -> Result<PhaseSet> {
    if !cell.contains('(') {
        return PhaseSet::parse_list(cell);
    }
    let parts: Vec<String> = cell
        .split([',', ';'])
        .map(|p| {
            let p = p.trim();
            match p.strip_suffix(')').and_then(|x| x.split_once('(')) {
                Some((phase, chain)) => format!("{}:{}", chain.trim(), phase.trim()),
                None => p.to_string(),
            }
        })
        .collect();
    PhaseSet::parse_list(&parts.join(","))
}

/// Check a mapping: one `observable` at least, every other property at most once.
fn check_mapping(mapping: &[Option<Column>]) -> Result<()> {
    let shown = || serde_json::to_string(mapping).unwrap_or_default();
    if !mapping.contains(&Some(Column::Observable)) {
        return Err(Error::invalid(shown(), format!("the mapping {} has no 'observable' column", shown())));
    }
    for t in Column::ALL.iter().skip(1) {
        if mapping.iter().filter(|m| **m == Some(*t)).count() > 1 {
            return Err(Error::invalid(
                shown(),
                format!("the mapping {} maps '{}' more than once", shown(), t.as_str()),
            ));
        }
    }
    Ok(())
}

pub(super) fn run(
    store: &Store,
    collection: &str,
    input: &[u8],
    filename: Option<&str>,
    options: &FileImport,
    progress: &mut dyn FnMut(Progress),
) -> Result<ImportReport> {
    let now = Timestamp::now();
    let defaults = &options.defaults;
    defaults.check(now)?;
    if let Some(m) = &options.mapping {
        check_mapping(m)?;
    }
    let (mut rows, _, delimiter) = sheet::open(input, filename, options.sheet.as_deref())?;
    let delimiter = delimiter.unwrap_or(b',');
    let mut buf: Vec<ByteRecord> = Vec::new();
    let mut numbers: Vec<u64> = Vec::new();
    let mut n = rows.fill(&mut buf, &mut numbers, CHUNK);
    let (suggested, header) = match (&options.mapping, options.ignore_first_line) {
        (Some(_), Some(_)) => (Vec::new(), false),
        _ => mapping::suggest(&buf[..n]),
    };
    let mapping = options.mapping.clone().unwrap_or(suggested);
    let mut skip = usize::from(options.ignore_first_line.unwrap_or(header) && n > 0);
    if n > skip {
        check_mapping(&mapping)?;
    }
    // (row number, what it gave), read a chunk at a time and parsed in parallel
    let mut parsed: Vec<Row> = Vec::new();
    let mut row_numbers: Vec<u64> = Vec::new();
    while n > 0 {
        parsed.par_extend(buf[skip..n].par_iter().map(|r| parse_row(r, &mapping, defaults.kind, delimiter)));
        row_numbers.extend_from_slice(&numbers[skip..n]);
        let (done, total) = rows.progress();
        progress(Progress { stage: Stage::Parse, done, total });
        skip = 0;
        n = rows.fill(&mut buf, &mut numbers, CHUNK);
    }
    drop(buf);

    let mut report = ImportReport::default();
    store.write(|tx| {
        let coll = store::collection_by_ref(tx, collection)?;
        let registry = ThreatRegistry::load(tx)?;
        let resolved = defaults.resolve(&registry, now)?;
        let mut drafts = Vec::with_capacity(parsed.len());
        for (row, line) in parsed.into_iter().zip(row_numbers) {
            let (rows, errors) = match row {
                Row::Skip => continue,
                Row::Bad(text, reason) => {
                    report.lines += 1;
                    report.rejected.push(Rejected { line, text, reason });
                    continue;
                }
                Row::Read(rows, errors) => (rows, errors),
            };
            report.lines += 1;
            for (text, reason) in errors {
                report.rejected.push(Rejected { line, text, reason });
            }
            for r in rows {
                match draft(r, &resolved, &registry) {
                    Ok(d) => drafts.push(d),
                    Err((text, reason)) => report.rejected.push(Rejected { line, text, reason }),
                }
            }
        }
        let out = store::insert_drafts(tx, &coll, drafts, &mut |done, total| {
            progress(Progress { stage: Stage::Write, done, total })
        })?;
        report.imported = out.inserted;
        report.duplicates = out.duplicates;
        Ok(())
    })?;
    Ok(report)
}

/// A row's indicator with the defaults under it, its threats resolved and its window checked.
fn draft(
    r: RowDraft,
    defaults: &crate::import::ResolvedDefaults,
    registry: &ThreatRegistry,
) -> std::result::Result<Draft, (String, String)> {
    let text = || excerpt(&r.value.key(), 200);
    let threats = match &r.threats {
        Some(refs) => registry.resolve_all(refs).map_err(|e| (text(), format!("threats: {}", e.message())))?,
        None => defaults.threats.clone(),
    };
    let valid_from = r.valid_from.unwrap_or(defaults.valid_from);
    let valid_until = r.valid_until.or(defaults.valid_until);
    store::check_window(valid_from, valid_until).map_err(|e| (text(), e.message().to_string()))?;
    Ok(Draft {
        value: r.value,
        valid_from,
        valid_until,
        phases: r.phases.unwrap_or(defaults.phases),
        threats,
        description: r.description.or_else(|| defaults.description.clone()),
        match_subdomains: defaults.match_subdomains,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_in_parentheses() {
        let p = phases("command-and-control (lockheed-martin-cyber-kill-chain), execution (mitre-attack)").unwrap();
        assert_eq!(p.phases().len(), 2);
        assert_eq!(phases("c2, delivery").unwrap().phases().len(), 2);
        let e = phases("nope (mitre-attack)").unwrap_err();
        assert!(e.message().contains("nope"), "{e}");
    }
}
