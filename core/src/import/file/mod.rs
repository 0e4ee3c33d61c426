//! File import (the spec's "Import indicators from file"): CSV/TSV and workbooks (XLS, XLSX,
//! ODS), previewed with a suggested mapping of their columns, then processed with a mapping,
//! `ignore_first_line` and default fields, in one transaction like the text import.

mod dates;
mod mapping;
mod process;
mod sheet;
mod sniff;

pub use dates::{excel_serial, parse_date};

use super::{excerpt, BatchFields, ImportDefaults, ImportReport, Progress};
use crate::error::{Error, Result};
use crate::store::Store;
use serde::{Deserialize, Serialize};

/// Rows in a preview.
pub const PREVIEW_ROWS: usize = 10;

/// Characters of a cell shown in a preview.
const PREVIEW_CELL_CHARS: usize = 200;

/// The indicator property a column is mapped to (`null` in a mapping: the column is ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    /// The IOC itself (several hashes of one file may share a cell).
    Observable,
    /// Start of validity.
    ValidFrom,
    /// End of validity.
    ValidUntil,
    /// Kill chain phases, comma-separated.
    KillChainPhases,
    /// Related threats (ids, names or aliases), comma-separated.
    XIcRelatedThreatRefs,
    /// Description.
    Description,
}

impl Column {
    /// Every target, in the order of the spec.
    pub const ALL: [Column; 6] = [
        Column::Observable,
        Column::ValidFrom,
        Column::ValidUntil,
        Column::KillChainPhases,
        Column::XIcRelatedThreatRefs,
        Column::Description,
    ];

    /// Its name in a mapping (`observable`, `valid_from`, ...).
    pub fn as_str(self) -> &'static str {
        match self {
            Column::Observable => "observable",
            Column::ValidFrom => "valid_from",
            Column::ValidUntil => "valid_until",
            Column::KillChainPhases => "kill_chain_phases",
            Column::XIcRelatedThreatRefs => "x_ic_related_threat_refs",
            Column::Description => "description",
        }
    }
}

/// A mapping written as a comma-separated list (`observable,valid_from,null`): `null`, `ignore`,
/// `-` or an empty entry ignore their column.
///
/// # Errors
/// A validation error naming an unknown entry.
pub fn parse_mapping(s: &str) -> Result<Vec<Option<Column>>> {
    s.split(',')
        .map(str::trim)
        .map(|e| match e.to_ascii_lowercase().as_str() {
            "" | "null" | "ignore" | "none" | "-" => Ok(None),
            l => Column::ALL.iter().copied().find(|c| c.as_str() == l).map(Some).ok_or_else(|| {
                let all: Vec<&str> = Column::ALL.iter().map(|c| c.as_str()).collect();
                Error::invalid(e, format!("unknown mapping entry '{e}': expected one of {}, or null", all.join(", ")))
            }),
        })
        .collect()
}

/// What a file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileFormat {
    /// Delimited text (`,` `;` tab or `|`).
    Csv,
    /// Excel 97-2003 workbook.
    Xls,
    /// Excel workbook.
    Xlsx,
    /// OpenDocument spreadsheet.
    Ods,
}

impl FileFormat {
    /// Its name (`csv`, `xlsx`, ...).
    pub fn name(self) -> &'static str {
        match self {
            FileFormat::Csv => "csv",
            FileFormat::Xls => "xls",
            FileFormat::Xlsx => "xlsx",
            FileFormat::Ods => "ods",
        }
    }
}

/// The answer to the spec's `files/preview`: the first rows, the suggested mapping and whether
/// the first line looks like a header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePreview {
    /// The file's name when one was given (in-process there is no upload to refer to).
    pub file_handle: Option<String>,
    /// The first rows (at most [`PREVIEW_ROWS`]), as text; a date cell in RFC 3339.
    pub preview: Vec<Vec<String>>,
    /// Per column: the suggested property, or `null` to ignore it.
    pub mapping: Vec<Option<Column>>,
    /// Whether the first line is a header to skip.
    pub ignore_first_line: bool,
    /// What the file was read as.
    pub format: FileFormat,
    /// The sniffed delimiter of delimited text.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delimiter: Option<String>,
    /// A workbook's worksheets, in order (to pick another one with `sheet`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sheets: Vec<String>,
    /// The worksheet shown.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
}

/// The spec's `files/process` payload: `mapping`, `ignore_first_line`, and the default fields
/// of the text import (`valid_from`, `valid_until`, `kill_chain_phases`,
/// `x_ic_related_threat_refs`, `description`) for properties no column gives.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileProcess {
    /// The preview's handle; accepted and unused in-process.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub file_handle: Option<String>,
    /// One entry per column; the suggested mapping when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mapping: Option<Vec<Option<Column>>>,
    /// Skip the first line; as the preview detects when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ignore_first_line: Option<bool>,
    /// The worksheet of a workbook to read (name or 1-based number); the first with cells when
    /// absent. An iocmatch extension of the spec's payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sheet: Option<String>,
    /// Default fields for properties no column gives.
    #[serde(flatten)]
    pub fields: BatchFields,
}

/// The keys a [`FileProcess`] payload may hold.
const PROCESS_KEYS: [&str; 10] = [
    "file_handle",
    "mapping",
    "ignore_first_line",
    "sheet",
    "description",
    "valid_from",
    "valid_until",
    "kill_chain_phases",
    "x_ic_related_threat_refs",
    "match_subdomains",
];

impl FileProcess {
    /// Parse a payload from JSON text.
    ///
    /// # Errors
    /// A validation error saying where the JSON is wrong (an unknown key included).
    pub fn from_json(json: &str) -> Result<FileProcess> {
        let bad = |e: String| Error::invalid(excerpt(json, 80), format!("invalid files/process payload: {e}"));
        let v: serde_json::Value = serde_json::from_str(json).map_err(|e| bad(e.to_string()))?;
        let obj = v.as_object().ok_or_else(|| bad("expected a JSON object".into()))?;
        if let Some(k) = obj.keys().find(|k| !PROCESS_KEYS.contains(&k.as_str())) {
            return Err(bad(format!("unknown field '{k}', expected one of {}", PROCESS_KEYS.join(", "))));
        }
        serde_json::from_value(v).map_err(|e| bad(e.to_string()))
    }

    /// The payload as import options.
    ///
    /// # Errors
    /// A validation error for a bad default date or kill chain phase.
    pub fn to_import(&self) -> Result<FileImport> {
        Ok(FileImport {
            mapping: self.mapping.clone(),
            ignore_first_line: self.ignore_first_line,
            sheet: self.sheet.clone(),
            defaults: self.fields.to_defaults()?,
        })
    }
}

/// How to import a file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FileImport {
    /// One entry per column (`None`: ignore it); the suggested mapping when `None`. Columns past
    /// its end are ignored.
    pub mapping: Option<Vec<Option<Column>>>,
    /// Skip the first line; as the preview detects when `None`.
    pub ignore_first_line: Option<bool>,
    /// The worksheet of a workbook to read: its name (case-insensitively) or 1-based number;
    /// the first worksheet with cells when `None`. Ignored for delimited text.
    pub sheet: Option<String>,
    /// Properties of the indicators that no column gives (or whose cell is empty).
    pub defaults: ImportDefaults,
}

/// Preview a file: its first [`PREVIEW_ROWS`] rows, the suggested mapping, and whether its first
/// line is a header. `filename` is only used to name the file and refuse a misnamed one.
///
/// # Errors
/// [`crate::ErrorKind::Corrupt`] for a workbook that cannot be read.
pub fn preview(input: &[u8], filename: Option<&str>) -> Result<FilePreview> {
    preview_sheet(input, filename, None)
}

/// [`preview`] of worksheet `sheet` of a workbook (its name or 1-based number; the first with
/// cells when `None`; ignored for delimited text).
///
/// # Errors
/// As [`preview`]; a validation error naming a worksheet the workbook does not have.
pub fn preview_sheet(input: &[u8], filename: Option<&str>, sheet: Option<&str>) -> Result<FilePreview> {
    let table = sheet::read(input, filename, Some(mapping::SAMPLE_ROWS), sheet)?;
    let (mapping, header) = mapping::suggest(&table.rows);
    let preview = table
        .rows
        .iter()
        .take(PREVIEW_ROWS)
        .map(|r| r.iter().map(|c| excerpt(&process::decode(c), PREVIEW_CELL_CHARS)).collect())
        .collect();
    Ok(FilePreview {
        file_handle: filename.map(str::to_string),
        preview,
        mapping,
        ignore_first_line: header,
        format: table.format,
        delimiter: table.delimiter.map(|d| (d as char).to_string()),
        sheets: table.sheets,
        sheet: table.sheet,
    })
}

impl Store {
    /// [`preview`] for an import into `collection` (which must exist).
    ///
    /// # Errors
    /// Not-found for the collection; see [`preview`].
    pub fn preview_file(&self, collection: &str, input: &[u8], filename: Option<&str>) -> Result<FilePreview> {
        self.preview_file_sheet(collection, input, filename, None)
    }

    /// [`preview_sheet`] for an import into `collection` (which must exist).
    ///
    /// # Errors
    /// Not-found for the collection; see [`preview_sheet`].
    pub fn preview_file_sheet(
        &self,
        collection: &str,
        input: &[u8],
        filename: Option<&str>,
        sheet: Option<&str>,
    ) -> Result<FilePreview> {
        self.collection(collection)?;
        preview_sheet(input, filename, sheet)
    }

    /// Import a tabular file into a collection. See [`Store::import_file_with_progress`].
    pub fn import_file(
        &self,
        collection: &str,
        input: &[u8],
        filename: Option<&str>,
        options: &FileImport,
    ) -> Result<ImportReport> {
        self.import_file_with_progress(collection, input, filename, options, &mut super::no_progress)
    }

    /// Import a tabular file (CSV/TSV, XLS, XLSX, ODS: the worksheet `options.sheet` names, else
    /// the first with cells), reporting
    /// progress.
    ///
    /// Each row gives one indicator per non-empty `observable` cell (several hashes of one file
    /// in a cell form one indicator); its other mapped cells override `defaults`; kill chain
    /// phases and threats may be comma-separated; dates may be RFC 3339, `YYYY-MM-DD`,
    /// `YYYY-MM-DD HH:MM:SS`, epoch seconds or Excel serial numbers. A row that cannot be read
    /// is reported with its 1-based row number (as a spreadsheet shows it) and reason; the
    /// others land. Blank rows are skipped. The whole import is one transaction, with the text
    /// import's duplicate merging, limit and report. Delimited text is read a chunk of rows at a
    /// time; its parse progress counts bytes (a workbook's counts rows).
    ///
    /// # Errors
    /// Not-found for the collection; validation for a mapping without `observable` or with a
    /// property twice, and for bad `defaults`; corrupt for an unreadable workbook;
    /// limit-exceeded (nothing is written then).
    pub fn import_file_with_progress(
        &self,
        collection: &str,
        input: &[u8],
        filename: Option<&str>,
        options: &FileImport,
        progress: &mut dyn FnMut(Progress),
    ) -> Result<ImportReport> {
        process::run(self, collection, input, filename, options, progress)
    }

    /// [`Store::import_file`] with the spec's `files/process` payload as JSON text.
    ///
    /// # Errors
    /// A validation error for a bad payload; see [`Store::import_file_with_progress`].
    pub fn process_file_json(
        &self,
        collection: &str,
        input: &[u8],
        filename: Option<&str>,
        payload: &str,
    ) -> Result<ImportReport> {
        self.import_file(collection, input, filename, &FileProcess::from_json(payload)?.to_import()?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mapping_text_and_json() {
        let m = parse_mapping("observable, valid_from,null,,X_IC_RELATED_THREAT_REFS").unwrap();
        assert_eq!(
            m,
            vec![Some(Column::Observable), Some(Column::ValidFrom), None, None, Some(Column::XIcRelatedThreatRefs)]
        );
        let e = parse_mapping("observable,when").unwrap_err();
        assert!(e.message().contains("'when'"), "{e}");
        let json = serde_json::to_string(&m).unwrap();
        assert_eq!(json, r#"["observable","valid_from",null,null,"x_ic_related_threat_refs"]"#);
        let p = FileProcess::from_json(
            r#"{"file_handle": "f", "mapping": ["observable", null], "ignore_first_line": true, "description": "d"}"#,
        )
        .unwrap();
        assert_eq!(p.mapping, Some(vec![Some(Column::Observable), None]));
        assert_eq!(p.fields.description.as_deref(), Some("d"));
        let e = FileProcess::from_json(r#"{"mapping": ["observable"], "colour": 1}"#).unwrap_err();
        assert!(e.message().contains("unknown field 'colour'"), "{e}");
        let e = FileProcess::from_json(r#"{"mapping": ["observabel"]}"#).unwrap_err();
        assert!(e.message().contains("observabel"), "{e}");
    }
}
