//! `iocmatch.Detector`: live detection, the enabled rules turning matches into `cti` alerts.

use crate::convert::{self, utf8};
use crate::errors::IntoPyResult;
use crate::fork;
use crate::matcher::fields_at;
use crate::store::StoreCell;
use crate::walk::Walker;
use iocmatch::detect::{Alert, DetectItem, DetectionType, LiveDetector};
use iocmatch::{MatchOptions, Timestamp};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString};
use std::io::Read;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// One event in owned form, to detect on without the GIL.
enum Event {
    Fields(Vec<(u32, String)>, Option<Timestamp>),
    Json(Vec<u8>),
}

/// Live detection over a store (made by :meth:`Store.detector`): the enabled detection rules
/// turn the matches of each event into alerts typed ``cti``, as dicts (``rule_id``,
/// ``rule_name``, ``detection_type``, ``source``, ``line``, ``time``, ``time_source``,
/// ``matches``), one per rule covering the collection of at least one match.
///
/// It follows its store: the next detection sees the imports, edits, revocations and rule
/// changes made through the same :class:`Store` object; :meth:`refresh` picks up those made by
/// other processes or ``Store`` objects. Thread-safe; detection runs without the GIL.
#[pyclass(frozen, module = "iocmatch")]
pub struct Detector {
    cell: Arc<StoreCell>,
    options: MatchOptions,
    /// The core live detector of this process (made again after a fork).
    live: Mutex<(u64, Arc<LiveDetector>)>,
    walker: Walker,
}

impl Detector {
    /// A detector over the store in `cell`.
    pub fn new(py: Python<'_>, cell: Arc<StoreCell>, options: MatchOptions) -> PyResult<Detector> {
        let fork = fork::generation();
        let (live, walker) = py
            .detach(|| {
                let store = cell.get()?;
                let live = fork::run(|| LiveDetector::new(store, options.clone()))?;
                let current = fork::run(|| live.detector())?;
                Ok::<_, iocmatch::Error>((live, Walker::new(current.matcher().fields())))
            })
            .py(py)?;
        Ok(Detector { cell, options, live: Mutex::new((fork, Arc::new(live))), walker })
    }

    /// The core live detector of this process (call without the GIL).
    fn live(&self) -> iocmatch::Result<Arc<LiveDetector>> {
        let fork = fork::generation();
        let mut slot = self.live.lock().unwrap_or_else(|p| p.into_inner());
        if slot.0 != fork {
            let store = self.cell.get()?;
            let fresh = fork::run(|| LiveDetector::new(store, self.options.clone()))?;
            *slot = (fork, Arc::new(fresh));
        }
        Ok(slot.1.clone())
    }

    /// The detector to use now, up to date with this store object's writes (without the GIL).
    fn current(&self) -> iocmatch::Result<iocmatch::detect::Detector> {
        let live = self.live()?;
        fork::run(|| live.detector())
    }

    /// An event argument in owned form.
    fn event(&self, event: &Bound<'_, PyAny>) -> PyResult<Event> {
        if let Ok(d) = event.cast::<PyDict>() {
            let found = self.walker.walk(d)?;
            let values = found.values.iter().filter_map(|(f, s)| Some((*f, utf8(s)?.to_owned()))).collect();
            return Ok(Event::Fields(values, found.timestamp));
        }
        if event.is_instance_of::<PyString>()
            || event.is_instance_of::<PyBytes>()
            || event.is_instance_of::<PyByteArray>()
        {
            return convert::bytes_of(event, "an event").map(Event::Json);
        }
        Err(PyTypeError::new_err(format!(
            "an event must be a dict, or JSON as str or bytes, not {}",
            convert::type_name(event)
        )))
    }
}

#[pymethods]
impl Detector {
    /// The alerts of one event: a dict (nested objects, dotted keys and lists), or one JSON
    /// object as ``str`` or ``bytes``, matched at ``at`` when given, else at the event's
    /// ``@timestamp``, else at the default time. Returns a list of alert dicts (empty when
    /// nothing alerts); a malformed event raises :class:`ValidationError`.
    #[pyo3(signature = (event, *, at = None))]
    fn detect<'py>(
        &self,
        py: Python<'py>,
        event: &Bound<'py, PyAny>,
        at: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let at = convert::opt_timestamp(at)?;
        let event = self.event(event)?;
        let alerts: Vec<Alert> = py
            .detach(|| {
                let d = self.current()?;
                match &event {
                    Event::Json(json) => d.detect(json, at),
                    Event::Fields(values, ts) => {
                        let m = fields_at(d.matcher(), values, at, *ts);
                        Ok(d.rules().alerts(&m, DetectionType::Cti, None, None))
                    }
                }
            })
            .py(py)?;
        convert::to_py(py, &alerts)
    }

    /// The alerts of an NDJSON stream (a path, or a binary file object, read whole), lines
    /// matched in parallel without the GIL; returns the alert dicts in line order, each with its
    /// 1-based ``line`` (and ``source``, the path, when given one). Lines that are not JSON
    /// objects are skipped (``strict=True`` raises :class:`ValidationError` at the first one).
    #[pyo3(signature = (source, *, at = None, strict = false))]
    fn detect_ndjson<'py>(
        &self,
        py: Python<'py>,
        source: &Bound<'py, PyAny>,
        at: Option<&Bound<'py, PyAny>>,
        strict: bool,
    ) -> PyResult<Bound<'py, PyList>> {
        let at = convert::opt_timestamp(at)?;
        let (name, data): (Option<String>, Option<Vec<u8>>) = if source.hasattr("read")? {
            (None, Some(convert::bytes_of(&source.call_method0("read")?, "the file's content")?))
        } else {
            let path: PathBuf = source.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "source must be a path or a binary file object, not {}",
                    convert::type_name(source)
                ))
            })?;
            (Some(path.display().to_string()), None)
        };
        let alerts: Vec<Alert> = py
            .detach(|| {
                let reader: Box<dyn Read + Send> = match (&name, data) {
                    (_, Some(bytes)) => Box::new(std::io::Cursor::new(bytes)),
                    (Some(path), None) => Box::new(std::fs::File::open(path).map_err(|e| {
                        iocmatch::Error::new(iocmatch::ErrorKind::Io, format!("cannot read '{path}': {e}"))
                    })?),
                    (None, None) => unreachable!("a source is a path or a file"),
                };
                let d = self.current()?;
                fork::run(|| {
                    let mut alerts = Vec::new();
                    d.detect_ndjson(reader, at, name.as_deref(), &mut |item| match item {
                        DetectItem::Alerts(a) => {
                            alerts.extend(a);
                            Ok(())
                        }
                        DetectItem::BadLine { line, error } if strict => Err(error.clone().at_line(line)),
                        DetectItem::BadLine { .. } => Ok(()),
                    })?;
                    Ok(alerts)
                })
            })
            .py(py)?;
        let out = PyList::empty(py);
        for a in &alerts {
            out.append(convert::to_py(py, a)?)?;
        }
        Ok(out)
    }

    /// Bring the detector up to date with every change in its store (indicators and rules),
    /// including those made by other processes or other ``Store`` objects.
    fn refresh(&self, py: Python<'_>) -> PyResult<()> {
        py.detach(|| {
            let live = self.live()?;
            fork::run(|| live.refresh())
        })
        .py(py)
    }

    fn __repr__(&self) -> String {
        format!("Detector(live, fields={})", self.walker.names().len())
    }
}
