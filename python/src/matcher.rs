//! `iocmatch.Matcher` and `iocmatch.Index`: matching events (dicts, JSON text, NDJSON streams,
//! raw text) against compiled snapshots.

use crate::convert::{self, utf8};
use crate::errors::{self, IntoPyResult};
use crate::fork;
use crate::results::match_list;
use crate::store::StoreCell;
use crate::stream::{Reader, Stream};
use crate::walk::Walker;
use arc_swap::ArcSwap;
use iocmatch::{EventMatches, LiveMatcher, MatchOptions, Profile, SightingsRecorder, Store, TimeSource, Timestamp};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyByteArray, PyBytes, PyDict, PyList, PyString};
use rayon::prelude::*;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// Match options from the binding's arguments (ids already resolved).
pub fn match_options(
    community: Option<String>,
    collections: Option<Vec<String>>,
    profile: Option<&str>,
    default_time: Option<Timestamp>,
) -> iocmatch::Result<MatchOptions> {
    Ok(MatchOptions {
        profile: profile.map(Profile::load).transpose()?,
        community,
        collections,
        default_time,
        sightings: None,
    })
}

/// A compiled, immutable snapshot of a store (loaded from a file by mmap, or made by
/// :meth:`Store.compile`). Share it freely between threads.
#[pyclass(frozen, module = "iocmatch")]
pub struct Index(pub Arc<iocmatch::Index>);

#[pymethods]
impl Index {
    /// Write the index to ``path`` (atomically: a temporary file renamed into place).
    fn save(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let index = self.0.clone();
        py.detach(move || index.save(&path)).py(py)
    }

    /// A :class:`Matcher` over this index. ``community`` (a community uuid) and ``collections``
    /// (collection ids) limit what it sees; ``profile`` is ``"default"``, ``"strict"`` or a
    /// profile file; ``default_time`` is the time of events without a readable ``@timestamp``.
    #[pyo3(signature = (*, community = None, collections = None, profile = None, default_time = None))]
    fn matcher(
        &self,
        py: Python<'_>,
        community: Option<String>,
        collections: Option<&Bound<'_, PyAny>>,
        profile: Option<String>,
        default_time: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Matcher> {
        let collections =
            collections.filter(|c| !c.is_none()).map(|c| convert::strings(c, "collections")).transpose()?;
        let options =
            match_options(community, collections, profile.as_deref(), convert::opt_timestamp(default_time)?).py(py)?;
        let index = self.0.clone();
        let m = py.detach(move || iocmatch::Matcher::new(index, &options)).py(py)?;
        Ok(Matcher::fixed(Arc::new(m)))
    }

    /// Number of indicators (rows) in the index.
    fn __len__(&self) -> usize {
        self.0.len()
    }

    /// Size of the index in bytes.
    #[getter]
    fn size_bytes(&self) -> usize {
        self.0.size_bytes()
    }

    /// When the index was compiled (RFC 3339).
    #[getter]
    fn created(&self) -> String {
        self.0.created().to_rfc3339()
    }

    fn __repr__(&self) -> String {
        format!("Index(len={}, size_bytes={})", self.0.len(), self.0.size_bytes())
    }
}

/// Load an index file by mmap (zero-copy); a corrupt or foreign file raises
/// :class:`CorruptIndexError`.
#[pyfunction]
pub fn load_index(py: Python<'_>, path: PathBuf) -> PyResult<Index> {
    fork::watch();
    py.detach(move || iocmatch::Index::load(&path)).py(py).map(|i| Index(Arc::new(i)))
}

/// The snapshot a live matcher currently matches with.
struct Cached {
    fork: u64,
    store: Arc<Store>,
    generation: u64,
    matcher: Arc<iocmatch::Matcher>,
}

/// A matcher following a store.
struct Live {
    cell: Arc<StoreCell>,
    options: MatchOptions,
    /// The core live matcher of this process (made again after a fork).
    live: Mutex<(u64, Arc<LiveMatcher>)>,
    cache: ArcSwap<Cached>,
}

impl Live {
    /// Bring the cached matcher up to date (call without the GIL): after a fork, a new core live
    /// matcher; then the store's changes (all of them, from any process, when `full`).
    fn update(&self, full: bool) -> iocmatch::Result<Arc<iocmatch::Matcher>> {
        let fork = fork::generation();
        let store = self.cell.get()?;
        let live = {
            let mut slot = self.live.lock().unwrap_or_else(|p| p.into_inner());
            if slot.0 != fork {
                let mut options = self.options.clone();
                if options.sightings.is_some() {
                    // the parent's counts are the parent's to flush
                    options.sightings = Some(Arc::new(SightingsRecorder::new()));
                }
                let fresh = fork::run(|| LiveMatcher::new(store.clone(), options))?;
                *slot = (fork, Arc::new(fresh));
            }
            slot.1.clone()
        };
        // read first: a write landing meanwhile makes the next call look again
        let generation = store.generation();
        let matcher = fork::run(|| {
            if full {
                live.refresh()?;
            }
            live.matcher()
        })?;
        self.cache.store(Arc::new(Cached { fork, store, generation, matcher: matcher.clone() }));
        Ok(matcher)
    }
}

enum Source {
    Fixed(Arc<iocmatch::Matcher>),
    Live(Box<Live>),
}

/// Matches events against indicators: ``match`` (a dict, JSON ``str`` or ``bytes``),
/// ``match_many``, ``match_ndjson`` (a file, streamed), ``scan_text`` (raw log text).
///
/// Thread-safe: share one matcher between threads. Work on text, batches and streams runs
/// without the GIL (batches and streams on all cores); a dict is read with the GIL held.
#[pyclass(frozen, module = "iocmatch")]
pub struct Matcher {
    source: Source,
    walker: Walker,
}

enum Item {
    Fields(Vec<(u32, String)>, Option<Timestamp>),
    Json(Vec<u8>),
}

impl Matcher {
    fn fixed(m: Arc<iocmatch::Matcher>) -> Matcher {
        let walker = Walker::new(m.fields());
        Matcher { source: Source::Fixed(m), walker }
    }

    /// A live matcher over the store in `cell`.
    pub fn live(py: Python<'_>, cell: Arc<StoreCell>, options: MatchOptions) -> PyResult<Matcher> {
        let fork = fork::generation();
        let (store, live, generation, m) = py
            .detach(|| {
                let store = cell.get()?;
                let generation = store.generation();
                let live = fork::run(|| LiveMatcher::new(store.clone(), options.clone()))?;
                let m = fork::run(|| live.matcher())?;
                Ok::<_, iocmatch::Error>((store, live, generation, m))
            })
            .py(py)?;
        let walker = Walker::new(m.fields());
        let cache = ArcSwap::from_pointee(Cached { fork, store, generation, matcher: m });
        let live = Live { cell, options, live: Mutex::new((fork, Arc::new(live))), cache };
        Ok(Matcher { source: Source::Live(Box::new(live)), walker })
    }

    /// The matcher to use now (cheap when nothing changed: two atomic loads).
    fn current(&self, py: Python<'_>) -> PyResult<Arc<iocmatch::Matcher>> {
        match &self.source {
            Source::Fixed(m) => Ok(m.clone()),
            Source::Live(live) => {
                let c = live.cache.load();
                if c.fork == fork::generation() && c.store.generation() == c.generation {
                    return Ok(c.matcher.clone());
                }
                drop(c);
                py.detach(|| live.update(false)).py(py)
            }
        }
    }

    /// Match a dict event, reading it in place.
    fn match_dict(
        &self,
        m: &iocmatch::Matcher,
        event: &Bound<'_, PyDict>,
        at: Option<Timestamp>,
    ) -> PyResult<EventMatches> {
        let found = self.walker.walk(event)?;
        if found.values.is_empty() {
            return Ok(fields_at::<&str>(m, &[], at, found.timestamp));
        }
        let pairs: Vec<(u32, &str)> = found.values.iter().filter_map(|(f, s)| Some((*f, utf8(s)?))).collect();
        Ok(fields_at(m, &pairs, at, found.timestamp))
    }

    /// One item of `match_many` in owned form.
    fn owned_item(&self, obj: &Bound<'_, PyAny>) -> PyResult<Item> {
        if let Ok(d) = obj.cast::<PyDict>() {
            let found = self.walker.walk(d)?;
            let values = found.values.iter().filter_map(|(f, s)| Some((*f, utf8(s)?.to_owned()))).collect();
            return Ok(Item::Fields(values, found.timestamp));
        }
        if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() || obj.is_instance_of::<PyByteArray>() {
            return convert::bytes_of(obj, "an event").map(Item::Json);
        }
        Err(PyTypeError::new_err(format!(
            "an event must be a dict, or JSON as str or bytes, not {}",
            convert::type_name(obj)
        )))
    }

    fn stream(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
        raw: bool,
        strict: bool,
    ) -> PyResult<Stream> {
        let at = convert::opt_timestamp(at)?;
        let matcher = self.current(py)?;
        let reader = if source.hasattr("read")? {
            Reader::Python(source.clone().unbind())
        } else {
            let path: PathBuf = source.extract().map_err(|_| {
                PyTypeError::new_err(format!(
                    "source must be a path or a binary file object, not {}",
                    convert::type_name(source)
                ))
            })?;
            let file = py
                .detach(|| std::fs::File::open(&path))
                .map_err(|e| {
                    iocmatch::Error::new(iocmatch::ErrorKind::Io, format!("cannot read '{}': {e}", path.display()))
                })
                .py(py)?;
            Reader::File(file)
        };
        Stream::start(matcher, reader, at, raw, strict).py(py)
    }
}

/// Match extracted `(field id, value)` pairs at the caller's time, else the event's, else the
/// default one. The ids are those of the matcher's fields: every matcher of one `Matcher`
/// object has the same profile, so the same fields.
pub(crate) fn fields_at<V: AsRef<str>>(
    m: &iocmatch::Matcher,
    pairs: &[(u32, V)],
    at: Option<Timestamp>,
    event: Option<Timestamp>,
) -> EventMatches {
    match (at, event) {
        (Some(t), _) => m.match_field_ids(pairs, Some(t)),
        (None, Some(t)) => {
            let mut r = m.match_field_ids(pairs, Some(t));
            r.time_source = TimeSource::Event;
            r
        }
        (None, None) => m.match_field_ids(pairs, None),
    }
}

#[pymethods]
impl Matcher {
    /// Match one event: a dict (nested objects, dotted keys and lists, read in place), or one
    /// JSON object as ``str`` or ``bytes``. The time is ``at`` when given, else the event's
    /// ``@timestamp``, else the default time. Returns the matches (an empty list when none).
    #[pyo3(name = "match", signature = (event, *, at = None))]
    fn match_event<'py>(
        &self,
        py: Python<'py>,
        event: &Bound<'py, PyAny>,
        at: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let at = match at {
            None => None,
            Some(a) => convert::opt_timestamp(Some(a))?,
        };
        let m = self.current(py)?;
        let found = if let Ok(d) = event.cast::<PyDict>() {
            self.match_dict(&m, d, at)?
        } else if let Ok(s) = event.cast::<PyString>() {
            let json = convert::text(s)?.as_bytes();
            py.detach(|| m.match_event(json, at)).py(py)?
        } else if let Ok(b) = event.cast::<PyBytes>() {
            let json = b.as_bytes();
            py.detach(|| m.match_event(json, at)).py(py)?
        } else if let Ok(b) = event.cast::<PyByteArray>() {
            let json = b.to_vec();
            py.detach(|| m.match_event(&json, at)).py(py)?
        } else {
            return Err(PyTypeError::new_err(format!(
                "an event must be a dict, or JSON as str or bytes, not {}",
                convert::type_name(event)
            )));
        };
        match_list(py, found, None)
    }

    /// Match many events (any iterable of dicts, JSON ``str`` or ``bytes``) in parallel, without
    /// the GIL; returns one list of matches per event, in input order. A malformed event raises
    /// :class:`ValidationError` with ``line`` set to its 1-based position.
    #[pyo3(signature = (events, *, at = None))]
    fn match_many<'py>(
        &self,
        py: Python<'py>,
        events: &Bound<'py, PyAny>,
        at: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let at = convert::opt_timestamp(at)?;
        let m = self.current(py)?;
        let mut items = Vec::new();
        for (i, e) in events.try_iter()?.enumerate() {
            let e = e?;
            items.push(self.owned_item(&e).map_err(|err| {
                if err.is_instance_of::<PyTypeError>(py) {
                    PyTypeError::new_err(format!("event {}: {}", i + 1, err.value(py)))
                } else {
                    err
                }
            })?);
        }
        let results: Vec<iocmatch::Result<EventMatches>> = py
            .detach(|| {
                fork::run(|| {
                    Ok(items
                        .par_iter()
                        .with_min_len(64)
                        .map(|item| match item {
                            Item::Json(json) => m.match_event(json, at),
                            Item::Fields(values, ts) => Ok(fields_at(&m, values, at, *ts)),
                        })
                        .collect())
                })
            })
            .py(py)?;
        let out = PyList::empty(py);
        for (i, r) in results.into_iter().enumerate() {
            let line = i as u64 + 1;
            match r {
                Ok(found) => out.append(match_list(py, found, Some(line))?)?,
                Err(e) => return Err(errors::to_py(py, &e.at_line(line))),
            }
        }
        Ok(out)
    }

    /// Match an NDJSON stream (a path, or a binary file object) line by line, in parallel and
    /// without the GIL; yields every :class:`Match` in input order, with ``line`` set. Lines
    /// that are not JSON objects are skipped and counted (``strict=True`` raises
    /// :class:`ValidationError` at the first one instead). The returned iterator's ``summary``
    /// holds the totals.
    #[pyo3(signature = (source, *, at = None, strict = false))]
    fn match_ndjson(
        &self,
        py: Python<'_>,
        source: &Bound<'_, PyAny>,
        at: Option<&Bound<'_, PyAny>>,
        strict: bool,
    ) -> PyResult<Stream> {
        self.stream(py, source, at, false, strict)
    }

    /// Scan raw text (unparsed log lines) for indicators anywhere, on token boundaries; matches
    /// have ``field == "raw"`` and the byte ``offset`` of the token.
    #[pyo3(signature = (text, *, at = None))]
    fn scan_text<'py>(
        &self,
        py: Python<'py>,
        text: &Bound<'py, PyAny>,
        at: Option<&Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyList>> {
        let at = convert::opt_timestamp(at)?;
        let m = self.current(py)?;
        let found = if let Ok(s) = text.cast::<PyString>() {
            let t = convert::text(s)?;
            py.detach(|| m.scan_text(t, at))
        } else if let Ok(b) = text.cast::<PyBytes>() {
            let t = b.as_bytes();
            py.detach(|| m.scan_text_bytes(t, at))
        } else {
            return Err(PyTypeError::new_err(format!("text must be str or bytes, not {}", convert::type_name(text))));
        };
        match_list(py, found, None)
    }

    /// Scan a text file (a path, or a binary file object) line by line as raw text, in parallel;
    /// yields every :class:`Match` with ``line`` set.
    #[pyo3(signature = (source, *, at = None))]
    fn scan_file(&self, py: Python<'_>, source: &Bound<'_, PyAny>, at: Option<&Bound<'_, PyAny>>) -> PyResult<Stream> {
        self.stream(py, source, at, true, false)
    }

    /// The event fields this matcher looks at (its profile), in id order.
    #[getter]
    fn fields(&self) -> Vec<String> {
        self.walker.names().to_vec()
    }

    /// Pick up every change in the store, including those made by other processes or other
    /// ``Store`` objects (changes made through this matcher's own store are seen without it).
    /// A no-op for a matcher over a fixed :class:`Index`.
    fn refresh(&self, py: Python<'_>) -> PyResult<()> {
        match &self.source {
            Source::Fixed(_) => Ok(()),
            Source::Live(live) => py.detach(|| live.update(true)).py(py).map(|_| ()),
        }
    }

    /// Add the sightings this matcher counted (``Store.matcher(record_sightings=True)``) to its
    /// store, and start counting again from zero; returns the sightings written. Counts add up,
    /// so flushing twice never counts twice; :meth:`refresh` flushes too. ``0`` for a matcher
    /// that does not record.
    fn flush_sightings(&self, py: Python<'_>) -> PyResult<u64> {
        match &self.source {
            Source::Fixed(_) => Ok(0),
            Source::Live(live) => py
                .detach(|| {
                    live.update(false)?;
                    let current = live.live.lock().unwrap_or_else(|p| p.into_inner()).1.clone();
                    fork::run(|| current.flush_sightings())
                })
                .py(py),
        }
    }

    fn __repr__(&self) -> String {
        let kind = match &self.source {
            Source::Fixed(_) => "index",
            Source::Live(_) => "live",
        };
        format!("Matcher({kind}, fields={})", self.walker.names().len())
    }
}
