"""Type stubs of the native module ``iocmatch._iocmatch``."""

import os
import pathlib
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple, Union, final
from datetime import date, datetime

from typing_extensions import TypeAlias

_Date: TypeAlias = Union[str, int, float, datetime, date]
_Path: TypeAlias = Union[str, os.PathLike[str]]
_Phases: TypeAlias = Union[str, Sequence[Union[str, Dict[str, str]]]]
_Event: TypeAlias = Union[Dict[str, Any], str, bytes, bytearray]
_Progress: TypeAlias = Union[Callable[[str, int, int], object], bool, None]

__version__: str
__all__ = [
    "__version__",
    "Store",
    "Matcher",
    "Detector",
    "Index",
    "Stream",
    "Community",
    "Collection",
    "Threat",
    "Indicator",
    "ImportReport",
    "Rejected",
    "Match",
    "Observable",
    "load_index",
    "retrohunt",
    "normalize",
    "classify",
    "parse_indicator",
    "refang",
]

@final
class Community:
    """A community (tenant); collections belong to one."""

    @property
    def id(self) -> str:
        """The community's uuid."""
    @property
    def name(self) -> str:
        """Its unique name."""
    @property
    def parent_id(self) -> Optional[str]:
        """The parent community's uuid, ``None`` for a root."""
    @property
    def created(self) -> str:
        """When it was created (RFC 3339)."""
    def to_dict(self) -> Dict[str, Any]:
        """The community as a dict."""

@final
class Collection:
    """An IOC collection."""

    @property
    def id(self) -> str:
        """``ioc-collection--<uuid>``."""
    @property
    def name(self) -> str:
        """Its name, unique within its community."""
    @property
    def description(self) -> Optional[str]:
        """Free text, at most 500 characters."""
    @property
    def community_id(self) -> str:
        """The uuid of its community."""
    @property
    def available_for_sub_communities(self) -> bool:
        """Whether sub-communities of its community see it too."""
    @property
    def match_subdomains(self) -> bool:
        """Whether its domain indicators also match sub-domains."""
    @property
    def indicator_count(self) -> int:
        """Number of active indicators."""
    @property
    def revoked_count(self) -> int:
        """Number of revoked indicators (kept for audit)."""
    @property
    def created(self) -> str:
        """When it was created (RFC 3339)."""
    @property
    def modified(self) -> str:
        """When it was last changed (RFC 3339)."""
    def to_dict(self) -> Dict[str, Any]:
        """The collection as a dict."""

@final
class Threat:
    """A known threat, referenced by imports by id, name or alias."""

    @property
    def id(self) -> str:
        """STIX id."""
    @property
    def name(self) -> str:
        """Unique name."""
    @property
    def aliases(self) -> List[str]:
        """Other names it is known by."""
    @property
    def created(self) -> str:
        """When it was registered (RFC 3339)."""
    def to_dict(self) -> Dict[str, Any]:
        """The threat as a dict."""

@final
class Indicator:
    """An indicator as stored; ``to_dict()`` gives the spec's STIX 2.1 shape."""

    @property
    def id(self) -> str:
        """``indicator--<uuid>``."""
    @property
    def collection_id(self) -> str:
        """The id of its collection."""
    @property
    def name(self) -> str:
        """The normalised observable(s), as shown."""
    @property
    def observables(self) -> List[Tuple[str, str]]:
        """The observables: ``(kind, value)`` pairs."""
    @property
    def port(self) -> Optional[int]:
        """The port an IP indicator was given with, or ``None``."""
    @property
    def valid_from(self) -> str:
        """Start of validity (RFC 3339)."""
    @property
    def valid_until(self) -> Optional[str]:
        """End of validity (RFC 3339), ``None`` when it never expires."""
    @property
    def kill_chain_phases(self) -> List[Dict[str, str]]:
        """Kill chain phases."""
    @property
    def threats(self) -> List[str]:
        """Ids of the related threats."""
    @property
    def description(self) -> Optional[str]:
        """Free text."""
    @property
    def created(self) -> str:
        """When it was created (RFC 3339)."""
    @property
    def modified(self) -> str:
        """When it was last changed (RFC 3339)."""
    @property
    def revoked(self) -> bool:
        """Whether it was revoked."""
    @property
    def match_subdomains(self) -> Optional[bool]:
        """Sub-domain matching; ``None``: as its collection says."""
    def to_dict(self) -> Dict[str, Any]:
        """The indicator in the spec's STIX 2.1 shape."""

@final
class Rejected:
    """A line a text import rejected."""

    @property
    def line(self) -> int:
        """1-based line number."""
    @property
    def text(self) -> str:
        """The text of the line."""
    @property
    def reason(self) -> str:
        """Why it was rejected."""
    def to_dict(self) -> Dict[str, Any]:
        """The rejected line as a dict."""

@final
class ImportReport:
    """What a text import did."""

    @property
    def lines(self) -> int:
        """Lines considered (neither blank nor comments)."""
    @property
    def imported(self) -> int:
        """New indicators created."""
    @property
    def duplicates(self) -> int:
        """Values already active (or repeated): merged, not added."""
    @property
    def rejected(self) -> List[Rejected]:
        """The rejected lines, with their reasons."""
    def to_dict(self) -> Dict[str, Any]:
        """The report as a dict."""

@final
class Observable:
    """A classified, normalised observable."""

    @property
    def kind(self) -> str:
        """The kind name."""
    @property
    def value(self) -> str:
        """The normalised value."""
    def to_dict(self) -> Dict[str, str]:
        """``{"kind": ..., "value": ...}``."""

@final
class Match:
    """One indicator found in one event."""

    @property
    def indicator_id(self) -> str:
        """``indicator--<uuid>``."""
    @property
    def collection_id(self) -> str:
        """``ioc-collection--<uuid>``."""
    @property
    def kind(self) -> str:
        """The kind of the indicator's observable."""
    @property
    def observable(self) -> str:
        """The indicator's normalised observable."""
    @property
    def field(self) -> str:
        """The event field it was found in (``"raw"`` for raw text)."""
    @property
    def value(self) -> str:
        """The value as it was in the event."""
    @property
    def offset(self) -> int:
        """Byte offset of the value (position among the extracted values for a dict)."""
    @property
    def line(self) -> Optional[int]:
        """1-based line (streams) or position (``match_many``), else ``None``."""
    @property
    def time(self) -> str:
        """The time the event was matched at (RFC 3339)."""
    @property
    def time_source(self) -> str:
        """``"event"``, ``"caller"`` or ``"default"``."""
    def to_dict(self) -> Dict[str, Any]:
        """The match as a dict."""
    def to_enrichment(self) -> Dict[str, Any]:
        """The match as one ECS ``threat.enrichments`` entry."""

@final
class Stream:
    """The matches of an NDJSON or text stream, in input order."""

    def __iter__(self) -> Iterator[Match]: ...
    def __next__(self) -> Match: ...
    @property
    def summary(self) -> Dict[str, int]:
        """Totals so far: events, matched_events, matches, bad_lines, bytes."""

@final
class Matcher:
    """Matches events against indicators."""

    def match(self, event: _Event, *, at: Optional[_Date] = None) -> List[Match]:
        """Match one event (a dict, or JSON as str or bytes)."""
    def match_many(self, events: Iterable[_Event], *, at: Optional[_Date] = None) -> List[List[Match]]:
        """Match many events in parallel; one list of matches per event."""
    def match_ndjson(self, source: Any, *, at: Optional[_Date] = None, strict: bool = False) -> Stream:
        """Match an NDJSON stream (a path or a binary file object)."""
    def scan_text(self, text: Union[str, bytes], *, at: Optional[_Date] = None) -> List[Match]:
        """Scan raw text for indicators anywhere, on token boundaries."""
    def scan_file(self, source: Any, *, at: Optional[_Date] = None) -> Stream:
        """Scan a text file line by line as raw text."""
    @property
    def fields(self) -> List[str]:
        """The event fields this matcher looks at."""
    def refresh(self) -> None:
        """Pick up every change in the store, from any process."""
    def flush_sightings(self) -> int:
        """Add the sightings counted so far to the store; the number written."""

@final
class Detector:
    """Live detection: the enabled rules turn matches into ``cti`` alerts (dicts)."""

    def detect(self, event: _Event, *, at: Optional[_Date] = None) -> List[Dict[str, Any]]:
        """The alerts of one event (a dict, or JSON as str or bytes)."""
    def detect_ndjson(
        self, source: Any, *, at: Optional[_Date] = None, strict: bool = False
    ) -> List[Dict[str, Any]]:
        """The alerts of an NDJSON stream (a path or a binary file object), with line numbers."""
    def refresh(self) -> None:
        """Pick up every change in the store (indicators and rules), from any process."""

@final
class Index:
    """A compiled, immutable snapshot of a store."""

    def save(self, path: _Path) -> None:
        """Write the index to ``path``."""
    def matcher(
        self,
        *,
        community: Optional[str] = None,
        collections: Optional[Sequence[str]] = None,
        profile: Optional[str] = None,
        default_time: Optional[_Date] = None,
    ) -> Matcher:
        """A matcher over this index."""
    def __len__(self) -> int: ...
    @property
    def size_bytes(self) -> int:
        """Size of the index in bytes."""
    @property
    def created(self) -> str:
        """When the index was compiled (RFC 3339)."""

@final
class Store:
    """A durable IOC store (SQLite), or one in memory when ``path`` is ``None``."""

    def __new__(cls, path: Optional[_Path] = None) -> "Store": ...
    @property
    def path(self) -> Optional[pathlib.Path]:
        """The file behind the store, ``None`` in memory."""
    def create_community(self, name: str, parent: Optional[str] = None) -> Community:
        """Create a community."""
    def communities(self) -> List[Community]:
        """Every community."""
    def community(self, community: str) -> Community:
        """The community with this id or name."""
    def default_community(self) -> Community:
        """The ``default`` community."""
    def create_collection(
        self,
        name: str,
        description: Optional[str] = None,
        community: Optional[str] = None,
        available_for_sub_communities: bool = False,
        match_subdomains: bool = False,
        *,
        create_rule: bool = False,
    ) -> Collection:
        """Create a collection (and, with ``create_rule``, a detection rule covering it)."""
    def create_rule(
        self,
        name: str,
        collections: Optional[Sequence[str]] = None,
        *,
        community: Optional[str] = None,
        description: Optional[str] = None,
        enabled: bool = True,
    ) -> Dict[str, Any]:
        """Create a detection rule over collections or over every collection of a community."""
    def rules(self) -> List[Dict[str, Any]]:
        """Every rule, oldest first."""
    def rule(self, rule: str) -> Dict[str, Any]:
        """The rule with this id or name."""
    def set_rule_enabled(self, rule: str, enabled: bool) -> Dict[str, Any]:
        """Enable or disable a rule."""
    def delete_rule(self, rule: str) -> Dict[str, Any]:
        """Delete a rule; its collections stay."""
    def collections(self, community: Optional[str] = None, *, offset: int = 0, limit: int = 100) -> List[Collection]:
        """One page of the collections."""
    def collection(self, collection: str) -> Collection:
        """The collection with this id or name."""
    def update_collection(
        self,
        collection: str,
        *,
        name: str = ...,
        description: Optional[str] = ...,
        available_for_sub_communities: bool = ...,
        match_subdomains: bool = ...,
    ) -> Collection:
        """Change a collection."""
    def delete_collection(self, collection: str) -> int:
        """Delete a collection and its indicators."""
    def add_indicators(self, collection: str, payload: Union[Dict[str, Any], str, bytes]) -> Dict[str, Any]:
        """Add indicators from the spec's batch payload; returns the spec's response."""
    def import_stix(
        self,
        collection: str,
        data: Union[str, bytes, Dict[str, Any], List[Any], os.PathLike[str]],
        *,
        progress: _Progress = None,
    ) -> ImportReport:
        """Import STIX 2.1 indicators (a bundle, a list of objects, or one object per line)."""
    def import_misp(
        self,
        collection: str,
        data: Union[str, bytes, Dict[str, Any], List[Any], os.PathLike[str]],
        all_attributes: bool = False,
        *,
        progress: _Progress = None,
    ) -> ImportReport:
        """Import a MISP event (JSON) or a MISP CSV export."""
    def export_stix(self, collection: str) -> Dict[str, Any]:
        """The collection as a STIX 2.1 bundle."""
    def export_text(self, collection: str, kind: Optional[str] = None) -> str:
        """The collection's active observables, one per line."""
    def import_text(
        self,
        collection: str,
        text: Union[str, bytes],
        *,
        valid_from: Optional[_Date] = None,
        valid_until: Optional[_Date] = None,
        kill_chain_phases: Optional[_Phases] = None,
        x_ic_related_threat_refs: Optional[Sequence[str]] = None,
        description: Optional[str] = None,
        kind: Optional[str] = None,
        match_subdomains: Optional[bool] = None,
        progress: _Progress = None,
    ) -> ImportReport:
        """Import a text feed, one IOC per line."""
    def preview_file(
        self,
        collection: str,
        file: Union[_Path, bytes, bytearray],
        filename: Optional[str] = None,
        sheet: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Preview a tabular file: the spec's files/preview answer (first rows, suggested mapping)."""
    def import_file(
        self,
        collection: str,
        file: Union[_Path, bytes, bytearray],
        mapping: Union[Sequence[Optional[str]], str, None] = None,
        ignore_first_line: Optional[bool] = None,
        *,
        filename: Optional[str] = None,
        sheet: Optional[str] = None,
        progress: _Progress = None,
        **defaults: Any,
    ) -> ImportReport:
        """Import a tabular file (CSV/TSV, XLS, XLSX, ODS) with a mapping and default fields."""
    def export_csv(self, collection: str) -> str:
        """Every indicator of a collection as CSV, formula-like cells neutralised."""
    def indicator(self, indicator_id: str) -> Indicator:
        """The indicator with this id."""
    def indicators(
        self,
        collection: str,
        *,
        kind: Optional[str] = None,
        revoked: Optional[bool] = None,
        offset: int = 0,
        limit: int = 100,
    ) -> List[Indicator]:
        """One page of a collection's indicators."""
    def search(
        self,
        collection: str,
        text: str,
        *,
        kind: Optional[str] = None,
        revoked: Optional[bool] = None,
        offset: int = 0,
        limit: int = 100,
    ) -> List[Indicator]:
        """Indicators whose value contains ``text``."""
    def edit_indicator(
        self,
        indicator_id: str,
        *,
        value: str = ...,
        description: Optional[str] = ...,
        valid_from: _Date = ...,
        valid_until: Optional[_Date] = ...,
        kill_chain_phases: _Phases = ...,
        x_ic_related_threat_refs: Sequence[str] = ...,
        match_subdomains: Optional[bool] = ...,
    ) -> Indicator:
        """Change an indicator."""
    def revoke_indicator(self, indicator_id: str) -> Indicator:
        """Revoke an indicator (irreversible)."""
    def add_threat(
        self,
        name: str,
        *,
        id: Optional[str] = None,
        aliases: Optional[Sequence[str]] = None,
        threat_type: Optional[str] = None,
    ) -> Threat:
        """Register a threat."""
    def threats(self) -> List[Threat]:
        """Every registered threat."""
    def threat(self, reference: str) -> Threat:
        """The threat with this id, name or alias."""
    def indicator_count(self, community: Optional[str] = None) -> int:
        """Active indicators in a community."""
    def max_indicators_per_community(self) -> int:
        """The per-community limit of active indicators."""
    def set_max_indicators_per_community(self, max: int) -> None:
        """Change the per-community limit."""
    def compile(self) -> Index:
        """Compile the store into an immutable index."""
    def matcher(
        self,
        *,
        community: Optional[str] = None,
        collections: Optional[Sequence[str]] = None,
        profile: Optional[str] = None,
        default_time: Optional[_Date] = None,
        record_sightings: bool = False,
    ) -> Matcher:
        """A live matcher over the store."""
    def detector(
        self,
        *,
        community: Optional[str] = None,
        collections: Optional[Sequence[str]] = None,
        profile: Optional[str] = None,
        default_time: Optional[_Date] = None,
    ) -> Detector:
        """A live detector over the store: alerts of the enabled rules."""
    def telemetry(
        self,
        collection: str,
        paths: Union[_Path, Sequence[_Path]],
        *,
        window: Optional[str] = None,
        until: Optional[_Date] = None,
        communities: Optional[Sequence[str]] = None,
        profile: Optional[str] = None,
        progress: Optional[Callable[[int, int], object]] = None,
    ) -> Dict[str, Any]:
        """Make and save a telemetry report over archived NDJSON events."""
    def telemetry_from_sightings(
        self,
        collection: str,
        *,
        window: Optional[str] = None,
        until: Optional[_Date] = None,
        communities: Optional[Sequence[str]] = None,
        profile: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Make and save a telemetry report from recorded sightings."""
    def telemetry_report(self, report_id: str) -> Dict[str, Any]:
        """A saved telemetry report."""
    def telemetry_reports(self, collection: str) -> List[Dict[str, Any]]:
        """The saved telemetry reports of a collection, newest first, without rows."""
    def delete_telemetry_report(self, report_id: str) -> None:
        """Delete a saved telemetry report."""

def load_index(path: _Path) -> Index:
    """Load an index file by mmap."""

def retrohunt(
    store: Store,
    paths: Union[_Path, Iterable[_Path]],
    *,
    since: Optional[_Date] = None,
    margin: str = "5d",
    incremental: bool = False,
    community: Optional[str] = None,
    profile: Optional[str] = None,
    progress: Optional[Callable[[int, int], object]] = None,
) -> Tuple[List[Dict[str, Any]], Dict[str, Any]]:
    """Hunt archived NDJSON events for the enabled rules' indicators: ``(alerts, summary)``."""

def normalize(value: str, kind: Optional[str] = None) -> Observable:
    """Classify and normalise one observable."""

def classify(value: str) -> str:
    """The kind of an observable."""

def parse_indicator(value: str, kind: Optional[str] = None) -> Dict[str, Any]:
    """Parse one line of a feed as an indicator."""

def refang(value: str) -> str:
    """Undo defanging."""
