//! Small frozen result classes, each with `to_dict()` and a `__repr__`.

use crate::convert;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// A community (tenant); collections belong to one.
#[pyclass(frozen, eq, module = "iocmatch")]
#[derive(PartialEq)]
pub struct Community(pub iocmatch::Community);

#[pymethods]
impl Community {
    /// The community's uuid.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }
    /// Its unique name.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    /// The parent community's uuid, ``None`` for a root.
    #[getter]
    fn parent_id(&self) -> Option<&str> {
        self.0.parent_id.as_deref()
    }
    /// When it was created (RFC 3339).
    #[getter]
    fn created(&self) -> String {
        self.0.created.to_rfc3339()
    }
    /// The community as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!("Community(id={:?}, name={:?})", self.0.id, self.0.name)
    }
}

/// An IOC collection.
#[pyclass(frozen, eq, module = "iocmatch")]
#[derive(PartialEq)]
pub struct Collection(pub iocmatch::Collection);

#[pymethods]
impl Collection {
    /// ``ioc-collection--<uuid>``.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }
    /// Its name, unique within its community.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    /// Free text, at most 500 characters.
    #[getter]
    fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The uuid of its community.
    #[getter]
    fn community_id(&self) -> &str {
        &self.0.community_id
    }
    /// Whether sub-communities of its community see it too.
    #[getter]
    fn available_for_sub_communities(&self) -> bool {
        self.0.available_for_sub_communities
    }
    /// Whether its domain indicators also match sub-domains.
    #[getter]
    fn match_subdomains(&self) -> bool {
        self.0.match_subdomains
    }
    /// Number of active indicators.
    #[getter]
    fn indicator_count(&self) -> u64 {
        self.0.indicator_count
    }
    /// Number of revoked indicators (kept for audit).
    #[getter]
    fn revoked_count(&self) -> u64 {
        self.0.revoked_count
    }
    /// When it was created (RFC 3339).
    #[getter]
    fn created(&self) -> String {
        self.0.created.to_rfc3339()
    }
    /// When it was last changed (RFC 3339).
    #[getter]
    fn modified(&self) -> String {
        self.0.modified.to_rfc3339()
    }
    /// The collection as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!("Collection(id={:?}, name={:?}, indicator_count={})", self.0.id, self.0.name, self.0.indicator_count)
    }
}

/// A known threat (intrusion set, malware, ...), referenced by imports by id, name or alias.
#[pyclass(frozen, eq, module = "iocmatch")]
#[derive(PartialEq)]
pub struct Threat(pub iocmatch::Threat);

#[pymethods]
impl Threat {
    /// STIX id, e.g. ``intrusion-set--202fc7e0-1580-4ad1-83d8-5f98be4fe1a2``.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }
    /// Unique name.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    /// Other names it is known by.
    #[getter]
    fn aliases(&self) -> Vec<String> {
        self.0.aliases.clone()
    }
    /// When it was registered (RFC 3339).
    #[getter]
    fn created(&self) -> String {
        self.0.created.to_rfc3339()
    }
    /// The threat as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!("Threat(id={:?}, name={:?})", self.0.id, self.0.name)
    }
}

/// An indicator as stored; ``to_dict()`` gives the spec's STIX 2.1 shape.
#[pyclass(frozen, eq, module = "iocmatch")]
#[derive(PartialEq)]
pub struct Indicator(pub iocmatch::Indicator);

#[pymethods]
impl Indicator {
    /// ``indicator--<uuid>``.
    #[getter]
    fn id(&self) -> &str {
        &self.0.id
    }
    /// The id of its collection.
    #[getter]
    fn collection_id(&self) -> &str {
        &self.0.collection_id
    }
    /// The normalised observable(s), as shown (hashes of one file joined by commas).
    #[getter]
    fn name(&self) -> String {
        self.0.name()
    }
    /// The observables: ``(kind, value)`` pairs.
    #[getter]
    fn observables(&self) -> Vec<(&'static str, String)> {
        self.0.value.observables.iter().map(|o| (o.kind.as_str(), o.value.clone())).collect()
    }
    /// The port an IP indicator was given with, or ``None``.
    #[getter]
    fn port(&self) -> Option<u16> {
        self.0.value.port
    }
    /// Start of validity (RFC 3339).
    #[getter]
    fn valid_from(&self) -> String {
        self.0.valid_from.to_rfc3339()
    }
    /// End of validity (RFC 3339), ``None`` when it never expires.
    #[getter]
    fn valid_until(&self) -> Option<String> {
        self.0.valid_until.map(|t| t.to_rfc3339())
    }
    /// Kill chain phases, as ``{"kill_chain_name", "phase_name"}`` dicts.
    #[getter]
    fn kill_chain_phases<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.0.kill_chain_phases.phases())
    }
    /// Ids of the related threats.
    #[getter]
    fn threats(&self) -> Vec<String> {
        self.0.threats.clone()
    }
    /// Free text.
    #[getter]
    fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// When it was created (RFC 3339).
    #[getter]
    fn created(&self) -> String {
        self.0.created.to_rfc3339()
    }
    /// When it was last changed (RFC 3339).
    #[getter]
    fn modified(&self) -> String {
        self.0.modified.to_rfc3339()
    }
    /// Whether it was revoked (it never matches again).
    #[getter]
    fn revoked(&self) -> bool {
        self.0.revoked()
    }
    /// Whether a domain indicator also matches sub-domains; ``None``: as its collection says.
    #[getter]
    fn match_subdomains(&self) -> Option<bool> {
        self.0.match_subdomains
    }
    /// The indicator in the spec's STIX 2.1 shape.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!("Indicator(id={:?}, name={:?}, revoked={})", self.0.id, self.0.name(), self.0.revoked())
    }
}

/// A line a text import rejected.
#[pyclass(frozen, eq, module = "iocmatch")]
#[derive(PartialEq)]
pub struct Rejected(pub iocmatch::Rejected);

#[pymethods]
impl Rejected {
    /// 1-based line number.
    #[getter]
    fn line(&self) -> u64 {
        self.0.line
    }
    /// The text of the line (cut to 200 characters).
    #[getter]
    fn text(&self) -> &str {
        &self.0.text
    }
    /// Why it was rejected.
    #[getter]
    fn reason(&self) -> &str {
        &self.0.reason
    }
    /// The rejected line as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!("Rejected(line={}, text={:?}, reason={:?})", self.0.line, self.0.text, self.0.reason)
    }
}

/// What a text import did.
#[pyclass(frozen, eq, module = "iocmatch")]
#[derive(PartialEq)]
pub struct ImportReport(pub iocmatch::ImportReport);

#[pymethods]
impl ImportReport {
    /// Lines considered (neither blank nor comments).
    #[getter]
    fn lines(&self) -> u64 {
        self.0.lines
    }
    /// New indicators created.
    #[getter]
    fn imported(&self) -> u64 {
        self.0.imported
    }
    /// Values already active in the collection (or repeated): merged, not added.
    #[getter]
    fn duplicates(&self) -> u64 {
        self.0.duplicates
    }
    /// The rejected lines, with their reasons.
    #[getter]
    fn rejected<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        PyList::new(py, self.0.rejected.iter().map(|r| Rejected(r.clone())))
    }
    /// The report as a dict (``lines``, ``imported``, ``duplicates``, ``rejected``).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::to_py(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!(
            "ImportReport(lines={}, imported={}, duplicates={}, rejected={})",
            self.0.lines,
            self.0.imported,
            self.0.duplicates,
            self.0.rejected.len()
        )
    }
}

/// A classified, normalised observable (see :func:`iocmatch.normalize`).
#[pyclass(frozen, eq, hash, module = "iocmatch")]
#[derive(PartialEq, Eq, Hash)]
pub struct Observable {
    /// The kind name (``"ipv4"``, ``"domain"``, ...).
    #[pyo3(get)]
    pub kind: &'static str,
    /// The normalised value.
    #[pyo3(get)]
    pub value: String,
}

#[pymethods]
impl Observable {
    /// ``{"kind": ..., "value": ...}``.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("kind", self.kind)?;
        d.set_item("value", &self.value)?;
        Ok(d)
    }
    fn __repr__(&self) -> String {
        format!("Observable(kind={:?}, value={:?})", self.kind, self.value)
    }
}

/// One indicator found in one event.
#[pyclass(frozen, eq, module = "iocmatch")]
#[derive(PartialEq)]
pub struct Match {
    pub m: iocmatch::Match,
    /// 1-based line (NDJSON streams) or position (``match_many``), else `None`.
    pub line: Option<u64>,
    pub time: iocmatch::Timestamp,
    pub time_source: iocmatch::TimeSource,
}

fn time_source_name(t: iocmatch::TimeSource) -> &'static str {
    match t {
        iocmatch::TimeSource::Caller => "caller",
        iocmatch::TimeSource::Event => "event",
        iocmatch::TimeSource::Default => "default",
    }
}

#[pymethods]
impl Match {
    /// ``indicator--<uuid>``.
    #[getter]
    fn indicator_id(&self) -> &str {
        &self.m.indicator_id
    }
    /// ``ioc-collection--<uuid>``.
    #[getter]
    fn collection_id(&self) -> &str {
        &self.m.collection_id
    }
    /// The kind of the indicator's observable (``"ipv4"``, ``"domain"``, ...).
    #[getter]
    fn kind(&self) -> &'static str {
        self.m.kind.as_str()
    }
    /// The indicator's normalised observable (the parent domain of a sub-domain match, the range
    /// of a CIDR match).
    #[getter]
    fn observable(&self) -> &str {
        &self.m.observable
    }
    /// The event field it was found in (``"raw"`` for raw text).
    #[getter]
    fn field(&self) -> &str {
        &self.m.field
    }
    /// The value as it was in the event.
    #[getter]
    fn value(&self) -> &str {
        &self.m.value
    }
    /// Byte offset of the value in the event or line (for a dict event: the position of the
    /// value among the extracted ones).
    #[getter]
    fn offset(&self) -> usize {
        self.m.offset
    }
    /// 1-based line (NDJSON and text streams) or position (``match_many``), else ``None``.
    #[getter]
    fn line(&self) -> Option<u64> {
        self.line
    }
    /// The time the event was matched at (RFC 3339).
    #[getter]
    fn time(&self) -> String {
        self.time.to_rfc3339()
    }
    /// Where that time came from: ``"event"`` (its ``@timestamp``), ``"caller"`` or ``"default"``.
    #[getter]
    fn time_source(&self) -> &'static str {
        time_source_name(self.time_source)
    }
    /// The match as a dict (the CLI's JSON output for one match).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("indicator_id", &self.m.indicator_id)?;
        d.set_item("collection_id", &self.m.collection_id)?;
        d.set_item("kind", self.m.kind.as_str())?;
        d.set_item("observable", &self.m.observable)?;
        d.set_item("field", &self.m.field)?;
        d.set_item("value", &self.m.value)?;
        d.set_item("offset", self.m.offset)?;
        d.set_item("line", self.line)?;
        d.set_item("time", self.time.to_rfc3339())?;
        d.set_item("time_source", time_source_name(self.time_source))?;
        Ok(d)
    }
    /// The match as one ECS ``threat.enrichments`` entry.
    fn to_enrichment<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        convert::from_json(py, &self.m.to_enrichment())
    }
    fn __repr__(&self) -> String {
        format!(
            "Match(field={:?}, value={:?}, kind={:?}, observable={:?}, indicator_id={:?})",
            self.m.field,
            self.m.value,
            self.m.kind.as_str(),
            self.m.observable,
            self.m.indicator_id
        )
    }
}

/// The matches of one event as a Python list of [`Match`].
pub fn match_list<'py>(
    py: Python<'py>,
    found: iocmatch::EventMatches,
    line: Option<u64>,
) -> PyResult<Bound<'py, PyList>> {
    if found.matches.is_empty() {
        return Ok(PyList::empty(py));
    }
    let (time, time_source) = (found.time, found.time_source);
    PyList::new(py, found.matches.into_iter().map(|m| Match { m, line, time, time_source }))
}
