"""File import (preview, mapping, process) and CSV export from Python."""

from __future__ import annotations

import csv
import io
import pathlib

import pytest

import iocmatch

from conftest import APT29, ROOT

CSV = (
    "\ufeffIOC;First seen;Kill chain;Threats;Comment\r\n"
    'evil[.]example;2024-05-07;"c2, delivery";APT-29;"two\r\nlines"\r\n'
    "203.0.113.5;45419;;;=1+1\r\n"
    "not an ioc;2024-05-07;;;\r\n"
    "bad-date.example;yesterday;;;\r\n"
)


@pytest.fixture
def coll(store: iocmatch.Store) -> str:
    store.add_threat("APT29", id=APT29, aliases=["APT-29"])
    return store.create_collection("feed").id


def test_preview_from_bytes_and_path(store: iocmatch.Store, coll: str, tmp_path: pathlib.Path) -> None:
    p = store.preview_file(coll, CSV.encode(), filename="iocs.csv")
    assert p["mapping"] == ["observable", "valid_from", "kill_chain_phases", "x_ic_related_threat_refs", "description"]
    assert p["ignore_first_line"] is True
    assert p["file_handle"] == "iocs.csv"
    assert p["format"] == "csv" and p["delimiter"] == ";"
    assert p["preview"][0][0] == "IOC"
    assert p["preview"][1][4] == "two\r\nlines"
    path = tmp_path / "iocs.csv"
    path.write_bytes(CSV.encode())
    assert store.preview_file(coll, path) == p
    assert store.preview_file(coll, str(path))["file_handle"] == "iocs.csv"


def test_import_reports_rows_and_defaults(store: iocmatch.Store, coll: str) -> None:
    seen: list[tuple[str, int, int]] = []
    r = store.import_file(
        coll, CSV.encode(), valid_until="2030-01-01", description="default", progress=lambda *a: seen.append(a)
    )
    assert (r.lines, r.imported) == (4, 2)
    assert [(x.line, x.text) for x in r.rejected] == [(4, "not an ioc"), (5, "bad-date.example;yesterday;;;")]
    assert "invalid date 'yesterday'" in r.rejected[1].reason
    assert seen and seen[-1][1] == seen[-1][2]
    evil = store.search(coll, "evil.example")[0]
    assert evil.threats == [APT29]
    assert evil.description == "two\r\nlines"
    assert evil.to_dict()["valid_until"] == "2030-01-01T00:00:00Z"
    ip = store.search(coll, "203.0.113.5")[0]
    assert ip.to_dict()["valid_from"] == "2024-05-07T00:00:00Z"  # an Excel serial number


def test_explicit_mapping_forms(store: iocmatch.Store, coll: str) -> None:
    data = b"evil.example,x\n1.2.3.4,y\n"
    r = store.import_file(coll, data, ["observable", None], False)
    assert (r.imported, r.rejected) == (2, [])
    r = store.import_file(coll, data, "observable,description", True, kill_chain_phases=["c2"])
    assert (r.lines, r.duplicates) == (1, 1)


def test_workbook_fixtures(store: iocmatch.Store, coll: str) -> None:
    for name in ("iocs.xlsx", "iocs.ods"):
        path = ROOT / "testdata" / "files" / name
        p = store.preview_file(coll, path)
        assert p["format"] == name.rsplit(".", 1)[1]
        assert p["preview"][1][1] == "2024-05-07T00:00:00Z"
        c = store.create_collection(name).id
        r = store.import_file(c, path)
        assert r.imported == 3 and [x.line for x in r.rejected] == [5, 7]


def test_legacy_xls_and_worksheet_choice(store: iocmatch.Store, coll: str) -> None:
    path = ROOT / "testdata" / "files" / "iocs.xls"
    p = store.preview_file(coll, path)
    assert (p["format"], p["sheets"], p["sheet"]) == ("xls", ["IOCs", "More IOCs"], "IOCs")
    assert p["preview"][1][1] == "2024-05-07T00:00:00Z"
    assert store.preview_file(coll, path, sheet="2")["sheet"] == "More IOCs"
    r = store.import_file(coll, path, sheet="more iocs")
    assert (r.imported, r.rejected) == (2, [])
    with pytest.raises(iocmatch.ValidationError, match="no worksheet 'Sheet9'"):
        store.import_file(coll, path, sheet="Sheet9")


def test_errors(store: iocmatch.Store, coll: str, tmp_path: pathlib.Path) -> None:
    with pytest.raises(iocmatch.ValidationError, match="unknown mapping entry 'when'"):
        store.import_file(coll, b"a.example\n", "observable,when")
    with pytest.raises(iocmatch.ValidationError, match="no 'observable' column"):
        store.import_file(coll, b"a.example\n", [None])
    with pytest.raises(TypeError, match="colour"):
        store.import_file(coll, b"a.example\n", colour="red")
    with pytest.raises(TypeError, match="mapping entry must be a str or None"):
        store.import_file(coll, b"a.example\n", [3])
    with pytest.raises(TypeError, match="path or bytes"):
        store.preview_file(coll, 42)  # type: ignore[arg-type]
    with pytest.raises(iocmatch.NotFoundError):
        store.preview_file("nope", b"a.example\n")
    with pytest.raises(iocmatch.IocMatchError, match="cannot read"):
        store.import_file(coll, tmp_path / "missing.csv")
    with pytest.raises(iocmatch.IocMatchError, match="xlsx"):
        store.preview_file(coll, b"PK\x03\x04 no zip", filename="x.xlsx")


def test_export_csv_neutralises_formulas(store: iocmatch.Store, coll: str) -> None:
    store.import_file(coll, CSV.encode())
    out = store.export_csv(coll)
    rows = list(csv.reader(io.StringIO(out, newline="")))
    assert rows[0] == [
        "observable", "kind", "valid_from", "valid_until", "kill_chain_phases", "threats", "description",
        "created", "modified", "revoked", "id",
    ]
    by_value = {r[0]: r for r in rows[1:]}
    assert by_value["203.0.113.5"][6] == "'=1+1"
    assert by_value["evil.example"][5] == APT29
    assert by_value["evil.example"][6] == "two\r\nlines"
    with pytest.raises(iocmatch.NotFoundError):
        store.export_csv("nope")
