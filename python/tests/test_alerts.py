"""Live detection alerts from Python: ``Store.detector``, alerts as dicts typed ``cti``."""

from __future__ import annotations

import io
import json
import os
import pathlib
import threading
from typing import Any, Dict, List

import pytest

import iocmatch

A = {"@timestamp": "2024-06-01T00:00:00Z", "url": {"domain": "evil-a.example"}}
B = {"@timestamp": "2024-06-01T00:00:00Z", "url": {"domain": "evil-b.example"}}
BOTH = {
    "@timestamp": "2024-06-01T00:00:00Z",
    "url": {"domain": "evil-a.example"},
    "destination": {"domain": "evil-b.example"},
}
NONE = {"@timestamp": "2024-06-01T00:00:00Z", "url": {"domain": "good.example"}}


def fill(store: iocmatch.Store) -> iocmatch.Store:
    """Collections feed-a and feed-b; rule A (on feed-a) enabled, rule B (on feed-b) disabled."""
    store.create_collection("feed-a")
    store.create_collection("feed-b")
    store.import_text("feed-a", "evil-a.example\n", valid_from="2024-01-01")
    store.import_text("feed-b", "evil-b.example\n", valid_from="2024-01-01")
    store.create_rule("rule A", ["feed-a"])
    store.create_rule("rule B", ["feed-b"], enabled=False)
    return store


@pytest.fixture
def rules(store: iocmatch.Store) -> iocmatch.Store:
    return fill(store)


def names(alerts: List[Dict[str, Any]]) -> List[str]:
    return [a["rule_name"] for a in alerts]


def test_alerts_per_rule(rules: iocmatch.Store) -> None:
    d = rules.detector()
    assert isinstance(d, iocmatch.Detector)
    alerts = d.detect(A)
    assert names(alerts) == ["rule A"]
    a = alerts[0]
    assert a["rule_id"].startswith("rule--")
    assert a["detection_type"] == "cti"
    assert a["line"] is None and a["source"] is None
    assert a["time_source"] == "event"
    assert [(m["field"], m["observable"]) for m in a["matches"]] == [("url.domain", "evil-a.example")]
    # str and bytes events alert the same
    assert names(d.detect(json.dumps(A))) == ["rule A"]
    assert names(d.detect(json.dumps(A).encode())) == ["rule A"]
    assert d.detect(NONE) == []
    # the caller's time
    at = d.detect({"url": {"domain": "evil-a.example"}}, at="2024-06-01")
    assert names(at) == ["rule A"] and at[0]["time_source"] == "caller"
    assert d.detect({"url": {"domain": "evil-a.example"}}, at="2023-06-01") == []


def test_disabled_rule_alerts_nothing_until_enabled(rules: iocmatch.Store) -> None:
    d = rules.detector()
    assert d.detect(B) == []
    assert names(d.detect(BOTH)) == ["rule A"]
    # enabled through the detector's store: seen on the next detection
    rules.set_rule_enabled("rule B", True)
    assert names(d.detect(B)) == ["rule B"]
    both = d.detect(BOTH)
    assert names(both) == ["rule A", "rule B"]
    assert [m["observable"] for m in both[1]["matches"]] == ["evil-b.example"]
    rules.set_rule_enabled("rule B", False)
    assert d.detect(B) == []
    rules.delete_rule("rule A")
    assert d.detect(A) == []


def test_rule_enabled_elsewhere_is_seen_after_refresh(tmp_path: pathlib.Path) -> None:
    one = fill(iocmatch.Store(tmp_path / "iocmatch.db"))
    d = one.detector()
    assert d.detect(B) == []
    two = iocmatch.Store(tmp_path / "iocmatch.db")
    two.set_rule_enabled("rule B", True)
    two.import_text("feed-b", "evil-c.example\n", valid_from="2024-01-01")
    d.refresh()
    assert names(d.detect(B)) == ["rule B"]
    assert names(d.detect({**B, "url": {"domain": "evil-c.example"}})) == ["rule B"]


def test_options(rules: iocmatch.Store) -> None:
    rules.set_rule_enabled("rule B", True)
    assert names(rules.detector(collections=["feed-b"]).detect(BOTH)) == ["rule B"]
    assert names(rules.detector(community="default").detect(BOTH)) == ["rule A", "rule B"]
    late = rules.detector(default_time="2023-01-01")
    assert late.detect({"url": {"domain": "evil-a.example"}}) == []
    with pytest.raises(iocmatch.NotFoundError, match="ghost"):
        rules.detector(collections=["ghost"])


def test_detect_ndjson(rules: iocmatch.Store, tmp_path: pathlib.Path) -> None:
    rules.set_rule_enabled("rule B", True)
    lines = [json.dumps(NONE), json.dumps(A), "{bad", json.dumps(BOTH)]
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(lines) + "\n")
    d = rules.detector()
    alerts = d.detect_ndjson(path)
    assert [(a["line"], a["rule_name"]) for a in alerts] == [(2, "rule A"), (4, "rule A"), (4, "rule B")]
    assert all(a["detection_type"] == "cti" and a["source"] == str(path) for a in alerts)
    assert [(a["line"], a["rule_name"]) for a in d.detect_ndjson(str(path))] == [
        (2, "rule A"),
        (4, "rule A"),
        (4, "rule B"),
    ]
    from_file = d.detect_ndjson(io.BytesIO(path.read_bytes()))
    assert [a["line"] for a in from_file] == [2, 4, 4] and from_file[0]["source"] is None
    with pytest.raises(iocmatch.ValidationError) as e:
        d.detect_ndjson(path, strict=True)
    assert e.value.line == 3
    with pytest.raises(iocmatch.StoreError):
        d.detect_ndjson(tmp_path / "missing.ndjson")
    with pytest.raises(TypeError):
        d.detect_ndjson(42)


def test_bad_events(rules: iocmatch.Store) -> None:
    d = rules.detector()
    with pytest.raises(iocmatch.ValidationError):
        d.detect("{not json")
    with pytest.raises(iocmatch.ValidationError):
        d.detect(b"[1, 2]")
    with pytest.raises(iocmatch.IocMatchError):
        d.detect("42")
    with pytest.raises(TypeError):
        d.detect(42)  # type: ignore[arg-type]
    assert "Detector" in repr(d)


def test_threads_share_a_detector(rules: iocmatch.Store) -> None:
    d = rules.detector()
    errors: List[str] = []

    def work() -> None:
        for _ in range(50):
            if names(d.detect(BOTH)) != ["rule A"]:
                errors.append("mismatch")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("on_file", [True, False])
def test_fork(tmp_path: pathlib.Path, on_file: bool) -> None:
    store = fill(iocmatch.Store(tmp_path / "s.db" if on_file else None))
    d = store.detector()
    path = tmp_path / "events.ndjson"
    path.write_text("\n".join(json.dumps(e) for e in [A, B, BOTH] * 50) + "\n")
    # parallel work in the parent first, so that its thread pool exists when it forks
    assert len(d.detect_ndjson(path)) == 100

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        code = 1
        try:
            ok = len(d.detect_ndjson(path)) == 100 and names(d.detect(A)) == ["rule A"]
            store.set_rule_enabled("rule B", True)
            ok = ok and names(d.detect(B)) == ["rule B"] and len(d.detect_ndjson(path)) == 200
            os.write(w, b"ok" if ok else b"mismatch")
            code = 0
        except BaseException as e:
            os.write(w, repr(e).encode()[:500])
        finally:
            os._exit(code)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    message = os.read(r, 1000)
    os.close(r)
    assert message == b"ok" and os.waitstatus_to_exitcode(status) == 0
    # the parent sees the child's rule change only when they share a file
    d.refresh()
    assert names(d.detect(B)) == (["rule B"] if on_file else [])
