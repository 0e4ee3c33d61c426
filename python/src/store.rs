//! `iocmatch.Store`: the durable IOC store, with every call made without the GIL.

use crate::convert;
use crate::detector::Detector;
use crate::errors::{invalid, IntoPyResult};
use crate::fork;
use crate::matcher::{match_options, Index, Matcher};
use crate::progress::import_with_progress;
use crate::results::{Collection, Community, ImportReport, Indicator, Threat};
use iocmatch::{
    CollectionUpdate, ImportDefaults, IndicatorEdit, IndicatorQuery, MatchOptions, NewCollection, NewThreat, Pagination,
};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyDict, PyString};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

/// A core store that follows forks: in a child process, a file-backed store is opened again
/// (the inherited SQLite connection is leaked, never used or closed); an in-memory store is the
/// child's private copy.
pub struct StoreCell {
    path: Option<PathBuf>,
    state: Mutex<(u64, Arc<iocmatch::Store>)>,
}

impl StoreCell {
    fn open(path: Option<PathBuf>) -> iocmatch::Result<StoreCell> {
        let store = match &path {
            Some(p) => iocmatch::Store::open(p)?,
            None => iocmatch::Store::open_in_memory()?,
        };
        Ok(StoreCell { path, state: Mutex::new((fork::generation(), Arc::new(store))) })
    }

    /// The store for this process.
    pub fn get(&self) -> iocmatch::Result<Arc<iocmatch::Store>> {
        let gen = fork::generation();
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        if state.0 != gen {
            if let Some(p) = &self.path {
                let fresh = Arc::new(iocmatch::Store::open(p)?);
                std::mem::forget(std::mem::replace(&mut state.1, fresh));
            }
            state.0 = gen;
        }
        Ok(state.1.clone())
    }
}

/// Run `f` on the store without the GIL, in this process's thread pool.
pub(crate) fn with_store<T: Send>(
    py: Python<'_>,
    cell: &StoreCell,
    f: impl FnOnce(&iocmatch::Store) -> iocmatch::Result<T> + Send,
) -> PyResult<T> {
    py.detach(|| cell.get().and_then(|s| fork::run(|| f(&s)))).py(py)
}

/// A durable IOC store (SQLite), or a throwaway one in memory when ``path`` is ``None``.
///
/// Safe to share between threads (calls are serialised on its one connection, without the GIL)
/// and usable in a child process after ``os.fork()`` (a file-backed store opens the file again
/// there).
#[pyclass(frozen, module = "iocmatch")]
pub struct Store {
    pub(crate) cell: Arc<StoreCell>,
}

fn page(offset: u64, limit: u64) -> Pagination {
    Pagination { offset, limit }
}

#[pymethods]
impl Store {
    #[new]
    #[pyo3(signature = (path = None))]
    fn new(py: Python<'_>, path: Option<PathBuf>) -> PyResult<Store> {
        fork::watch();
        let cell = py.detach(|| fork::run(|| StoreCell::open(path))).py(py)?;
        Ok(Store { cell: Arc::new(cell) })
    }

    /// The file behind the store, ``None`` in memory.
    #[getter]
    fn path(&self) -> Option<PathBuf> {
        self.cell.path.clone()
    }

    fn __repr__(&self) -> String {
        match &self.cell.path {
            Some(p) => format!("Store({:?})", p.display().to_string()),
            None => "Store(None)".into(),
        }
    }

    // --- communities

    /// Create a community, optionally under a ``parent`` (id or name).
    #[pyo3(signature = (name, parent = None))]
    fn create_community(&self, py: Python<'_>, name: String, parent: Option<String>) -> PyResult<Community> {
        with_store(py, &self.cell, move |s| s.create_community(&name, parent.as_deref())).map(Community)
    }

    /// Every community.
    fn communities(&self, py: Python<'_>) -> PyResult<Vec<Community>> {
        with_store(py, &self.cell, |s| s.communities()).map(|v| v.into_iter().map(Community).collect())
    }

    /// The community with this id or name.
    fn community(&self, py: Python<'_>, community: String) -> PyResult<Community> {
        with_store(py, &self.cell, move |s| s.community(&community)).map(Community)
    }

    /// The ``default`` community, which always exists.
    fn default_community(&self, py: Python<'_>) -> PyResult<Community> {
        with_store(py, &self.cell, |s| s.default_community()).map(Community)
    }

    // --- collections

    /// Create a collection in ``community`` (id or name; the default community when ``None``).
    /// ``create_rule`` also creates a detection rule covering it (``IOC collection: <name>``).
    #[pyo3(signature = (name, description = None, community = None, available_for_sub_communities = false, match_subdomains = false, *, create_rule = false))]
    #[allow(clippy::too_many_arguments)]
    fn create_collection(
        &self,
        py: Python<'_>,
        name: String,
        description: Option<String>,
        community: Option<String>,
        available_for_sub_communities: bool,
        match_subdomains: bool,
        create_rule: bool,
    ) -> PyResult<Collection> {
        let new = NewCollection {
            name,
            description,
            community,
            available_for_sub_communities,
            match_subdomains,
            create_rule,
        };
        with_store(py, &self.cell, move |s| s.create_collection(&new)).map(Collection)
    }

    /// One page of the collections, of one community (id or name) or of all.
    #[pyo3(signature = (community = None, *, offset = 0, limit = 100))]
    fn collections(
        &self,
        py: Python<'_>,
        community: Option<String>,
        offset: u64,
        limit: u64,
    ) -> PyResult<Vec<Collection>> {
        let p = with_store(py, &self.cell, move |s| s.collections(community.as_deref(), page(offset, limit)))?;
        Ok(p.items.into_iter().map(Collection).collect())
    }

    /// The collection with this id or name.
    fn collection(&self, py: Python<'_>, collection: String) -> PyResult<Collection> {
        with_store(py, &self.cell, move |s| s.collection(&collection)).map(Collection)
    }

    /// Change a collection: keyword arguments ``name``, ``description`` (``None`` clears it),
    /// ``available_for_sub_communities``, ``match_subdomains``; the others stay.
    #[pyo3(signature = (collection, **changes), text_signature = "(self, collection, *, name=..., description=..., available_for_sub_communities=..., match_subdomains=...)")]
    fn update_collection(
        &self,
        py: Python<'_>,
        collection: String,
        changes: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Collection> {
        let mut update = CollectionUpdate::default();
        for (k, v) in changes.map(|d| d.iter().collect::<Vec<_>>()).unwrap_or_default() {
            let key: String = k.extract()?;
            match key.as_str() {
                "name" => update.name = Some(v.extract()?),
                "description" => update.description = Some(v.extract()?),
                "available_for_sub_communities" => update.available_for_sub_communities = Some(v.extract()?),
                "match_subdomains" => update.match_subdomains = Some(v.extract()?),
                other => {
                    return Err(PyTypeError::new_err(format!(
                        "update_collection() got an unexpected keyword argument '{other}'"
                    )))
                }
            }
        }
        with_store(py, &self.cell, move |s| s.update_collection(&collection, &update)).map(Collection)
    }

    /// Delete a collection and its indicators; returns how many indicators went with it.
    fn delete_collection(&self, py: Python<'_>, collection: String) -> PyResult<u64> {
        with_store(py, &self.cell, move |s| s.delete_collection(&collection))
    }

    // --- detection rules

    /// Create a detection rule over ``collections`` (ids or names) or over every collection of
    /// ``community`` (id or name), present and future; returns it as a dict (``id``, ``name``,
    /// ``description``, ``enabled``, ``community_id``, ``collections``, ``created``,
    /// ``modified``).
    #[pyo3(signature = (name, collections = None, *, community = None, description = None, enabled = true))]
    fn create_rule<'py>(
        &self,
        py: Python<'py>,
        name: String,
        collections: Option<Vec<String>>,
        community: Option<String>,
        description: Option<String>,
        enabled: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let new =
            iocmatch::NewRule { name, description, collections: collections.unwrap_or_default(), community, enabled };
        let r = with_store(py, &self.cell, move |s| s.create_rule(&new))?;
        convert::to_py(py, &r)
    }

    /// Every rule, oldest first, as dicts.
    fn rules<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let r = with_store(py, &self.cell, |s| s.rules())?;
        convert::to_py(py, &r)
    }

    /// The rule with this id or name, as a dict.
    fn rule<'py>(&self, py: Python<'py>, rule: String) -> PyResult<Bound<'py, PyAny>> {
        let r = with_store(py, &self.cell, move |s| s.rule(&rule))?;
        convert::to_py(py, &r)
    }

    /// Enable or disable a rule (id or name); returns it as it is now. A disabled rule alerts
    /// nothing.
    fn set_rule_enabled<'py>(&self, py: Python<'py>, rule: String, enabled: bool) -> PyResult<Bound<'py, PyAny>> {
        let r = with_store(py, &self.cell, move |s| s.set_rule_enabled(&rule, enabled))?;
        convert::to_py(py, &r)
    }

    /// Delete a rule (id or name; its collections stay); returns it as it was.
    fn delete_rule<'py>(&self, py: Python<'py>, rule: String) -> PyResult<Bound<'py, PyAny>> {
        let r = with_store(py, &self.cell, move |s| s.delete_rule(&rule))?;
        convert::to_py(py, &r)
    }

    // --- indicators

    /// Add indicators from the spec's batch payload (``{"indicators": [{"value": ...}, ...],
    /// "default_fields": {...}}``, a dict or JSON text); returns the spec's response dict
    /// (``items`` in STIX 2.1 shape, ``total``, ``duplicates``, and ``errors`` for rejected items).
    fn add_indicators<'py>(
        &self,
        py: Python<'py>,
        collection: String,
        payload: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let json = if payload.is_instance_of::<PyString>() || payload.is_instance_of::<PyBytes>() {
            let raw = convert::bytes_of(payload, "payload")?;
            serde_json::from_slice::<serde_json::Value>(&raw)
                .map_err(|e| invalid(py, "payload", format!("invalid batch payload: {e}")))?
        } else if payload.is_instance_of::<PyDict>() {
            convert::to_json(payload)?
        } else {
            return Err(PyTypeError::new_err(format!(
                "payload must be a dict or JSON text, not {}",
                convert::type_name(payload)
            )));
        };
        let parsed: iocmatch::BatchPayload =
            serde_json::from_value(json).map_err(|e| invalid(py, "payload", format!("invalid batch payload: {e}")))?;
        let response = with_store(py, &self.cell, move |s| s.add_indicators(&collection, &parsed))?;
        convert::to_py(py, &response)
    }

    /// Import STIX 2.1 indicators into a collection: ``data`` is a bundle (``str``, ``bytes``, a
    /// ``dict``, or a path to a file), a list of objects, or one object per line. Supported
    /// patterns become indicators with their validity, kill chain phases, description and
    /// ``indicates`` threats; every skipped object is in the report with its id and the reason.
    /// ``progress`` as for ``import_text``.
    #[pyo3(signature = (collection, data, *, progress = None))]
    fn import_stix(
        &self,
        py: Python<'_>,
        collection: String,
        data: &Bound<'_, PyAny>,
        progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ImportReport> {
        crate::interchange::import_stix(py, &self.cell, collection, data, progress)
    }

    /// Import a MISP event (JSON, also the REST ``response`` wrapper) or a MISP CSV export into a
    /// collection: ``data`` is ``str``, ``bytes``, a ``dict`` or a path. Only ``to_ids``
    /// attributes unless ``all_attributes``; every skipped attribute is in the report.
    /// ``progress`` as for ``import_text``.
    #[pyo3(signature = (collection, data, all_attributes = false, *, progress = None))]
    fn import_misp(
        &self,
        py: Python<'_>,
        collection: String,
        data: &Bound<'_, PyAny>,
        all_attributes: bool,
        progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ImportReport> {
        crate::interchange::import_misp(py, &self.cell, collection, data, all_attributes, progress)
    }

    /// The collection as a STIX 2.1 bundle (a dict).
    fn export_stix(&self, py: Python<'_>, collection: String) -> PyResult<Py<PyAny>> {
        crate::interchange::export_stix(py, &self.cell, collection)
    }

    /// The collection's active observables as a text blocklist, one per line; ``kind`` keeps one
    /// kind only.
    #[pyo3(signature = (collection, kind = None))]
    fn export_text(&self, py: Python<'_>, collection: String, kind: Option<String>) -> PyResult<String> {
        crate::interchange::export_text(py, &self.cell, collection, kind)
    }

    /// Import a text feed (``str`` or ``bytes``), one IOC per line, into a collection. Keyword
    /// arguments give every indicator its properties: ``valid_from``, ``valid_until`` (dates),
    /// ``kill_chain_phases``, ``x_ic_related_threat_refs`` (threat ids, names or aliases),
    /// ``description``, ``kind`` (force a kind, e.g. ``"username"``), ``match_subdomains``.
    /// ``progress`` is a callable ``(stage, done, total)``, or ``True`` for a tqdm bar (when tqdm
    /// is installed); it is called from a worker thread (with the GIL) and must not use this
    /// store. Rejected lines are in the report; the import is one transaction.
    #[pyo3(signature = (collection, text, *, valid_from = None, valid_until = None, kill_chain_phases = None, x_ic_related_threat_refs = None, description = None, kind = None, match_subdomains = None, progress = None))]
    #[allow(clippy::too_many_arguments)]
    fn import_text(
        &self,
        py: Python<'_>,
        collection: String,
        text: &Bound<'_, PyAny>,
        valid_from: Option<&Bound<'_, PyAny>>,
        valid_until: Option<&Bound<'_, PyAny>>,
        kill_chain_phases: Option<&Bound<'_, PyAny>>,
        x_ic_related_threat_refs: Option<&Bound<'_, PyAny>>,
        description: Option<String>,
        kind: Option<String>,
        match_subdomains: Option<bool>,
        progress: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<ImportReport> {
        let defaults = ImportDefaults {
            valid_from: convert::opt_timestamp(valid_from)?,
            valid_until: convert::opt_timestamp(valid_until)?,
            kill_chain_phases: kill_chain_phases
                .filter(|p| !p.is_none())
                .map(convert::phases)
                .transpose()?
                .unwrap_or_default(),
            threats: x_ic_related_threat_refs
                .filter(|t| !t.is_none())
                .map(|t| convert::strings(t, "x_ic_related_threat_refs"))
                .transpose()?
                .unwrap_or_default(),
            description,
            kind: kind.map(|k| convert::kind(py, &k)).transpose()?,
            match_subdomains,
        };
        let input = convert::bytes_of(text, "text")?;
        import_with_progress(py, &self.cell, progress, |s, p| {
            s.import_text_with_progress(&collection, &input, &defaults, p)
        })
    }

    /// Preview a tabular file (CSV/TSV, XLS, XLSX, ODS) for an import into a collection: a
    /// ``str`` or path-like is read from disk, ``bytes`` are the file itself (``filename`` names
    /// it). Returns the spec's ``files/preview`` answer as a dict: ``preview`` (first 10 rows),
    /// ``mapping`` (suggested, one entry per column), ``ignore_first_line``, ``file_handle``,
    /// ``format`` and ``delimiter``; for a workbook, ``sheets`` (its worksheets) and ``sheet``
    /// (the one shown: ``sheet`` by name or 1-based number, else the first with cells).
    #[pyo3(signature = (collection, file, filename = None, sheet = None))]
    fn preview_file<'py>(
        &self,
        py: Python<'py>,
        collection: String,
        file: &Bound<'py, PyAny>,
        filename: Option<String>,
        sheet: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        crate::files::preview(py, &self.cell, collection, file, filename, sheet)
    }

    /// Import a tabular file into a collection with a ``mapping`` (a list of ``observable``,
    /// ``valid_from``, ``valid_until``, ``kill_chain_phases``, ``x_ic_related_threat_refs``,
    /// ``description`` or ``None`` per column, or a comma-separated string; the suggested one when
    /// ``None``) and ``ignore_first_line`` (detected when ``None``). Keyword arguments give the
    /// defaults of ``import_text`` for properties no column gives. Rejected rows are in the
    /// report with their row numbers; the import is one transaction. ``sheet`` picks a
    /// workbook's worksheet (name or 1-based number; the first with cells when ``None``).
    #[pyo3(signature = (collection, file, mapping = None, ignore_first_line = None, *, filename = None, sheet = None, progress = None, **defaults))]
    #[allow(clippy::too_many_arguments)]
    fn import_file(
        &self,
        py: Python<'_>,
        collection: String,
        file: &Bound<'_, PyAny>,
        mapping: Option<&Bound<'_, PyAny>>,
        ignore_first_line: Option<bool>,
        filename: Option<String>,
        sheet: Option<String>,
        progress: Option<&Bound<'_, PyAny>>,
        defaults: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<ImportReport> {
        let options = crate::files::FileOptions { mapping, ignore_first_line, filename, sheet };
        crate::files::import(py, &self.cell, collection, file, options, progress, defaults)
    }

    /// Every indicator of a collection as CSV (formula-like cells neutralised with ``'``).
    fn export_csv(&self, py: Python<'_>, collection: String) -> PyResult<String> {
        crate::files::export_csv(py, &self.cell, collection)
    }

    /// The indicator with this id.
    fn indicator(&self, py: Python<'_>, indicator_id: String) -> PyResult<Indicator> {
        with_store(py, &self.cell, move |s| s.indicator(&indicator_id)).map(Indicator)
    }

    /// One page of a collection's indicators, optionally of one ``kind``, only revoked
    /// (``revoked=True``) or only active ones (``revoked=False``).
    #[pyo3(signature = (collection, *, kind = None, revoked = None, offset = 0, limit = 100))]
    fn indicators(
        &self,
        py: Python<'_>,
        collection: String,
        kind: Option<String>,
        revoked: Option<bool>,
        offset: u64,
        limit: u64,
    ) -> PyResult<Vec<Indicator>> {
        self.query(py, collection, None, kind, revoked, offset, limit)
    }

    /// Indicators of a collection whose value contains ``text`` (refanged, case-insensitive).
    #[pyo3(signature = (collection, text, *, kind = None, revoked = None, offset = 0, limit = 100))]
    #[allow(clippy::too_many_arguments)]
    fn search(
        &self,
        py: Python<'_>,
        collection: String,
        text: String,
        kind: Option<String>,
        revoked: Option<bool>,
        offset: u64,
        limit: u64,
    ) -> PyResult<Vec<Indicator>> {
        self.query(py, collection, Some(text), kind, revoked, offset, limit)
    }

    /// Change an indicator: keyword arguments ``description`` (``None`` clears it),
    /// ``valid_from``, ``valid_until`` (``None``: never expires), ``kill_chain_phases``,
    /// ``x_ic_related_threat_refs``, ``match_subdomains`` (``None``: as the collection says).
    /// ``value`` cannot change: a different one raises :class:`ImmutableFieldError`.
    #[pyo3(signature = (indicator_id, **changes), text_signature = "(self, indicator_id, *, value=..., description=..., valid_from=..., valid_until=..., kill_chain_phases=..., x_ic_related_threat_refs=..., match_subdomains=...)")]
    fn edit_indicator(
        &self,
        py: Python<'_>,
        indicator_id: String,
        changes: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<Indicator> {
        let mut edit = IndicatorEdit::default();
        for (k, v) in changes.map(|d| d.iter().collect::<Vec<_>>()).unwrap_or_default() {
            let key: String = k.extract()?;
            match key.as_str() {
                "value" => edit.value = Some(v.extract()?),
                "description" => edit.description = Some(v.extract()?),
                "valid_from" => edit.valid_from = Some(convert::timestamp(&v)?),
                "valid_until" => edit.valid_until = Some(convert::opt_timestamp(Some(&v))?),
                "kill_chain_phases" => edit.kill_chain_phases = Some(convert::phases(&v)?),
                "x_ic_related_threat_refs" => edit.threats = Some(convert::strings(&v, "x_ic_related_threat_refs")?),
                "match_subdomains" => edit.match_subdomains = Some(v.extract()?),
                other => {
                    return Err(PyTypeError::new_err(format!(
                        "edit_indicator() got an unexpected keyword argument '{other}'"
                    )))
                }
            }
        }
        with_store(py, &self.cell, move |s| s.edit_indicator(&indicator_id, &edit)).map(Indicator)
    }

    /// Revoke an indicator (irreversible: it never matches again; the row stays for audit).
    fn revoke_indicator(&self, py: Python<'_>, indicator_id: String) -> PyResult<Indicator> {
        with_store(py, &self.cell, move |s| s.revoke_indicator(&indicator_id)).map(Indicator)
    }

    // --- threats

    /// Register a threat so that imports can refer to it by id, name or alias.
    #[pyo3(signature = (name, *, id = None, aliases = None, threat_type = None))]
    fn add_threat(
        &self,
        py: Python<'_>,
        name: String,
        id: Option<String>,
        aliases: Option<&Bound<'_, PyAny>>,
        threat_type: Option<String>,
    ) -> PyResult<Threat> {
        let aliases = aliases.map(|a| convert::strings(a, "aliases")).transpose()?.unwrap_or_default();
        let new = NewThreat { id, name, aliases, threat_type };
        with_store(py, &self.cell, move |s| s.add_threat(&new)).map(Threat)
    }

    /// Every registered threat.
    fn threats(&self, py: Python<'_>) -> PyResult<Vec<Threat>> {
        with_store(py, &self.cell, |s| s.threats()).map(|v| v.into_iter().map(Threat).collect())
    }

    /// The threat with this id, name or alias.
    fn threat(&self, py: Python<'_>, reference: String) -> PyResult<Threat> {
        with_store(py, &self.cell, move |s| s.threat(&reference)).map(Threat)
    }

    // --- limits

    /// Active indicators in a community (id or name; the default one when ``None``).
    #[pyo3(signature = (community = None))]
    fn indicator_count(&self, py: Python<'_>, community: Option<String>) -> PyResult<u64> {
        with_store(py, &self.cell, move |s| {
            let c = match community {
                Some(c) => c,
                None => s.default_community()?.id,
            };
            s.indicator_count(&c)
        })
    }

    /// The most active indicators one community may hold (500,000 unless changed).
    fn max_indicators_per_community(&self, py: Python<'_>) -> PyResult<u64> {
        with_store(py, &self.cell, |s| s.max_indicators_per_community())
    }

    /// Change the per-community limit of active indicators.
    fn set_max_indicators_per_community(&self, py: Python<'_>, max: u64) -> PyResult<()> {
        with_store(py, &self.cell, move |s| s.set_max_indicators_per_community(max))
    }

    // --- matching

    /// Compile the store into an immutable :class:`Index` (without the GIL).
    fn compile(&self, py: Python<'_>) -> PyResult<Index> {
        with_store(py, &self.cell, |s| s.compile()).map(|i| Index(Arc::new(i)))
    }

    /// A live :class:`Matcher` over the store: it sees every import, edit and revocation made
    /// through this store object at the next match (changes by other processes after
    /// :meth:`Matcher.refresh`). ``community`` and ``collections`` (ids or names) limit what it
    /// sees; ``profile`` is ``"default"``, ``"strict"`` or a profile file; ``default_time`` is
    /// the time of events without a readable ``@timestamp`` (now when ``None``).
    ///
    /// With ``record_sightings``, it counts every indicator found per event and UTC day, whatever
    /// its validity window, for :meth:`telemetry_from_sightings`; :meth:`Matcher.flush_sightings`
    /// (and :meth:`Matcher.refresh`) add the counts to the store.
    #[pyo3(signature = (*, community = None, collections = None, profile = None, default_time = None, record_sightings = false))]
    fn matcher(
        &self,
        py: Python<'_>,
        community: Option<String>,
        collections: Option<&Bound<'_, PyAny>>,
        profile: Option<String>,
        default_time: Option<&Bound<'_, PyAny>>,
        record_sightings: bool,
    ) -> PyResult<Matcher> {
        let collections =
            collections.filter(|c| !c.is_none()).map(|c| convert::strings(c, "collections")).transpose()?;
        let default_time = convert::opt_timestamp(default_time)?;
        let cell = self.cell.clone();
        let options = with_store(py, &self.cell, move |s| {
            let community = community.map(|c| s.community(&c).map(|c| c.id)).transpose()?;
            let collections = collections
                .map(|l| l.iter().map(|c| s.collection(c).map(|c| c.id)).collect::<iocmatch::Result<Vec<_>>>())
                .transpose()?;
            match_options(community, collections, profile.as_deref(), default_time)
        })?;
        let options = MatchOptions {
            sightings: record_sightings.then(|| Arc::new(iocmatch::SightingsRecorder::new())),
            ..options
        };
        Matcher::live(py, cell, options)
    }

    /// A live :class:`Detector` over the store: the enabled detection rules turn the matches of
    /// each event into alerts typed ``cti``. Like :meth:`matcher`, it sees every import, edit,
    /// revocation and rule change made through this store object at the next detection (changes
    /// by other processes after :meth:`Detector.refresh`). ``community`` and ``collections`` (ids
    /// or names) limit the indicators it sees; ``profile`` is ``"default"``, ``"strict"`` or a
    /// profile file; ``default_time`` is the time of events without a readable ``@timestamp``
    /// (now when ``None``).
    #[pyo3(signature = (*, community = None, collections = None, profile = None, default_time = None))]
    fn detector(
        &self,
        py: Python<'_>,
        community: Option<String>,
        collections: Option<&Bound<'_, PyAny>>,
        profile: Option<String>,
        default_time: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Detector> {
        let collections =
            collections.filter(|c| !c.is_none()).map(|c| convert::strings(c, "collections")).transpose()?;
        let default_time = convert::opt_timestamp(default_time)?;
        let options = with_store(py, &self.cell, move |s| {
            let community = community.map(|c| s.community(&c).map(|c| c.id)).transpose()?;
            let collections = collections
                .map(|l| l.iter().map(|c| s.collection(c).map(|c| c.id)).collect::<iocmatch::Result<Vec<_>>>())
                .transpose()?;
            match_options(community, collections, profile.as_deref(), default_time)
        })?;
        Detector::new(py, self.cell.clone(), options)
    }

    // --- telemetry

    /// Make and save the telemetry report of a collection (id or name) over archived NDJSON
    /// events: ``paths`` is a path or a list of them (files, directories walked, gzip read by
    /// its magic bytes). Only IP, domain and hash indicators; validity windows ignored, revoked
    /// indicators left out; a sighting is one event in which the indicator matched, with its
    /// ``@timestamp`` in the ``window`` (``"365d"`` when ``None``) before ``until`` (now when ``None``).
    /// ``communities`` (ids or names) default to the collection's. Returns the report as a dict
    /// (rows ordered by sightings), with ``"archive"``: files, event totals, bad lines and
    /// unreadable files. ``progress`` is a callable ``(bytes_done, bytes_total)``, called from
    /// worker threads (with the GIL); it must not use this store.
    #[pyo3(signature = (collection, paths, *, window = None, until = None, communities = None, profile = None, progress = None))]
    #[allow(clippy::too_many_arguments)]
    fn telemetry<'py>(
        &self,
        py: Python<'py>,
        collection: String,
        paths: &Bound<'py, PyAny>,
        window: Option<String>,
        until: Option<&Bound<'py, PyAny>>,
        communities: Option<&Bound<'py, PyAny>>,
        profile: Option<String>,
        progress: Option<Py<PyAny>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let paths = crate::detect::paths_arg(paths)?;
        let options = telemetry_options(py, window, until, communities, profile)?;
        let progress = crate::detect::byte_progress(py, progress)?;
        let run = with_store(py, &self.cell, move |s| {
            let source = iocmatch::detect::EventSource::from_paths(&paths)?;
            let report = |done: u64, total: u64| crate::detect::report_bytes(progress.as_ref(), done, total);
            s.telemetry(&collection, &source, &options, Some(&report))
        })?;
        let out = convert::to_py(py, &run.report)?;
        out.set_item("archive", convert::to_py(py, &run.source)?)?;
        Ok(out)
    }

    /// Make and save the telemetry report of a collection (id or name) from the sightings
    /// matchers recorded (``Store.matcher(record_sightings=True)``) and flushed, without reading
    /// events again (day precision). Options as :meth:`telemetry`.
    #[pyo3(signature = (collection, *, window = None, until = None, communities = None, profile = None))]
    fn telemetry_from_sightings<'py>(
        &self,
        py: Python<'py>,
        collection: String,
        window: Option<String>,
        until: Option<&Bound<'py, PyAny>>,
        communities: Option<&Bound<'py, PyAny>>,
        profile: Option<String>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let options = telemetry_options(py, window, until, communities, profile)?;
        let report = with_store(py, &self.cell, move |s| s.telemetry_from_sightings(&collection, &options))?;
        convert::to_py(py, &report)
    }

    /// A saved telemetry report (``telemetry-report--<uuid>``) as a dict.
    fn telemetry_report<'py>(&self, py: Python<'py>, report_id: String) -> PyResult<Bound<'py, PyAny>> {
        let report = with_store(py, &self.cell, move |s| s.telemetry_report(&report_id))?;
        convert::to_py(py, &report)
    }

    /// The saved telemetry reports of a collection, newest first, without their rows.
    fn telemetry_reports<'py>(&self, py: Python<'py>, collection: String) -> PyResult<Bound<'py, PyAny>> {
        let list = with_store(py, &self.cell, move |s| s.telemetry_reports(&collection))?;
        convert::to_py(py, &list)
    }

    /// Delete a saved telemetry report.
    fn delete_telemetry_report(&self, py: Python<'_>, report_id: String) -> PyResult<()> {
        with_store(py, &self.cell, move |s| s.delete_telemetry_report(&report_id))
    }
}

/// Telemetry options from the binding's arguments.
fn telemetry_options(
    py: Python<'_>,
    window: Option<String>,
    until: Option<&Bound<'_, PyAny>>,
    communities: Option<&Bound<'_, PyAny>>,
    profile: Option<String>,
) -> PyResult<iocmatch::detect::TelemetryOptions> {
    let communities = communities
        .filter(|c| !c.is_none())
        .map(|c| convert::strings(c, "communities"))
        .transpose()?
        .unwrap_or_default();
    Ok(iocmatch::detect::TelemetryOptions {
        window: match window {
            Some(w) => iocmatch::detect::telemetry::parse_window(&w).py(py)?,
            None => iocmatch::detect::telemetry::DEFAULT_WINDOW,
        },
        until: convert::opt_timestamp(until)?,
        communities,
        profile: profile.as_deref().map(iocmatch::Profile::load).transpose().py(py)?,
    })
}

impl Store {
    #[allow(clippy::too_many_arguments)]
    fn query(
        &self,
        py: Python<'_>,
        collection: String,
        search: Option<String>,
        kind: Option<String>,
        revoked: Option<bool>,
        offset: u64,
        limit: u64,
    ) -> PyResult<Vec<Indicator>> {
        let kind = kind.map(|k| convert::kind(py, &k)).transpose()?;
        let q = IndicatorQuery { search, kind, revoked, page: page(offset, limit) };
        let p = with_store(py, &self.cell, move |s| s.indicators(&collection, &q))?;
        Ok(p.items.into_iter().map(Indicator).collect())
    }
}
