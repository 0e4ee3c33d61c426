//! Reading a file into rows of text cells: delimited text with the `csv` crate, workbooks (first
//! worksheet) with `calamine`.

use super::{dates, sniff, FileFormat};
use crate::error::{Error, ErrorKind, Result};
use calamine::{Data, Reader};
use csv::ByteRecord;
use std::io::Cursor;

/// A file read into rows of cells.
pub(crate) struct Table {
    /// What the file was.
    pub format: FileFormat,
    /// The delimiter of delimited text.
    pub delimiter: Option<u8>,
    /// Spreadsheet rows above the first one read (a worksheet whose used range starts lower).
    pub row_offset: u64,
    /// For delimited text: the 1-based row of each record, counting the blank lines the reader
    /// passes over (a quoted cell over several lines is one row).
    pub row_numbers: Vec<u64>,
    /// The rows, as read; cells of delimited text may not be UTF-8 (checked per row later).
    pub rows: Vec<ByteRecord>,
    /// A workbook's worksheets, in order (empty for delimited text).
    pub sheets: Vec<String>,
    /// The worksheet read.
    pub sheet: Option<String>,
}

impl Table {
    /// The 1-based row number a user sees for `rows[i]`.
    pub fn row_number(&self, i: usize) -> u64 {
        self.row_numbers.get(i).copied().unwrap_or(self.row_offset + i as u64 + 1)
    }
}

/// Read `input`: every row, or the first `limit`; of a workbook, worksheet `sheet` (a name or a
/// 1-based number) or else the first one with cells.
pub(crate) fn read(input: &[u8], filename: Option<&str>, limit: Option<usize>, sheet: Option<&str>) -> Result<Table> {
    let format = sniff::format(input, filename)?;
    match format {
        FileFormat::Csv => Ok(read_delimited(input, limit)),
        _ => read_workbook(input, format, limit, sheet),
    }
}

/// Rows handed out a chunk at a time: delimited text read as it goes, into reused records; a
/// workbook from memory.
pub(crate) struct Rows<'a> {
    source: Source<'a>,
    /// The row number of the last row handed out.
    row: u64,
    /// Rows handed out.
    count: usize,
}

enum Source<'a> {
    Delimited { input: &'a [u8], rdr: csv::Reader<&'a [u8]> },
    Table(Table),
}

/// Open `input` for [`Rows::fill`] (of a workbook, worksheet `sheet` as in [`read`]): what it
/// is, and its delimiter when it is delimited text.
pub(crate) fn open<'a>(
    input: &'a [u8],
    filename: Option<&str>,
    sheet: Option<&str>,
) -> Result<(Rows<'a>, FileFormat, Option<u8>)> {
    let format = sniff::format(input, filename)?;
    let (source, delimiter) = match format {
        FileFormat::Csv => {
            let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
            let d = sniff::delimiter(input);
            let rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(d).from_reader(input);
            (Source::Delimited { input, rdr }, Some(d))
        }
        _ => (Source::Table(read_workbook(input, format, None, sheet)?), None),
    };
    Ok((Rows { source, row: 0, count: 0 }, format, delimiter))
}

impl Rows<'_> {
    /// Read up to `max` rows into `buf` (reusing its records) and their row numbers into
    /// `numbers`; returns how many (0 at the end).
    pub fn fill(&mut self, buf: &mut Vec<ByteRecord>, numbers: &mut Vec<u64>, max: usize) -> usize {
        numbers.clear();
        match &mut self.source {
            Source::Delimited { input, rdr } => {
                let mut n = 0;
                while n < max {
                    if n == buf.len() {
                        buf.push(ByteRecord::new());
                    }
                    // reading from memory cannot fail; a malformed quote is read the way
                    // spreadsheets read it
                    if !matches!(rdr.read_byte_record(&mut buf[n]), Ok(true)) {
                        break;
                    }
                    // the reader reports a record at the end of the one before it: the line ends
                    // from there on are that record's end and the blank rows passed over
                    let ends = buf[n].position().map_or(0, |p| line_ends(input, p.byte() as usize));
                    self.row += if self.count == 0 { 1 + ends } else { ends.max(1) };
                    self.count += 1;
                    numbers.push(self.row);
                    n += 1;
                }
                n
            }
            Source::Table(t) => {
                let start = self.count;
                let end = (start + max).min(t.rows.len());
                buf.clear();
                for i in start..end {
                    buf.push(std::mem::take(&mut t.rows[i]));
                    numbers.push(t.row_number(i));
                }
                self.count = end;
                end - start
            }
        }
    }

    /// Progress through the input: (done, total), in bytes for delimited text, else in rows.
    pub fn progress(&self) -> (u64, u64) {
        match &self.source {
            Source::Delimited { input, rdr } => (rdr.position().byte().min(input.len() as u64), input.len() as u64),
            Source::Table(t) => (self.count as u64, t.rows.len() as u64),
        }
    }
}

fn read_delimited(input: &[u8], limit: Option<usize>) -> Table {
    let input = input.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(input);
    let delimiter = sniff::delimiter(input);
    let mut rdr = csv::ReaderBuilder::new().has_headers(false).flexible(true).delimiter(delimiter).from_reader(input);
    let limit = limit.unwrap_or(usize::MAX);
    let mut rows = Vec::with_capacity(if limit == usize::MAX { input.len() / 48 } else { limit.min(1024) });
    let mut row_numbers = Vec::with_capacity(rows.capacity());
    let mut rec = ByteRecord::new();
    let mut row = 0u64;
    // reading from memory cannot fail; a malformed quote is read the way spreadsheets read it
    while rows.len() < limit && matches!(rdr.read_byte_record(&mut rec), Ok(true)) {
        // the reader reports a record at the end of the one before it: the line ends from there
        // on are that record's end and the blank rows the reader passed over
        let ends = rec.position().map_or(0, |p| line_ends(input, p.byte() as usize));
        row += if rows.is_empty() { 1 + ends } else { ends.max(1) };
        row_numbers.push(row);
        rows.push(rec.clone());
    }
    Table {
        format: FileFormat::Csv,
        delimiter: Some(delimiter),
        row_offset: 0,
        row_numbers,
        rows,
        sheets: Vec::new(),
        sheet: None,
    }
}

/// Line ends (`\n`, `\r\n` or a lone `\r`) in the run of them starting at `at`.
fn line_ends(input: &[u8], at: usize) -> u64 {
    let run = input.get(at..).unwrap_or_default();
    let run = &run[..run.iter().position(|b| !matches!(b, b'\r' | b'\n')).unwrap_or(run.len())];
    run.iter().enumerate().filter(|&(i, &b)| b == b'\n' || run.get(i + 1) != Some(&b'\n')).count() as u64
}

fn corrupt(format: FileFormat, e: impl std::fmt::Display) -> Error {
    Error::new(ErrorKind::Corrupt, format!("cannot read the {} workbook: {e}", format.name()))
}

fn read_workbook(input: &[u8], format: FileFormat, limit: Option<usize>, sheet: Option<&str>) -> Result<Table> {
    let parse = || {
        let cursor = Cursor::new(input);
        match format {
            FileFormat::Xlsx => pick_sheet(calamine::Xlsx::new(cursor).map_err(|e| corrupt(format, e))?, format, sheet),
            FileFormat::Xls => pick_sheet(calamine::Xls::new(cursor).map_err(|e| corrupt(format, e))?, format, sheet),
            _ => pick_sheet(calamine::Ods::new(cursor).map_err(|e| corrupt(format, e))?, format, sheet),
        }
    };
    // calamine indexes some damaged legacy (OLE) files out of bounds: such a panic is caught
    // here and is a corrupt file like any other (nothing is shared with the parser but `input`)
    let (range, sheets, name) = std::panic::catch_unwind(std::panic::AssertUnwindSafe(parse))
        .unwrap_or_else(|_| Err(corrupt(format, "the file is damaged (its structure points outside it)")))?;
    let (row0, col0) = range.start().unwrap_or((0, 0));
    let limit = limit.unwrap_or(usize::MAX);
    let mut rows = Vec::new();
    for r in range.rows().take(limit) {
        let mut rec = ByteRecord::new();
        for _ in 0..col0 {
            rec.push_field(b"");
        }
        for c in r {
            rec.push_field(cell_text(c).as_bytes());
        }
        rows.push(rec);
    }
    Ok(Table {
        format,
        delimiter: None,
        row_offset: u64::from(row0),
        row_numbers: Vec::new(),
        rows,
        sheets,
        sheet: Some(name),
    })
}

/// Worksheet `wanted` (its name, case-insensitively, or its 1-based number), else the first one
/// that has cells (an empty first sheet is passed over); with the names of every sheet and the
/// name of the one read.
fn pick_sheet<R, RS>(
    mut wb: R,
    format: FileFormat,
    wanted: Option<&str>,
) -> Result<(calamine::Range<Data>, Vec<String>, String)>
where
    R: Reader<RS>,
    R::Error: std::fmt::Display,
    RS: std::io::Read + std::io::Seek,
{
    let names = wb.sheet_names();
    let mut read =
        |name: &str| wb.worksheet_range(name).map_err(|e| corrupt(format, format!("worksheet '{name}': {e}")));
    if let Some(w) = wanted.map(str::trim) {
        let by_number = w.parse::<usize>().ok().filter(|&n| n >= 1).and_then(|n| names.get(n - 1));
        let Some(name) = names.iter().find(|n| n.eq_ignore_ascii_case(w)).or(by_number).cloned() else {
            return Err(Error::invalid(
                w,
                format!("the workbook has no worksheet '{w}': its worksheets are '{}'", names.join("', '")),
            ));
        };
        return Ok((read(&name)?, names, name));
    }
    let mut first = None;
    for name in &names {
        let range = read(name)?;
        if !range.is_empty() {
            return Ok((range, names.clone(), name.clone()));
        }
        first.get_or_insert((range, name.clone()));
    }
    first.map(|(r, n)| (r, names.clone(), n)).ok_or_else(|| corrupt(format, "it has no worksheet"))
}

/// A cell as the text a user sees; a date cell in RFC 3339.
pub(crate) fn cell_text(c: &Data) -> String {
    match c {
        Data::Empty => String::new(),
        Data::String(s) | Data::DurationIso(s) => s.clone(),
        Data::DateTimeIso(s) => dates::parse_date(s).map(|t| t.to_rfc3339()).unwrap_or_else(|_| s.clone()),
        Data::Int(i) => i.to_string(),
        Data::Float(f) if f.fract() == 0.0 && f.abs() < 1e15 => format!("{}", *f as i64),
        Data::Float(f) => f.to_string(),
        Data::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_string(),
        Data::DateTime(d) if d.is_datetime() => {
            let (y, mo, da, h, mi, s, ms) = d.to_ymd_hms_milli();
            chrono::NaiveDate::from_ymd_opt(i32::from(y), u32::from(mo), u32::from(da))
                .and_then(|day| day.and_hms_milli_opt(u32::from(h), u32::from(mi), u32::from(s), u32::from(ms)))
                .map(|n| crate::time::Timestamp(n.and_utc().timestamp_micros()).to_rfc3339())
                .unwrap_or_else(|| dates::excel_serial(d.as_f64(), false).to_rfc3339())
        }
        Data::DateTime(d) => d.as_f64().to_string(),
        Data::Error(e) => format!("{e}"),
    }
}
