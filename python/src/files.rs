//! File import (CSV/TSV, XLS, XLSX, ODS: preview, then process with a mapping) and CSV export,
//! behind `Store.preview_file`, `Store.import_file` and `Store.export_csv`.

use crate::convert;
use crate::errors::{invalid, IntoPyResult};
use crate::fork;
use crate::progress::import_with_progress;
use crate::results::ImportReport;
use crate::store::StoreCell;
use iocmatch::import::file::{parse_mapping, Column};
use iocmatch::{Error, ErrorKind, FileImport, ImportDefaults};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString, PyTuple};

/// The keyword arguments of `import_file` that give default fields.
const DEFAULT_KEYS: [&str; 7] = [
    "valid_from",
    "valid_until",
    "kill_chain_phases",
    "x_ic_related_threat_refs",
    "description",
    "kind",
    "match_subdomains",
];

/// The file's bytes and name: `bytes`/`bytearray` as they are, a `str` or path-like object read
/// from disk (its file name kept, for the preview's `file_handle`).
fn source(py: Python<'_>, obj: &Bound<'_, PyAny>, filename: Option<String>) -> PyResult<(Vec<u8>, Option<String>)> {
    if let Ok(b) = obj.cast::<PyBytes>() {
        return Ok((b.as_bytes().to_vec(), filename));
    }
    if let Ok(b) = obj.cast::<PyByteArray>() {
        return Ok((b.to_vec(), filename));
    }
    let path: std::path::PathBuf =
        py.import("os")?.call_method1("fspath", (obj,)).and_then(|p| p.extract()).map_err(|_| {
            PyTypeError::new_err(format!("the file must be a path or bytes, not {}", convert::type_name(obj)))
        })?;
    let bytes = py
        .detach(|| std::fs::read(&path))
        .map_err(|e| Error::new(ErrorKind::Io, format!("cannot read '{}': {e}", path.display())))
        .py(py)?;
    let name = filename.or_else(|| path.file_name().map(|n| n.to_string_lossy().to_string()));
    Ok((bytes, name))
}

/// A mapping: a list of property names (`None` to ignore a column), or a comma-separated string.
fn mapping(py: Python<'_>, obj: &Bound<'_, PyAny>) -> PyResult<Vec<Option<Column>>> {
    if let Ok(s) = obj.cast::<PyString>() {
        return parse_mapping(&s.to_cow()?).py(py);
    }
    let items: Vec<Bound<'_, PyAny>> = if let Ok(l) = obj.cast::<PyList>() {
        l.iter().collect()
    } else if let Ok(t) = obj.cast::<PyTuple>() {
        t.iter().collect()
    } else {
        return Err(PyTypeError::new_err(format!(
            "mapping must be a list or a string, not {}",
            convert::type_name(obj)
        )));
    };
    items
        .iter()
        .map(|i| {
            if i.is_none() {
                return Ok(None);
            }
            let s: String = i.extract().map_err(|_| {
                PyTypeError::new_err(format!("a mapping entry must be a str or None, not {}", convert::type_name(i)))
            })?;
            match parse_mapping(&s).py(py)?.as_slice() {
                [one] => Ok(*one),
                _ => Err(invalid(py, &s, format!("mapping entry '{s}' holds a comma: give one property per entry"))),
            }
        })
        .collect()
}

/// The default fields given as keyword arguments.
fn defaults(py: Python<'_>, kwargs: Option<&Bound<'_, PyDict>>) -> PyResult<ImportDefaults> {
    let mut d = ImportDefaults::default();
    let Some(kwargs) = kwargs else { return Ok(d) };
    for (k, v) in kwargs.iter() {
        let key: String = k.extract()?;
        if v.is_none() {
            continue;
        }
        match key.as_str() {
            "valid_from" => d.valid_from = Some(convert::timestamp(&v)?),
            "valid_until" => d.valid_until = Some(convert::timestamp(&v)?),
            "kill_chain_phases" => d.kill_chain_phases = convert::phases(&v)?,
            "x_ic_related_threat_refs" => d.threats = convert::strings(&v, "x_ic_related_threat_refs")?,
            "description" => d.description = Some(v.extract()?),
            "kind" => d.kind = Some(convert::kind(py, &v.extract::<String>()?)?),
            "match_subdomains" => d.match_subdomains = Some(v.extract()?),
            other => {
                return Err(PyTypeError::new_err(format!(
                    "import_file() got an unexpected keyword argument '{other}' (defaults are {})",
                    DEFAULT_KEYS.join(", ")
                )))
            }
        }
    }
    Ok(d)
}

/// `Store.preview_file`.
pub fn preview<'py>(
    py: Python<'py>,
    cell: &StoreCell,
    collection: String,
    file: &Bound<'py, PyAny>,
    filename: Option<String>,
    sheet: Option<String>,
) -> PyResult<Bound<'py, PyAny>> {
    let (bytes, name) = source(py, file, filename)?;
    let p = py
        .detach(|| {
            cell.get().and_then(|s| {
                fork::run(|| s.preview_file_sheet(&collection, &bytes, name.as_deref(), sheet.as_deref()))
            })
        })
        .py(py)?;
    convert::to_py(py, &p)
}

/// The options of `Store.import_file` other than the defaults.
pub struct FileOptions<'a, 'py> {
    /// The mapping, as given.
    pub mapping: Option<&'a Bound<'py, PyAny>>,
    /// Skip the first line (detected when `None`).
    pub ignore_first_line: Option<bool>,
    /// The file's name.
    pub filename: Option<String>,
    /// The worksheet.
    pub sheet: Option<String>,
}

/// `Store.import_file`.
pub fn import(
    py: Python<'_>,
    cell: &StoreCell,
    collection: String,
    file: &Bound<'_, PyAny>,
    o: FileOptions<'_, '_>,
    progress: Option<&Bound<'_, PyAny>>,
    kwargs: Option<&Bound<'_, PyDict>>,
) -> PyResult<ImportReport> {
    let options = FileImport {
        mapping: o.mapping.filter(|m| !m.is_none()).map(|m| mapping(py, m)).transpose()?,
        ignore_first_line: o.ignore_first_line,
        sheet: o.sheet,
        defaults: defaults(py, kwargs)?,
    };
    let (bytes, name) = source(py, file, o.filename)?;
    import_with_progress(py, cell, progress, |s, p| {
        s.import_file_with_progress(&collection, &bytes, name.as_deref(), &options, p)
    })
}

/// `Store.export_csv`.
pub fn export_csv(py: Python<'_>, cell: &StoreCell, collection: String) -> PyResult<String> {
    py.detach(|| cell.get().and_then(|s| fork::run(|| s.export_csv_string(&collection)))).py(py)
}
