"""STIX 2.1 and MISP imports, STIX and text exports, through the Python bindings."""

from __future__ import annotations

import json
import pathlib

import pytest

import iocmatch

from conftest import ROOT

FIXTURES = ROOT / "testdata" / "interchange"
TEST_BEAR = "intrusion-set--6f2a3c1e-0000-4000-8000-000000000003"


@pytest.fixture
def feed(store: iocmatch.Store) -> iocmatch.Store:
    store.create_collection("feed")
    return store


def names(store: iocmatch.Store, collection: str) -> set[str]:
    return {i.name for i in store.indicators(collection, limit=10_000)}


@pytest.mark.parametrize("form", ["path", "str", "bytes", "dict", "list"])
def test_import_stix_takes_every_form(feed: iocmatch.Store, form: str) -> None:
    path = FIXTURES / "bundle.json"
    data: object = {
        "path": path,
        "str": path.read_text(),
        "bytes": path.read_bytes(),
        "dict": json.loads(path.read_text()),
        "list": json.loads(path.read_text())["objects"],
    }[form]
    report = feed.import_stix("feed", data)  # type: ignore[arg-type]
    assert (report.lines, report.imported, len(report.rejected)) == (9, 9, 5)
    assert "203.0.113.5" in names(feed, "feed")
    skipped = report.rejected[2]
    assert skipped.text == "indicator--6f2a3c1e-0000-4000-8000-000000000016"
    assert "revoked" in skipped.reason
    assert feed.threat("TB-1").id == TEST_BEAR


def test_import_stix_errors(feed: iocmatch.Store) -> None:
    with pytest.raises(iocmatch.ValidationError, match="invalid STIX JSON"):
        feed.import_stix("feed", "not json at all")
    with pytest.raises(iocmatch.NotFoundError):
        feed.import_stix("nope", FIXTURES / "bundle.json")
    with pytest.raises(TypeError, match="data must be"):
        feed.import_stix("feed", 42)  # type: ignore[arg-type]
    with pytest.raises(OSError, match="cannot read"):
        feed.import_stix("feed", pathlib.Path("/nonexistent/bundle.json"))


def test_import_misp_json_and_csv(feed: iocmatch.Store) -> None:
    report = feed.import_misp("feed", FIXTURES / "misp_event.json")
    assert (report.lines, report.imported) == (12, 8)
    assert {r.line for r in report.rejected} == {7, 8, 9, 10, 12}
    assert all(r.reason for r in report.rejected)
    again = feed.import_misp("feed", (FIXTURES / "misp_event.json").read_bytes(), all_attributes=True)
    assert again.imported == 1
    assert "cdn.evil-drop.com" in names(feed, "feed")
    csv_report = feed.import_misp("feed", (FIXTURES / "misp.csv").read_text())
    assert (csv_report.lines, csv_report.imported) == (5, 3)
    ind = next(i for i in feed.indicators("feed", limit=1000) if i.name == "203.0.113.7")
    assert ind.valid_until is not None and ind.valid_until.startswith("2024-06-01")
    assert ind.threats == [feed.threat("Test Bear").id]
    with pytest.raises(iocmatch.ValidationError, match="not a MISP"):
        feed.import_misp("feed", {"foo": 1})


def test_stix_and_misp_imports_report_progress(feed: iocmatch.Store) -> None:
    for run in (
        lambda cb: feed.import_stix("feed", FIXTURES / "bundle.json", progress=cb),
        lambda cb: feed.import_misp("feed", FIXTURES / "misp_event.json", progress=cb),
    ):
        seen: list[tuple[str, int, int]] = []
        report = run(lambda *a: seen.append(a))
        assert report.imported + report.duplicates > 0
        assert {s for s, _, _ in seen} == {"parse", "write"}, seen
        assert seen[-1][0] == "write" and seen[-1][1] == seen[-1][2]
        assert all(0 <= d <= t for _, d, t in seen)


def test_export_text(feed: iocmatch.Store) -> None:
    feed.import_text("feed", "evil.com\n1.2.3.4:80\nd41d8cd98f00b204e9800998ecf8427e\n")
    assert feed.export_text("feed") == "1.2.3.4\nevil.com\nd41d8cd98f00b204e9800998ecf8427e\n"
    assert feed.export_text("feed", kind="domain") == "evil.com\n"
    assert feed.export_text("feed", "url") == ""
    with pytest.raises(iocmatch.ValidationError, match="colour"):
        feed.export_text("feed", kind="colour")


def test_export_stix_round_trip(feed: iocmatch.Store) -> None:
    feed.import_stix("feed", FIXTURES / "bundle.json")
    bundle = feed.export_stix("feed")
    assert bundle["type"] == "bundle"
    types = [o["type"] for o in bundle["objects"]]
    assert types.count("indicator") == 9 and types.count("relationship") == 3
    feed.create_collection("copy")
    report = feed.import_stix("copy", bundle)
    assert (report.imported, report.rejected) == (9, [])

    def view(c: str) -> list[tuple[object, ...]]:
        return sorted(
            (i.name, i.valid_from, i.valid_until, json.dumps(i.kill_chain_phases), tuple(sorted(i.threats)))
            for i in feed.indicators(c, limit=1000)
        )

    assert view("feed") == view("copy")
