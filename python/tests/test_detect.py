"""Detection rules and retrohunt from Python: rules as dicts, alerts and summary as dicts."""

from __future__ import annotations

import gzip
import json
import pathlib
from typing import List, Tuple

import pytest

import iocmatch


def event(day: str, host: str) -> str:
    return json.dumps({"@timestamp": f"{day}T08:00:00Z", "url": {"domain": host}})


@pytest.fixture
def feed(store: iocmatch.Store) -> iocmatch.Store:
    """A store with collection ``feed`` (and its rule) holding evil.example for 2024-01-10..20."""
    store.create_collection("feed", create_rule=True)
    store.import_text("feed", "evil.example\n", valid_from="2024-01-10", valid_until="2024-01-20")
    return store


def test_rules(feed: iocmatch.Store) -> None:
    store = feed
    assert [r["name"] for r in store.rules()] == ["IOC collection: feed"]
    store.create_collection("other")
    r = store.create_rule("both", ["feed", "other"], description="two", enabled=False)
    assert r["id"].startswith("rule--") and r["enabled"] is False and len(r["collections"]) == 2
    assert store.set_rule_enabled("both", True)["enabled"] is True
    t = store.create_rule("tenant", community="default")
    assert t["community_id"] == store.default_community().id
    assert store.rule(t["id"])["name"] == "tenant"
    assert store.delete_rule("tenant")["name"] == "tenant"
    assert len(store.rules()) == 2
    with pytest.raises(iocmatch.NotFoundError, match="ghost"):
        store.create_rule("x", ["ghost"])
    with pytest.raises(iocmatch.ConflictError, match="BOTH"):
        store.create_rule("BOTH", ["feed"])
    with pytest.raises(iocmatch.ValidationError, match="scope"):
        store.create_rule("x")
    with pytest.raises(iocmatch.NotFoundError):
        store.set_rule_enabled("nope", False)


def write_archive(d: pathlib.Path) -> None:
    # 4 days before valid_from: alerts; a bad line; 6 days after valid_until: does not
    lines = [event("2024-01-06", "evil.example"), "{bad", event("2024-01-26", "evil.example")]
    (d / "a.ndjson").write_text("\n".join(lines))
    (d / "b.json.gz").write_bytes(gzip.compress((event("2024-01-24", "evil.example") + "\n").encode()))


def test_retrohunt(feed: iocmatch.Store, tmp_path: pathlib.Path) -> None:
    write_archive(tmp_path)
    seen: List[Tuple[int, int]] = []
    alerts, summary = iocmatch.retrohunt(feed, tmp_path, progress=lambda d, t: seen.append((d, t)))
    got = sorted((pathlib.Path(a["source"]).name, a["line"]) for a in alerts)
    assert got == [("a.ndjson", 1), ("b.json.gz", 1)]
    assert all(a["detection_type"] == "cti_retrohunt" and a["rule_name"] == "IOC collection: feed" for a in alerts)
    assert alerts[0]["matches"][0]["observable"] == "evil.example"
    assert (summary["files"], summary["events"], summary["alerts"], summary["bad_lines"]) == (2, 3, 2, 1)
    assert summary["bad_line_details"][0]["line"] == 2
    assert seen and seen[-1][0] == seen[-1][1]

    # a narrower margin, a list of paths, since
    alerts, _ = iocmatch.retrohunt(feed, [tmp_path / "a.ndjson"], margin="1d")
    assert alerts == []
    alerts, summary = iocmatch.retrohunt(feed, str(tmp_path), since="now")
    assert alerts == [] and summary["indicators"] == 0


def test_incremental_and_errors(feed: iocmatch.Store, tmp_path: pathlib.Path) -> None:
    write_archive(tmp_path)
    first, _ = iocmatch.retrohunt(feed, tmp_path, incremental=True)
    assert len(first) == 2
    again, summary = iocmatch.retrohunt(feed, tmp_path, incremental=True)
    assert again == [] and summary["files_skipped"] == 2
    feed.set_rule_enabled("IOC collection: feed", False)
    alerts, summary = iocmatch.retrohunt(feed, tmp_path)
    assert alerts == [] and summary["rules"] == 0

    with pytest.raises(iocmatch.ValidationError, match="5x"):
        iocmatch.retrohunt(feed, tmp_path, margin="5x")
    with pytest.raises(iocmatch.IocMatchError, match="nonexistent"):
        iocmatch.retrohunt(feed, "/nonexistent/archive")
    with pytest.raises(TypeError):
        iocmatch.retrohunt(feed, tmp_path, progress=42)  # type: ignore[arg-type]
    with pytest.raises(iocmatch.NotFoundError):
        iocmatch.retrohunt(feed, tmp_path, community="ghost")
