"""One exception hierarchy rooted at IocMatchError; bad input raises clear exceptions, never a
crash."""

from __future__ import annotations

import pathlib
import sys
from typing import Any, List

import pytest

import iocmatch


def test_hierarchy() -> None:
    e = iocmatch
    for cls in [
        e.ValidationError,
        e.NotFoundError,
        e.ConflictError,
        e.ImmutableFieldError,
        e.LimitExceededError,
        e.InvalidStateError,
        e.CorruptIndexError,
        e.StoreError,
    ]:
        assert issubclass(cls, e.IocMatchError) and cls.__doc__
    assert issubclass(e.ValidationError, ValueError)
    assert issubclass(e.NotFoundError, KeyError)
    assert issubclass(e.StoreError, OSError)
    assert issubclass(e.ImmutableFieldError, ValueError)


def test_validation_error_has_value(store: iocmatch.Store) -> None:
    c = store.create_collection("c")
    with pytest.raises(ValueError) as e:
        store.import_text(c.id, "1.2.3.4\n", valid_from="not a date")
    assert isinstance(e.value, iocmatch.ValidationError)
    assert e.value.value == "not a date" and e.value.kind == "validation"
    assert "not a date" in str(e.value)


def test_validation_error_has_line(store: iocmatch.Store) -> None:
    m = store.matcher()
    with pytest.raises(iocmatch.ValidationError) as e:
        m.match_many([{"a": 1}, "{not json"])
    assert e.value.line == 2
    assert str(e.value).startswith("line 2: ")


def test_not_found_is_a_key_error(store: iocmatch.Store) -> None:
    with pytest.raises(KeyError) as e:
        store.collection("nope")
    assert isinstance(e.value, iocmatch.NotFoundError)
    assert str(e.value) == "collection not found: 'nope'"
    with pytest.raises(iocmatch.NotFoundError):
        store.indicator("indicator--00000000-0000-0000-0000-000000000000")
    with pytest.raises(iocmatch.NotFoundError):
        store.add_indicators("nope", {"indicators": [{"value": "1.2.3.4"}]})
    with pytest.raises(iocmatch.NotFoundError):
        store.matcher(community="nope")


def test_conflict(store: iocmatch.Store) -> None:
    store.create_collection("c")
    with pytest.raises(iocmatch.ConflictError):
        store.create_collection("C")


def test_immutable_field_and_invalid_state(store: iocmatch.Store) -> None:
    c = store.create_collection("c")
    item = store.add_indicators(c.id, {"indicators": [{"value": "evil.example"}]})["items"][0]
    with pytest.raises(iocmatch.ImmutableFieldError):
        store.edit_indicator(item["id"], value="other.example")
    edited = store.edit_indicator(item["id"], description="seen in a phish", valid_until="2099-01-01", kill_chain_phases=["c2"])
    assert edited.description == "seen in a phish" and edited.valid_until == "2099-01-01T00:00:00Z"
    assert edited.kill_chain_phases == [{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "command-and-control"}]
    store.revoke_indicator(item["id"])
    with pytest.raises(iocmatch.InvalidStateError):
        store.edit_indicator(item["id"], description="x")
    with pytest.raises(TypeError):
        store.edit_indicator(item["id"], colour="red")


def test_limit_exceeded(store: iocmatch.Store) -> None:
    store.set_max_indicators_per_community(2)
    assert store.max_indicators_per_community() == 2
    c = store.create_collection("c")
    with pytest.raises(iocmatch.LimitExceededError):
        store.import_text(c.id, "1.1.1.1\n2.2.2.2\n3.3.3.3\n")
    assert store.indicator_count() == 0
    store.import_text(c.id, "1.1.1.1\n2.2.2.2\n")
    assert store.indicator_count("default") == 2


def test_corrupt_index(tmp_path: pathlib.Path) -> None:
    bad = tmp_path / "bad.idx"
    bad.write_bytes(b"not an index at all" * 100)
    with pytest.raises(iocmatch.CorruptIndexError):
        iocmatch.load_index(bad)
    with pytest.raises(iocmatch.StoreError) as e:
        iocmatch.load_index(tmp_path / "missing.idx")
    assert isinstance(e.value, OSError)


def test_store_error(tmp_path: pathlib.Path) -> None:
    not_a_db = tmp_path / "x.db"
    not_a_db.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(iocmatch.StoreError):
        iocmatch.Store(not_a_db)
    with pytest.raises(OSError):
        iocmatch.Store(tmp_path / "no" / "such" / "dir" / "x.db")


@pytest.mark.parametrize(
    "payload, exc",
    [
        ({"indicators": []}, iocmatch.ValidationError),
        ({"indicators": "1.2.3.4"}, iocmatch.ValidationError),
        ({"indicators": [{"value": "1.2.3.4"}], "unknown": 1}, iocmatch.ValidationError),
        ({"indicators": [{"value": "1.2.3.4"}], "default_fields": {"valid_from": "yesterday"}}, iocmatch.ValidationError),
        ({"indicators": [{"value": float("nan")}]}, iocmatch.ValidationError),
        ({"indicators": [{"value": object()}]}, TypeError),
        ({1: 2}, TypeError),
        ("{not json", iocmatch.ValidationError),
        (b"\xff\xfe", iocmatch.ValidationError),
        ([1, 2], TypeError),
        (None, TypeError),
    ],
)
def test_bad_payloads(store: iocmatch.Store, payload: Any, exc: type) -> None:
    c = store.create_collection("c")
    with pytest.raises(exc):
        store.add_indicators(c.id, payload)


def test_bad_items_are_reported_not_raised(store: iocmatch.Store) -> None:
    c = store.create_collection("c")
    res = store.add_indicators(c.id, {"indicators": [{"value": "1.2.3.4"}, {"value": "not an ioc"}, {"valu": 1}]})
    assert res["total"] == 1
    assert [e["index"] for e in res["errors"]] == [1, 2]


def test_deeply_nested_payload_and_event(store: iocmatch.Store) -> None:
    c = store.create_collection("c")
    deep: Any = "x"
    for _ in range(10_000):
        deep = [deep]
    with pytest.raises(iocmatch.ValidationError):
        store.add_indicators(c.id, {"indicators": deep})
    m = store.matcher()
    event: Any = {"source": {"ip": "1.2.3.4"}}
    for _ in range(10_000):
        event = {"related": {"ip": [event]}}
    # only wanted paths are walked: this one is, and is too deep
    lst: Any = "1.2.3.4"
    for _ in range(10_000):
        lst = [lst]
    with pytest.raises(iocmatch.ValidationError):
        m.match({"source": {"ip": lst}})
    cyclic: Any = []
    cyclic.append(cyclic)
    with pytest.raises(iocmatch.ValidationError):
        m.match({"source": {"ip": cyclic}})
    with pytest.raises(iocmatch.ValidationError):
        m.match("[" * 100_000)


@pytest.mark.parametrize("event", [None, 1, 1.5, ["x"], object(), ("a",)])
def test_bad_event_types(store: iocmatch.Store, event: Any) -> None:
    m = store.matcher()
    with pytest.raises(TypeError):
        m.match(event)


@pytest.mark.parametrize("event", ["", "null", "[]", "{", '{"a": 1} x', b"\xff", '{"a": "\\ud800"}'])
def test_malformed_json_events(store: iocmatch.Store, event: Any) -> None:
    m = store.matcher()
    with pytest.raises(iocmatch.ValidationError):
        m.match(event)


def test_odd_but_valid_dict_events(store: iocmatch.Store) -> None:
    c = store.create_collection("c")
    store.import_text(c.id, "1.2.3.4\n", valid_from="2020-01-01")
    m = store.matcher()

    class Key(str):
        """A str subclass: read as its text, without calling its methods."""

        def __eq__(self, other: object) -> bool:
            raise RuntimeError("never called")

        __hash__ = str.__hash__

    odd = {Key("source"): {"ip": "1.2.3.4"}, ("t",): 1, None: 2, "@timestamp": True}
    assert [x.field for x in m.match(odd)] == ["source.ip"]
    assert m.match({"source": {"ip": "\ud800"}}) == []  # lone surrogate: skipped, not an error
    assert m.match({"source": {"ip": ""}}) == []


@pytest.mark.parametrize(
    "call",
    [
        lambda s: s.create_collection(None),
        lambda s: s.create_collection("x", available_for_sub_communities="yes"),
        lambda s: s.import_text("x", 12),
        lambda s: s.import_text("x", "1.2.3.4", valid_from=[2024]),
        lambda s: s.import_text("x", "1.2.3.4", kill_chain_phases=5),
        lambda s: s.import_text("x", "1.2.3.4", x_ic_related_threat_refs="APT-29"),
        lambda s: s.import_text("x", "1.2.3.4", progress=5),
        lambda s: s.matcher().match_ndjson(12),
        lambda s: s.matcher().scan_text(None),
        lambda s: s.matcher().match_many(5),
        lambda s: s.matcher().match_many([{"a": 1}, 5]),
        lambda s: s.update_collection("x", colour="red"),
        lambda s: s.add_threat("t", aliases="a"),
        lambda s: s.matcher(at=1),
    ],
)
def test_wrong_argument_types(store: iocmatch.Store, call: Any) -> None:
    store.create_collection("x")
    with pytest.raises(TypeError):
        call(store)


def test_progress_callback_errors_do_not_abort(store: iocmatch.Store, monkeypatch: pytest.MonkeyPatch) -> None:
    c = store.create_collection("c")
    reported: List[BaseException] = []
    monkeypatch.setattr(sys, "unraisablehook", lambda u: reported.append(u.exc_value))

    def boom(stage: str, done: int, total: int) -> None:
        raise RuntimeError("progress failed")

    report = store.import_text(c.id, "1.2.3.4\n", progress=boom)
    assert report.imported == 1
    assert reported and all(str(e) == "progress failed" for e in reported)


def test_ndjson_missing_file(store: iocmatch.Store, tmp_path: pathlib.Path) -> None:
    with pytest.raises(iocmatch.StoreError) as e:
        store.matcher().match_ndjson(tmp_path / "missing.ndjson")
    assert isinstance(e.value, OSError)
