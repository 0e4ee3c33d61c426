"""Matching from Python: dicts read in place agree with JSON text, streams, batches, raw text,
the live matcher, index files and communities."""

from __future__ import annotations

import io
import json
import pathlib
from typing import Any, Dict, List, Tuple

import pytest

import iocmatch

from conftest import APT29, ROOT

DATA = ROOT / "examples" / "data"
EVENTS = DATA / "events.ndjson"


def event_lines() -> List[str]:
    """The sample events that are JSON objects (the file also has a line that is not)."""
    return [line for line in EVENTS.read_text().splitlines() if line.startswith("{")]


@pytest.fixture
def demo() -> iocmatch.Store:
    """The store of `make demo`: the sample feed, C2 list and batch."""
    store = iocmatch.Store()
    store.add_threat("APT29", id=APT29, aliases=["APT-29", "Cozy Bear"])
    c = store.create_collection("Demo feed", description="Sample indicators shipped with iocmatch")
    store.import_text(
        c.id,
        (DATA / "feed.txt").read_bytes(),
        x_ic_related_threat_refs=["APT-29"],
        kill_chain_phases="delivery",
        valid_from="2024-01-01",
    )
    store.import_text(
        c.id, (DATA / "c2.txt").read_text(), kill_chain_phases=["c2"], valid_from="2024-01-01", valid_until="2027-01-01"
    )
    store.add_indicators(c.id, json.loads((DATA / "batch.json").read_text()))
    return store


def key(m: iocmatch.Match) -> Tuple[str, str, str, str, str, str]:
    """A match without its offset (a byte offset in JSON, a position in a dict)."""
    return (m.field, m.value, m.indicator_id, m.collection_id, m.kind, m.observable)


def test_dict_and_json_agree_on_the_sample_events(demo: iocmatch.Store) -> None:
    matcher = demo.matcher()
    lines = event_lines()
    total = 0
    for line in lines:
        from_text = matcher.match(line)
        from_bytes = matcher.match(line.encode())
        from_dict = matcher.match(json.loads(line))
        assert [key(m) for m in from_dict] == [key(m) for m in from_text] == [key(m) for m in from_bytes]
        for a, b in zip(from_dict, from_text):
            assert a.time == b.time and a.time_source == b.time_source == "event"
        total += len(from_dict)
    assert total > 5


def test_match_fields_nested_dotted_and_lists(store: iocmatch.Store) -> None:
    c = store.create_collection("c")
    store.import_text(c.id, "203.0.113.5\nevil.example\nbad@evil.example\n", valid_from="2024-01-01")
    m = store.matcher()
    at = "2025-01-01T00:00:00Z"
    nested = {"source": {"ip": "203.0.113.5"}}
    dotted = {"source.ip": "203.0.113.5"}
    mixed = {"source": {"nat.ip": "203.0.113.5"}}
    listed = {"related": {"ip": ["10.0.0.1", "203.0.113.5"]}}
    objects_in_list = {"email": {"to": [{"address": "x@y.example"}, {"address": "BAD@evil.example"}]}}
    assert [x.field for x in m.match(nested, at=at)] == ["source.ip"]
    assert [x.field for x in m.match(dotted, at=at)] == ["source.ip"]
    assert [x.field for x in m.match(mixed, at=at)] == ["source.nat.ip"]
    assert [(x.field, x.offset) for x in m.match(listed, at=at)] == [("related.ip", 1)]
    assert [(x.field, x.observable) for x in m.match(objects_in_list, at=at)] == [
        ("email.to.address", "bad@evil.example")
    ]
    # fields outside the profile, non-string values, unknown keys: ignored
    assert m.match({"foo": {"ip": "203.0.113.5"}, "source": {"ip": 5, "port": "203.0.113.5"}}, at=at) == []
    assert m.match({1: "x", "source": None, "dns": [1, 2, {"question": {"name": "evil.example"}}]}, at=at)[0].kind == "domain"


def test_time_rules(store: iocmatch.Store) -> None:
    c = store.create_collection("c")
    store.import_text(c.id, "203.0.113.5\n", valid_from="2024-01-01", valid_until="2025-01-01")
    m = store.matcher(default_time="2030-01-01")
    inside = {"@timestamp": "2024-06-01T00:00:00Z", "source": {"ip": "203.0.113.5"}}
    outside = {"@timestamp": "2026-06-01T00:00:00Z", "source": {"ip": "203.0.113.5"}}
    assert [x.time_source for x in m.match(inside)] == ["event"]
    assert m.match(outside) == []
    assert m.match(outside, at="2024-06-01") != []
    assert m.match(outside, at=1717200000)[0].time_source == "caller"
    epoch = {"@timestamp": 1717200000000, "source": {"ip": "203.0.113.5"}}  # ECS: epoch milliseconds
    assert m.match(epoch)[0].time == "2024-06-01T00:00:00Z"
    # unreadable @timestamp: the default time (2030: outside the window)
    assert m.match({"@timestamp": "yesterday", "source": {"ip": "203.0.113.5"}}) == []
    assert m.match({"source": {"ip": "203.0.113.5"}}, at="2024-06-01")[0].time_source == "caller"


def test_live_matcher_sees_changes(store: iocmatch.Store) -> None:
    c = store.create_collection("c")
    m = store.matcher()
    event = {"@timestamp": "2025-06-01T08:00:00Z", "destination": {"ip": "203.0.113.5"}}
    assert m.match(event) == []
    store.import_text(c.id, "203.0.113.5\n", valid_from="2024-01-01")
    found = m.match(event)
    assert len(found) == 1
    store.revoke_indicator(found[0].indicator_id)
    assert m.match(event) == []
    assert store.indicator(found[0].indicator_id).revoked


def test_live_matcher_refresh_sees_other_handles(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "s.db"
    a, b = iocmatch.Store(path), iocmatch.Store(path)
    c = a.create_collection("c")
    m = a.matcher()
    b.import_text(c.id, "evil.example\n", valid_from="2024-01-01")
    event = {"@timestamp": "2025-06-01T08:00:00Z", "dns": {"question": {"name": "evil.example"}}}
    assert m.match(event) == []
    m.refresh()
    assert [x.observable for x in m.match(event)] == ["evil.example"]


def test_match_many_and_ndjson_agree(demo: iocmatch.Store, tmp_path: pathlib.Path) -> None:
    m = demo.matcher()
    all_lines = EVENTS.read_text().splitlines()
    lines = event_lines()
    one_by_one = [[key(x) for x in m.match(line)] for line in lines]
    many = m.match_many([json.loads(line) if i % 2 else line for i, line in enumerate(lines)])
    assert [[key(x) for x in r] for r in many] == one_by_one
    assert all(x.line == i + 1 for i, r in enumerate(many) for x in r)

    streamed = list(m.match_ndjson(EVENTS))
    numbered = [(i + 1, line) for i, line in enumerate(all_lines) if line.startswith("{")]
    expected = [(n, key(x)) for n, line in numbered for x in m.match(line)]
    assert [(x.line, key(x)) for x in streamed] == expected
    with open(EVENTS, "rb") as f:
        stream = m.match_ndjson(f)
        assert [(x.line, key(x)) for x in stream] == expected
        assert stream.summary["events"] == len(lines)
        assert stream.summary["bad_lines"] == len(all_lines) - len(lines)
        assert stream.summary["matches"] == len(expected)
    # a file object without a final newline, blank lines kept in the numbering
    text = "\n".join(lines[:3]) + "\n\n" + lines[3]
    got = [(x.line, key(x)) for x in m.match_ndjson(io.BytesIO(text.encode()))]
    want = [(i + 1, k) for i, r in enumerate(one_by_one[:3]) for k in r] + [(5, k) for k in one_by_one[3]]
    assert got == want


def test_ndjson_bad_lines(demo: iocmatch.Store) -> None:
    m = demo.matcher()
    line = event_lines()[0]
    data = f"{line}\nnot json\n[1,2]\n{line}\n".encode()
    stream = m.match_ndjson(io.BytesIO(data))
    found = list(stream)
    assert {x.line for x in found} == {1, 4}
    assert stream.summary["bad_lines"] == 2
    strict = m.match_ndjson(io.BytesIO(data), strict=True)
    first = [x.line for x in [next(strict)] * len(m.match(line))]
    assert set(first) == {1}
    with pytest.raises(iocmatch.ValidationError) as e:
        list(strict)
    assert e.value.line == 2


def test_scan_text_and_file(store: iocmatch.Store, tmp_path: pathlib.Path) -> None:
    c = store.create_collection("feed")
    store.import_text(c.id, "evil.com\n203.0.113.7\n", valid_from="1970-01-01")
    m = store.matcher()
    r = m.scan_text("GET http://evil.com/x from 203.0.113.7:5123 (notevil.com)")
    assert [(x.value, x.offset, x.field) for x in r] == [("evil.com", 11, "raw"), ("203.0.113.7", 27, "raw")]
    assert m.scan_text(b"nothing here") == []
    log = tmp_path / "proxy.log"
    log.write_text("a notevil.com\nb 203.0.113.7 c\n\nd evil.com\n")
    assert [(x.line, x.value) for x in m.scan_file(log)] == [(2, "203.0.113.7"), (4, "evil.com")]


def test_index_save_load(demo: iocmatch.Store, tmp_path: pathlib.Path) -> None:
    index = demo.compile()
    assert len(index) > 10 and index.size_bytes > 0
    path = tmp_path / "demo.idx"
    index.save(path)
    loaded = iocmatch.load_index(str(path))
    assert len(loaded) == len(index)
    live, fixed = demo.matcher(), loaded.matcher()
    for line in event_lines():
        assert [key(x) for x in fixed.match(line)] == [key(x) for x in live.match(line)]
    assert fixed.fields == live.fields and "destination.ip" in fixed.fields
    fixed.refresh()  # a no-op on a fixed index


def test_communities_and_collections_filter(store: iocmatch.Store) -> None:
    mssp = store.create_community("mssp")
    client = store.create_community("client-a", parent="mssp")
    other = store.create_community("client-b", parent="mssp")
    shared = store.create_collection("shared", community="mssp", available_for_sub_communities=True)
    private = store.create_collection("private", community="mssp")
    own = store.create_collection("own", community="client-a")
    for c, v in [(shared, "1.1.1.1"), (private, "2.2.2.2"), (own, "3.3.3.3")]:
        store.import_text(c.id, v + "\n", valid_from="2024-01-01")
    event = {"@timestamp": "2025-01-01T00:00:00Z", "source": {"ip": ["1.1.1.1", "2.2.2.2", "3.3.3.3"]}}

    def seen(m: iocmatch.Matcher) -> List[str]:
        return sorted(x.value for x in m.match(event))

    assert seen(store.matcher()) == ["1.1.1.1", "2.2.2.2", "3.3.3.3"]
    assert seen(store.matcher(community="client-a")) == ["1.1.1.1", "3.3.3.3"]
    assert seen(store.matcher(community=other.id)) == ["1.1.1.1"]
    assert seen(store.matcher(community=mssp.name)) == ["1.1.1.1", "2.2.2.2"]
    assert seen(store.matcher(collections=["own", private.id])) == ["2.2.2.2", "3.3.3.3"]
    index = store.compile()
    assert seen(index.matcher(community=client.id)) == ["1.1.1.1", "3.3.3.3"]
    assert seen(store.matcher(profile="strict")) == ["1.1.1.1", "2.2.2.2", "3.3.3.3"]


def test_match_results_are_small_frozen_objects(demo: iocmatch.Store) -> None:
    m = demo.matcher()
    found = m.match(event_lines()[0])
    assert found
    x = found[0]
    d: Dict[str, Any] = x.to_dict()
    assert d["indicator_id"] == x.indicator_id and d["field"] == x.field and d["line"] is None
    assert "Match(" in repr(x) and x.field in repr(x)
    with pytest.raises(AttributeError):
        x.field = "other"  # type: ignore[misc]
    e = x.to_enrichment()
    assert e["matched"]["id"] == x.indicator_id and e["matched"]["type"] == "indicator_match_rule"
    assert x == m.match(event_lines()[0])[0]


def test_stream_edge_cases(demo: iocmatch.Store) -> None:
    m = demo.matcher()
    stream = m.match_ndjson(EVENTS)
    assert isinstance(next(stream), iocmatch.Match)
    del stream  # dropped half-way: the matching thread stops

    class Failing:
        def read(self, n: int) -> bytes:
            raise RuntimeError("disk on fire")

    with pytest.raises(iocmatch.StoreError) as e:
        list(m.match_ndjson(Failing()))
    assert "disk on fire" in str(e.value)

    class Text:
        def __init__(self) -> None:
            self.parts = [EVENTS.read_text()]

        def read(self, n: int) -> str:
            return self.parts.pop() if self.parts else ""

    assert len(list(m.match_ndjson(Text()))) == len(list(m.match_ndjson(EVENTS)))
    empty = m.match_ndjson(io.BytesIO(b""))
    assert list(empty) == [] and empty.summary["events"] == 0
