"""Telemetry reports from Python: over archives, from recorded sightings, read back."""

from __future__ import annotations

import gzip
import json
import pathlib
from datetime import datetime, timezone

import pytest

import iocmatch

SHA = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

EVENTS = [
    {"@timestamp": "2024-06-01T23:59:59Z", "dns": {"question": {"name": "evil.example"}},
     "destination": {"domain": "evil.example"}},
    {"@timestamp": "2024-06-02T00:00:00Z", "destination": {"domain": "evil.example", "ip": "203.0.113.7"}},
    {"@timestamp": "2024-06-03T00:00:00Z", "url": {"original": "http://evil.example/gate"}},
    {"@timestamp": "2022-01-01T00:00:00Z", "destination": {"domain": "evil.example"}},
    {"@timestamp": "2024-11-30T12:00:00Z", "file": {"hash": {"sha256": SHA}}},
]

UNTIL = "2025-01-01T00:00:00Z"


@pytest.fixture
def feed(store: iocmatch.Store) -> iocmatch.Collection:
    c = store.create_collection("feed")
    # valid in 2030 only: telemetry ignores validity windows
    r = store.import_text(c.id, f"evil.example\n203.0.113.7\n{SHA}\nhttp://evil.example/gate\n",
                          valid_from="2030-01-01")
    assert r.imported == 4
    return c


def archive(tmp_path: pathlib.Path) -> pathlib.Path:
    d = tmp_path / "archive"
    (d / "old").mkdir(parents=True)
    lines = [json.dumps(e) for e in EVENTS]
    (d / "a.ndjson").write_text("\n".join(lines[:2]) + "\nnot json\n")
    (d / "old" / "b.json.gz").write_bytes(gzip.compress("\n".join(lines[2:]).encode()))
    return d


def rows(report: dict) -> list[tuple[str, str, int]]:
    return [(r["observable"], r["kind"], r["sightings"]) for r in report["rows"]]


def test_a_report_over_an_archive(store: iocmatch.Store, feed: iocmatch.Collection, tmp_path: pathlib.Path) -> None:
    d = archive(tmp_path)
    seen: list[tuple[int, int]] = []
    report = store.telemetry("feed", d, until=UNTIL, progress=lambda done, total: seen.append((done, total)))
    disk = sum(p.stat().st_size for p in d.rglob("*") if p.is_file())
    assert seen and max(done for done, _ in seen) == disk and {t for _, t in seen} == {disk}
    assert rows(report) == [("evil.example", "domain", 2), ("203.0.113.7", "ipv4", 1), (SHA, "sha256", 1)]
    assert report["rows"][0]["days"] == [{"date": "2024-06-01", "count": 1}, {"date": "2024-06-02", "count": 1}]
    assert report["id"].startswith("telemetry-report--")
    assert report["collection_id"] == feed.id
    assert report["source"] == "events" and report["events"] == 5
    assert report["window_start"] == "2024-01-02T00:00:00Z"
    assert report["archive"]["files"] == 2 and report["archive"]["totals"]["bad_lines"] == 1
    # a list of paths, a datetime and a shorter window
    short = store.telemetry(feed.id, [d / "old"], window="5w",
                            until=datetime(2025, 1, 1, tzinfo=timezone.utc))
    assert rows(short) == [(SHA, "sha256", 1)]
    # read back, list, delete
    saved = store.telemetry_report(report["id"])
    del report["archive"]
    assert saved == report
    assert [r["id"] for r in store.telemetry_reports("feed")] == [short["id"], report["id"]]
    assert "rows" not in store.telemetry_reports("feed")[0]
    store.delete_telemetry_report(report["id"])
    with pytest.raises(iocmatch.NotFoundError):
        store.telemetry_report(report["id"])


def test_sightings_recorded_while_matching(store: iocmatch.Store, feed: iocmatch.Collection) -> None:
    m = store.matcher(record_sightings=True)
    for e in EVENTS:
        assert m.match(e) == []  # not valid yet, yet counted
    assert m.flush_sightings() == 6
    assert m.flush_sightings() == 0
    report = store.telemetry_from_sightings("feed", until=UNTIL)
    assert report["source"] == "sightings"
    assert rows(report) == [("evil.example", "domain", 2), ("203.0.113.7", "ipv4", 1), (SHA, "sha256", 1)]
    assert report["rows"][0]["first_seen"] == "2024-06-01T00:00:00Z"
    # refresh flushes too; a matcher that does not record flushes nothing
    m.match(EVENTS[0])
    m.refresh()
    assert m.flush_sightings() == 0
    assert rows(store.telemetry_from_sightings("feed", until=UNTIL))[0] == ("evil.example", "domain", 3)
    plain = store.matcher()
    plain.match(EVENTS[0])
    assert plain.flush_sightings() == 0


def test_bad_arguments(store: iocmatch.Store, feed: iocmatch.Collection, tmp_path: pathlib.Path) -> None:
    with pytest.raises(iocmatch.NotFoundError):
        store.telemetry("nope", tmp_path)
    with pytest.raises(iocmatch.ValidationError, match="'5x'"):
        store.telemetry("feed", tmp_path, window="5x")
    with pytest.raises(iocmatch.ValidationError, match="'soon'"):
        store.telemetry_from_sightings("feed", until="soon")
    with pytest.raises(OSError, match="no-such-dir"):
        store.telemetry("feed", tmp_path / "no-such-dir")
    with pytest.raises(TypeError, match="paths"):
        store.telemetry("feed", 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="progress must be a callable"):
        store.telemetry("feed", tmp_path, progress=3)  # type: ignore[arg-type]
    with pytest.raises(iocmatch.NotFoundError):
        store.telemetry_from_sightings("feed", communities=["nope"])
