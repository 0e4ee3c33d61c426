//! Core errors as the Python exceptions of `iocmatch._errors`.

use iocmatch::{Error, ErrorKind};
use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::types::PyDict;

/// The `iocmatch._errors` class for a core error kind.
fn class_name(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Validation => "ValidationError",
        ErrorKind::NotFound => "NotFoundError",
        ErrorKind::Conflict => "ConflictError",
        ErrorKind::ImmutableField => "ImmutableFieldError",
        ErrorKind::LimitExceeded => "LimitExceededError",
        ErrorKind::InvalidState => "InvalidStateError",
        ErrorKind::Storage | ErrorKind::Io => "StoreError",
        ErrorKind::Corrupt => "CorruptIndexError",
    }
}

/// An instance of the exception class `name` with `message`, `line` and `value`.
fn build(py: Python<'_>, name: &str, message: &str, line: Option<u64>, value: Option<&str>) -> PyResult<PyErr> {
    let class = py.import("iocmatch._errors")?.getattr(name)?;
    let kwargs = PyDict::new(py);
    kwargs.set_item("line", line)?;
    kwargs.set_item("value", value)?;
    let exc = class.call((message,), Some(&kwargs))?;
    Ok(PyErr::from_value(exc))
}

/// A core error as its Python exception.
pub fn to_py(py: Python<'_>, e: &Error) -> PyErr {
    let name = class_name(e.kind());
    build(py, name, e.message(), e.line(), e.value())
        .unwrap_or_else(|err| PyRuntimeError::new_err(format!("{} (and the exception class failed: {err})", e)))
}

/// A validation error made here (bad argument contents), with the offending value.
pub fn invalid(py: Python<'_>, value: &str, message: impl Into<String>) -> PyErr {
    to_py(py, &Error::invalid(value, message))
}

/// `.py(py)?` on core results.
pub trait IntoPyResult<T> {
    /// The result with a core error turned into its Python exception.
    fn py(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for iocmatch::Result<T> {
    fn py(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|e| to_py(py, &e))
    }
}
