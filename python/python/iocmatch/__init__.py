"""iocmatch: keep Indicator-of-Compromise collections and match security events against them,
in-process (a Rust core).

>>> import iocmatch
>>> store = iocmatch.Store()                     # in memory; Store("iocs.db") for a file
>>> feed = store.create_collection("Phishing")
>>> report = store.import_text(feed.id, "evil[.]example\\n203.0.113.7\\n", valid_from="2024-01-01")
>>> report.imported
2
>>> matcher = store.matcher()
>>> [m.observable for m in matcher.match({"destination": {"ip": "203.0.113.7"}})]
['203.0.113.7']
"""

from ._errors import (
    ConflictError,
    CorruptIndexError,
    ImmutableFieldError,
    InvalidStateError,
    IocMatchError,
    LimitExceededError,
    NotFoundError,
    StoreError,
    ValidationError,
)
from ._iocmatch import (
    Collection,
    Community,
    Detector,
    ImportReport,
    Index,
    Indicator,
    Match,
    Matcher,
    Observable,
    Rejected,
    Store,
    Stream,
    Threat,
    __version__,
    classify,
    load_index,
    normalize,
    parse_indicator,
    refang,
    retrohunt,
)

__all__ = [
    "Collection",
    "Community",
    "ConflictError",
    "CorruptIndexError",
    "Detector",
    "ImmutableFieldError",
    "ImportReport",
    "Index",
    "Indicator",
    "InvalidStateError",
    "IocMatchError",
    "LimitExceededError",
    "Match",
    "Matcher",
    "NotFoundError",
    "Observable",
    "Rejected",
    "Store",
    "StoreError",
    "Stream",
    "Threat",
    "ValidationError",
    "__version__",
    "classify",
    "load_index",
    "normalize",
    "parse_indicator",
    "refang",
    "retrohunt",
]
