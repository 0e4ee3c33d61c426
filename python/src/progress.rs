//! Import progress: a Python callable `(stage, done, total)`, or a tqdm bar for `progress=True`.

use crate::errors::IntoPyResult;
use crate::fork;
use crate::results::ImportReport;
use crate::store::StoreCell;
use pyo3::prelude::*;
use pyo3::types::PyBool;

/// Run an import on the store without the GIL (in this process's thread pool), reporting to
/// the caller's `progress` argument.
pub fn import_with_progress(
    py: Python<'_>,
    cell: &StoreCell,
    progress: Option<&Bound<'_, PyAny>>,
    f: impl FnOnce(&iocmatch::Store, &mut dyn FnMut(iocmatch::Progress)) -> iocmatch::Result<iocmatch::ImportReport> + Send,
) -> PyResult<ImportReport> {
    let mut progress = Progress::new(py, progress)?;
    let result = py.detach(|| cell.get().and_then(|s| fork::run(|| f(&s, &mut |p| progress.report(p)))));
    progress.close(py);
    result.py(py).map(ImportReport)
}

/// Where progress reports go (called from worker threads, which take the GIL for the call).
pub struct Progress {
    callback: Option<Py<PyAny>>,
    /// The callback was made here (a tqdm bar) and needs closing.
    owned: bool,
}

impl Progress {
    /// From the `progress` argument: `None`/`False` (nothing), `True` (tqdm when installed) or a
    /// callable.
    pub fn new(py: Python<'_>, arg: Option<&Bound<'_, PyAny>>) -> PyResult<Progress> {
        let Some(arg) = arg.filter(|a| !a.is_none()) else {
            return Ok(Progress { callback: None, owned: false });
        };
        if let Ok(b) = arg.cast::<PyBool>() {
            if !b.is_true() {
                return Ok(Progress { callback: None, owned: false });
            }
            let bar = py.import("iocmatch._progress")?.call_method0("tqdm_progress")?;
            let callback = (!bar.is_none()).then(|| bar.unbind());
            return Ok(Progress { callback, owned: true });
        }
        if !arg.is_callable() {
            return Err(pyo3::exceptions::PyTypeError::new_err(
                "progress must be a callable (stage, done, total), True or None",
            ));
        }
        Ok(Progress { callback: Some(arg.clone().unbind()), owned: false })
    }

    /// Hand one report to the callback. An exception it raises cannot stop the import (which
    /// is one transaction under way): it is reported as unraisable (`sys.unraisablehook`).
    pub fn report(&mut self, p: iocmatch::Progress) {
        let Some(cb) = &self.callback else { return };
        let stage = match p.stage {
            iocmatch::Stage::Parse => "parse",
            iocmatch::Stage::Write => "write",
        };
        Python::attach(|py| {
            if let Err(e) = cb.bind(py).call1((stage, p.done, p.total)) {
                e.write_unraisable(py, Some(cb.bind(py)));
            }
        });
    }

    /// Close a bar made here.
    pub fn close(&self, py: Python<'_>) {
        if let (true, Some(cb)) = (self.owned, &self.callback) {
            if let Err(e) = cb.bind(py).call_method0("close") {
                e.write_unraisable(py, Some(cb.bind(py)));
            }
        }
    }
}
