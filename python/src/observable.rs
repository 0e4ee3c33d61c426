//! Observable functions: classify, normalise, refang (the core's rules, for scripts and the
//! shared test vectors).

use crate::convert;
use crate::errors::IntoPyResult;
use crate::results::Observable;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

fn kind_arg(py: Python<'_>, kind: Option<&str>) -> PyResult<Option<iocmatch::Kind>> {
    kind.map(|k| convert::kind(py, k)).transpose()
}

/// Classify and normalise one observable (refanged; kind guessed unless ``kind`` is given).
/// Raises :class:`ValidationError` when it is not a valid observable (of that kind).
#[pyfunction]
#[pyo3(signature = (value, kind = None))]
pub fn normalize(py: Python<'_>, value: &str, kind: Option<&str>) -> PyResult<Observable> {
    let kind = kind_arg(py, kind)?;
    let o = iocmatch::observable::normalize(value, kind).py(py)?;
    Ok(Observable { kind: o.kind.as_str(), value: o.value })
}

/// The kind of an observable (``"ipv4"``, ``"domain"``, ``"sha256"``, ...); raises
/// :class:`ValidationError` when it is none.
#[pyfunction]
pub fn classify(py: Python<'_>, value: &str) -> PyResult<&'static str> {
    Ok(iocmatch::observable::normalize(value, None).py(py)?.kind.as_str())
}

/// Parse one line of a feed as an indicator: ``{"observables": [{"kind", "value"}, ...],
/// "port": int | None}`` (several hashes of one file form one indicator; ``IP:port`` keeps the
/// port).
#[pyfunction]
#[pyo3(signature = (value, kind = None))]
pub fn parse_indicator<'py>(py: Python<'py>, value: &str, kind: Option<&str>) -> PyResult<Bound<'py, PyDict>> {
    let kind = kind_arg(py, kind)?;
    let v = iocmatch::observable::parse_indicator(value, kind).py(py)?;
    let observables = PyList::empty(py);
    for o in &v.observables {
        let d = PyDict::new(py);
        d.set_item("kind", o.kind.as_str())?;
        d.set_item("value", &o.value)?;
        observables.append(d)?;
    }
    let out = PyDict::new(py);
    out.set_item("observables", observables)?;
    out.set_item("port", v.port)?;
    Ok(out)
}

/// Undo defanging (``hxxp``, ``[.]``, ``(dot)``, ``[:]//``, ``[@]``, ``[at]``, ...).
#[pyfunction]
pub fn refang(value: &str) -> String {
    iocmatch::observable::refang(value).into_owned()
}
