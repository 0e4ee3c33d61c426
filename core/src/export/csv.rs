//! CSV export of a collection, safe to open in a spreadsheet: a cell starting with `=`, `+`,
//! `-`, `@`, a tab or a carriage return is prefixed with `'` so that it is never run as a
//! formula.

use crate::error::{Error, ErrorKind, Result};
use crate::store::{Indicator, IndicatorQuery, Pagination, Store};
use std::io::Write;

/// The columns of the export, in order.
pub const CSV_COLUMNS: [&str; 11] = [
    "observable",
    "kind",
    "valid_from",
    "valid_until",
    "kill_chain_phases",
    "threats",
    "description",
    "created",
    "modified",
    "revoked",
    "id",
];

/// Indicators read per page.
const PAGE: u64 = 50_000;

/// `cell`, with a leading `'` when a spreadsheet would read it as a formula.
pub fn neutralise(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{cell}").into()
    } else {
        cell.into()
    }
}

/// The cells of one indicator, in [`CSV_COLUMNS`] order (not yet neutralised).
pub fn csv_row(i: &Indicator) -> [String; 11] {
    let kinds: Vec<&str> = i.value.observables.iter().map(|o| o.kind.as_str()).collect();
    let phases: Vec<String> =
        i.kill_chain_phases.phases().iter().map(|p| format!("{}:{}", p.kill_chain_name, p.phase_name)).collect();
    let observable = match i.value.port {
        Some(p) if i.value.observables.first().is_some_and(|o| o.kind == crate::Kind::Ipv6) => {
            format!("[{}]:{p}", i.name())
        }
        Some(p) => format!("{}:{p}", i.name()),
        None => i.name(),
    };
    [
        observable,
        kinds.join(","),
        i.valid_from.to_rfc3339(),
        i.valid_until.map(|t| t.to_rfc3339()).unwrap_or_default(),
        phases.join(","),
        i.threats.join(","),
        i.description.clone().unwrap_or_default(),
        i.created.to_rfc3339(),
        i.modified.to_rfc3339(),
        if i.revoked() { "true" } else { "false" }.to_string(),
        i.id.clone(),
    ]
}

fn io(e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Io, format!("cannot write the CSV export: {e}"))
}

impl Store {
    /// Write every indicator of a collection (revoked ones included, oldest first) as CSV with
    /// a header row of [`CSV_COLUMNS`], formula-like cells neutralised. Returns how many rows.
    ///
    /// # Errors
    /// Not-found for the collection; I/O errors of `out`.
    pub fn export_csv(&self, collection: &str, out: &mut dyn Write) -> Result<u64> {
        let mut w = ::csv::WriterBuilder::new().from_writer(out);
        w.write_record(CSV_COLUMNS).map_err(io)?;
        let mut offset = 0u64;
        loop {
            let page = self.indicators(
                collection,
                &IndicatorQuery { page: Pagination { offset, limit: PAGE }, ..Default::default() },
            )?;
            for i in &page.items {
                let row = csv_row(i);
                w.write_record(row.iter().map(|c| neutralise(c).into_owned())).map_err(io)?;
            }
            offset += page.items.len() as u64;
            if page.items.is_empty() || offset >= page.total {
                break;
            }
        }
        w.flush().map_err(io)?;
        Ok(offset)
    }

    /// [`Store::export_csv`] into a string.
    pub fn export_csv_string(&self, collection: &str) -> Result<String> {
        let mut buf = Vec::new();
        self.export_csv(collection, &mut buf)?;
        String::from_utf8(buf).map_err(io)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_neutralised() {
        for (cell, want) in [
            ("=1+1", "'=1+1"),
            ("+33 1", "'+33 1"),
            ("-2", "'-2"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("evil.com", "evil.com"),
            ("", ""),
        ] {
            assert_eq!(neutralise(cell), want);
        }
    }
}
