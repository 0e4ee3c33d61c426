"""The STIX 2.1 export is read by the OASIS libraries: ``stix2`` parses the bundle and
``stix2-patterns`` validates every pattern (both pinned in the Makefile's venv)."""

from __future__ import annotations

import stix2
from stix2patterns.validator import run_validator

import iocmatch

from conftest import ROOT

FIXTURES = ROOT / "testdata" / "interchange"


def test_export_is_valid_stix() -> None:
    store = iocmatch.Store()
    store.create_collection("feed", description="every kind of indicator")
    store.import_stix("feed", FIXTURES / "bundle.json")
    store.import_misp("feed", FIXTURES / "misp_event.json", all_attributes=True)
    store.import_text("feed", "hxxp://evil[.]com/a?b='c'\n2001:db8::/32\n")
    revoked = store.indicators("feed", limit=1)[0]
    store.revoke_indicator(revoked.id)
    bundle = store.export_stix("feed")

    parsed = stix2.parse(bundle, allow_custom=True)
    kinds = {o.type for o in parsed.objects}
    assert kinds == {"identity", "indicator", "intrusion-set", "malware", "relationship"}
    indicators = [o for o in parsed.objects if o.type == "indicator"]
    assert len(indicators) == len(store.indicators("feed", limit=1000)) >= 15
    assert sum(1 for o in indicators if o.revoked) == 1
    for ind in indicators:
        assert run_validator(ind.pattern, stix_version="2.1") == [], ind.pattern
    ids = {o.id for o in parsed.objects}
    for rel in (o for o in parsed.objects if o.type == "relationship"):
        assert rel.relationship_type == "indicates"
        assert rel.source_ref in ids and rel.target_ref in ids
