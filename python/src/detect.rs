//! `iocmatch.retrohunt`: replay archived events against the enabled rules' indicators.

use crate::convert;
use crate::store::{with_store, Store};
use iocmatch::detect::{Alert, EventSource, Retrohunt};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use std::path::PathBuf;
use std::sync::Mutex;

/// A `progress` argument of archive reads: a callable `(bytes_done, bytes_total)` or `None`.
pub(crate) fn byte_progress(py: Python<'_>, progress: Option<Py<PyAny>>) -> PyResult<Option<Py<PyAny>>> {
    let progress = progress.filter(|p| !p.is_none(py));
    if let Some(p) = &progress {
        if !p.bind(py).is_callable() {
            return Err(PyTypeError::new_err("progress must be a callable (done, total) or None"));
        }
    }
    Ok(progress)
}

/// Call a [`byte_progress`] callable from a worker thread (taking the GIL); what it raises is
/// reported as unraisable, not propagated.
pub(crate) fn report_bytes(progress: Option<&Py<PyAny>>, done: u64, total: u64) {
    if let Some(cb) = progress {
        Python::attach(|py| {
            if let Err(e) = cb.bind(py).call1((done, total)) {
                e.write_unraisable(py, Some(cb.bind(py)));
            }
        });
    }
}

/// `paths`: one path (str or os.PathLike) or an iterable of them.
pub(crate) fn paths_arg(obj: &Bound<'_, PyAny>) -> PyResult<Vec<PathBuf>> {
    if let Ok(p) = obj.extract::<PathBuf>() {
        return Ok(vec![p]);
    }
    let mut out = Vec::new();
    for item in obj.try_iter().map_err(|_| PyTypeError::new_err("paths must be a path or an iterable of paths"))? {
        out.push(item?.extract::<PathBuf>().map_err(|_| PyTypeError::new_err("paths must hold str or os.PathLike"))?);
    }
    Ok(out)
}

/// Hunt archived NDJSON events (files, gzip-compressed or not, and directories) for the active
/// indicators of the enabled rules' collections, each in force over its validity window widened
/// by ``margin`` on both sides, at each event's ``@timestamp``. Returns ``(alerts, summary)``:
/// alerts as dicts typed ``cti_retrohunt`` with ``source`` (file) and ``line``, in line order
/// within a file; the summary as a dict (files, events, bytes, alerts, indicators, bad lines
/// with their files and line numbers, unreadable files). ``since`` keeps the indicators created
/// or modified at or after it; ``incremental`` remembers what was hunted per file and hunts only
/// what is new. ``progress`` is a callable ``(bytes_done, bytes_total)``, called from worker
/// threads (with the GIL); it must not use this store.
#[pyfunction]
#[pyo3(signature = (store, paths, *, since = None, margin = "5d", incremental = false, community = None, profile = None, progress = None))]
#[allow(clippy::too_many_arguments)]
pub fn retrohunt<'py>(
    py: Python<'py>,
    store: &Store,
    paths: &Bound<'py, PyAny>,
    since: Option<&Bound<'py, PyAny>>,
    margin: &str,
    incremental: bool,
    community: Option<String>,
    profile: Option<String>,
    progress: Option<Py<PyAny>>,
) -> PyResult<Bound<'py, PyTuple>> {
    use crate::errors::IntoPyResult;
    let paths = paths_arg(paths)?;
    let progress = byte_progress(py, progress)?;
    let hunt = Retrohunt {
        since: convert::opt_timestamp(since)?,
        margin: iocmatch::time::parse_duration(margin).py(py)?,
        profile: profile.as_deref().map(iocmatch::Profile::load).transpose().py(py)?,
        community,
        incremental,
    };
    let (alerts, summary) = with_store(py, &store.cell, move |s| {
        let source = EventSource::from_paths(&paths)?;
        let alerts: Mutex<Vec<Alert>> = Mutex::new(Vec::new());
        let sink = |a: &Alert| {
            alerts.lock().unwrap_or_else(|p| p.into_inner()).push(a.clone());
            Ok(())
        };
        let report = |done: u64, total: u64| report_bytes(progress.as_ref(), done, total);
        let summary = hunt.run(s, &source, &sink, Some(&report))?;
        Ok((alerts.into_inner().unwrap_or_else(|p| p.into_inner()), summary))
    })?;
    PyTuple::new(py, [convert::to_py(py, &alerts)?, convert::to_py(py, &summary)?])
}
