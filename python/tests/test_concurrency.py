"""Threads share one matcher and one store; a child process after os.fork() still works."""

from __future__ import annotations

import json
import os
import pathlib
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import List, Tuple

import pytest

import iocmatch

from conftest import ROOT

EVENTS = ROOT / "examples" / "data" / "events.ndjson"


def sample_store(path: "pathlib.Path | None" = None) -> iocmatch.Store:
    store = iocmatch.Store(path)
    c = store.create_collection("feed")
    store.import_text(
        c.id,
        (ROOT / "examples" / "data" / "feed.txt").read_bytes() + b"10.0.0.12\n10.0.0.31\n",
        valid_from="2024-01-01",
    )
    return store


def events() -> List[str]:
    return [line for line in EVENTS.read_text().splitlines() if line.startswith("{")] * 20


def summary(found: List[iocmatch.Match]) -> List[Tuple[str, str, str]]:
    return [(m.field, m.value, m.indicator_id) for m in found]


def test_threads_share_one_matcher() -> None:
    store = sample_store()
    matcher = store.matcher()
    evs = events()
    serial = [summary(matcher.match(json.loads(e))) for e in evs]
    assert sum(map(len, serial)) > 20

    def work(i: int) -> List[List[Tuple[str, str, str]]]:
        out = []
        for k, e in enumerate(evs):
            # a mix of every input form, from every thread at once
            if (i + k) % 3 == 0:
                out.append(summary(matcher.match(json.loads(e))))
            elif (i + k) % 3 == 1:
                out.append(summary(matcher.match(e.encode())))
            else:
                out.append(summary(matcher.match(e)))
        return out

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(work, range(16)))
    assert all(r == serial for r in results)

    with ThreadPoolExecutor(max_workers=4) as pool:
        batches = list(pool.map(lambda _: matcher.match_many(evs), range(4)))
    assert all([summary(x) for x in b] == serial for b in batches)


def test_threads_write_while_others_match(tmp_path: pathlib.Path) -> None:
    store = sample_store(tmp_path / "s.db")
    matcher = store.matcher()
    c = store.collection("feed")
    event = {"@timestamp": "2025-06-01T00:00:00Z", "destination": {"ip": "192.0.2.99"}}
    stop = threading.Event()
    errors: List[BaseException] = []

    def match_loop() -> None:
        try:
            while not stop.is_set():
                for e in events()[:20]:
                    matcher.match(e)
                matcher.match(event)
        except BaseException as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=match_loop) for _ in range(4)]
    for t in threads:
        t.start()
    for i in range(20):
        store.import_text(c.id, f"192.0.2.{i}\n", valid_from="2024-01-01")
    store.import_text(c.id, "192.0.2.99\n", valid_from="2024-01-01")
    stop.set()
    for t in threads:
        t.join()
    assert errors == []
    assert [m.value for m in matcher.match(event)] == ["192.0.2.99"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.parametrize("on_file", [True, False])
def test_fork(tmp_path: pathlib.Path, on_file: bool) -> None:
    store = sample_store(tmp_path / "s.db" if on_file else None)
    matcher = store.matcher()
    c = store.collection("feed")
    evs = events()[:11]
    expected = [summary(matcher.match(e)) for e in evs]
    # parallel work in the parent first, so that its thread pool exists when it forks
    assert [summary(x) for x in matcher.match_many(evs)] == expected
    event = {"@timestamp": "2025-06-01T00:00:00Z", "destination": {"ip": "192.0.2.7"}}

    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return into pytest
        code = 1
        try:
            ok = [summary(x) for x in matcher.match_many(evs)] == expected
            ok = ok and [summary(matcher.match(e)) for e in evs] == expected
            store.import_text(c.id, "192.0.2.7\n", valid_from="2024-01-01")
            ok = ok and [m.value for m in matcher.match(event)] == ["192.0.2.7"]
            ok = ok and len(list(matcher.match_ndjson(EVENTS))) == sum(map(len, expected[:11]))
            ok = ok and store.collection("feed").indicator_count > 10
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
    # the parent goes on; it sees what the child wrote only when they share a file
    seen = [m.value for m in (matcher.refresh(), matcher.match(event))[1]]
    assert seen == (["192.0.2.7"] if on_file else [])
    assert [summary(x) for x in matcher.match_many(evs)] == expected
