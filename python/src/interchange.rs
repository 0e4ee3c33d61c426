//! Interchange formats for `iocmatch.Store`: STIX 2.1 and MISP imports, STIX 2.1 bundle and
//! text blocklist exports. The `#[pymethods]` of `Store` (store.rs) delegate here.

use crate::convert;
use crate::errors::IntoPyResult;
use crate::fork;
use crate::progress::import_with_progress;
use crate::results::ImportReport;
use crate::store::StoreCell;
use iocmatch::import::MispOptions;
use pyo3::exceptions::{PyOSError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString};

/// The bytes of an import's `data`: text, bytes, a dict or list (as JSON), or a path to a file.
fn input_bytes(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Vec<u8>> {
    if data.cast::<PyString>().is_ok() || data.cast::<PyBytes>().is_ok() || data.cast::<PyByteArray>().is_ok() {
        return convert::bytes_of(data, "data");
    }
    if data.cast::<PyDict>().is_ok() || data.cast::<PyList>().is_ok() {
        let text: String = py.import("json")?.call_method1("dumps", (data,))?.extract()?;
        return Ok(text.into_bytes());
    }
    let os = py.import("os")?;
    if data.is_instance(&os.getattr("PathLike")?)? {
        let path: std::path::PathBuf = os.call_method1("fspath", (data,))?.extract()?;
        return py
            .detach(|| std::fs::read(&path))
            .map_err(|e| PyOSError::new_err(format!("cannot read '{}': {e}", path.display())));
    }
    Err(PyTypeError::new_err(format!(
        "data must be str, bytes, dict, list or a path, not {}",
        convert::type_name(data)
    )))
}

/// Run `f` on the store without the GIL, in this process's thread pool.
fn run<T: Send>(
    py: Python<'_>,
    cell: &StoreCell,
    f: impl FnOnce(&iocmatch::Store) -> iocmatch::Result<T> + Send,
) -> PyResult<T> {
    py.detach(|| cell.get().and_then(|s| fork::run(|| f(&s)))).py(py)
}

/// `Store.import_stix`.
pub fn import_stix(
    py: Python<'_>,
    cell: &StoreCell,
    collection: String,
    data: &Bound<'_, PyAny>,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<ImportReport> {
    let input = input_bytes(py, data)?;
    import_with_progress(py, cell, progress, |s, p| s.import_stix_with_progress(&collection, &input, p))
}

/// `Store.import_misp`.
pub fn import_misp(
    py: Python<'_>,
    cell: &StoreCell,
    collection: String,
    data: &Bound<'_, PyAny>,
    all_attributes: bool,
    progress: Option<&Bound<'_, PyAny>>,
) -> PyResult<ImportReport> {
    let input = input_bytes(py, data)?;
    let options = MispOptions { all_attributes };
    import_with_progress(py, cell, progress, |s, p| s.import_misp_with_progress(&collection, &input, &options, p))
}

/// `Store.export_stix`: the bundle as a dict.
pub fn export_stix(py: Python<'_>, cell: &StoreCell, collection: String) -> PyResult<Py<PyAny>> {
    let text = run(py, cell, |s| s.export_stix_json(&collection))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

/// `Store.export_text`.
pub fn export_text(py: Python<'_>, cell: &StoreCell, collection: String, kind: Option<String>) -> PyResult<String> {
    let kind = kind.map(|k| convert::kind(py, &k)).transpose()?;
    run(py, cell, |s| s.export_text(&collection, kind))
}
