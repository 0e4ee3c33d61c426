"""The store API: communities, collections, indicators, threats, listings, progress."""

from __future__ import annotations

import pathlib
from typing import List, Tuple

import pytest

import iocmatch

from conftest import APT29


def test_communities(store: iocmatch.Store) -> None:
    default = store.default_community()
    assert default.name == "default" and default.parent_id is None
    mssp = store.create_community("mssp")
    client = store.create_community("client-a", parent="mssp")
    assert client.parent_id == mssp.id
    assert {c.name for c in store.communities()} == {"default", "mssp", "client-a"}
    assert store.community("client-a") == client == store.community(client.id)
    assert client.to_dict()["parent_id"] == mssp.id
    assert "client-a" in repr(client)


def test_collections_crud(file_store: iocmatch.Store, tmp_path: pathlib.Path) -> None:
    store = file_store
    assert store.path is not None and pathlib.Path(store.path) == tmp_path / "iocmatch.db"
    a = store.create_collection("A", description="first")
    b = store.create_collection("B", match_subdomains=True)
    assert [c.name for c in store.collections()] == ["A", "B"]
    assert [c.name for c in store.collections(offset=1, limit=1)] == ["B"]
    assert store.collections("default")[0] == a
    assert b.match_subdomains is True
    renamed = store.update_collection(a.id, name="A2", description=None, available_for_sub_communities=True)
    assert (renamed.name, renamed.description, renamed.available_for_sub_communities) == ("A2", None, True)
    assert store.update_collection("A2", description="again").description == "again"
    store.import_text(b.id, "1.2.3.4\n5.6.7.8\n")
    assert store.collection("B").indicator_count == 2
    assert store.delete_collection("B") == 2
    with pytest.raises(iocmatch.NotFoundError):
        store.collection(b.id)
    d = renamed.to_dict()
    assert d["name"] == "A2" and d["id"] == a.id and d["created"].endswith("Z")
    # the data is durable: a second handle sees it
    assert [c.name for c in iocmatch.Store(store.path).collections()] == ["A2"]


def test_description_limit(store: iocmatch.Store) -> None:
    with pytest.raises(iocmatch.ValidationError):
        store.create_collection("x", description="d" * 501)


def test_indicators_list_search_edit_revoke(store: iocmatch.Store) -> None:
    store.add_threat("APT29", id=APT29, aliases=["APT-29"])
    c = store.create_collection("c")
    report = store.import_text(
        c.id,
        "evil[.]example\n203.0.113.7:8080\nnot an ioc\n\n# comment\nevil.example\n",
        valid_from="2024-05-01",
        valid_until="2025-05-01T00:00:00Z",
        kill_chain_phases="delivery",
        x_ic_related_threat_refs=["APT-29"],
        description="from the report",
    )
    assert (report.lines, report.imported, report.duplicates) == (4, 2, 1)
    assert [(r.line, r.text) for r in report.rejected] == [(3, "not an ioc")]
    assert report.to_dict()["rejected"][0]["line"] == 3
    assert "rejected=1" in repr(report)

    all_ = store.indicators(c.id)
    assert len(all_) == 2
    ip = store.indicators(c.id, kind="ipv4")[0]
    assert (ip.name, ip.port, ip.observables) == ("203.0.113.7", 8080, [("ipv4", "203.0.113.7")])
    assert ip.valid_from == "2024-05-01T00:00:00Z" and ip.valid_until == "2025-05-01T00:00:00Z"
    assert ip.threats == [APT29] and ip.description == "from the report"
    assert ip.kill_chain_phases == [{"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "delivery"}]
    stix = ip.to_dict()
    assert stix["pattern"] == "[ipv4-addr:value = '203.0.113.7']" and stix["type"] == "indicator"
    assert [i.name for i in store.search(c.id, "EVIL[.]")] == ["evil.example"]
    assert store.search(c.id, "nothing") == []

    edited = store.edit_indicator(ip.id, valid_until=None, x_ic_related_threat_refs=[], match_subdomains=None)
    assert edited.valid_until is None and edited.threats == []
    revoked = store.revoke_indicator(ip.id)
    assert revoked.revoked and store.indicator(ip.id).revoked
    assert [i.id for i in store.indicators(c.id, revoked=True)] == [ip.id]
    assert [i.name for i in store.indicators(c.id, revoked=False)] == ["evil.example"]
    assert store.collection(c.id).revoked_count == 1


def test_dates_in_every_form(store: iocmatch.Store) -> None:
    import datetime as dt

    c = store.create_collection("c")
    forms = [
        ("2024-01-02", "2024-01-02T00:00:00Z"),
        ("2024-01-02T03:04:05+01:00", "2024-01-02T02:04:05Z"),
        (1704164645, "2024-01-02T03:04:05Z"),
        (1704164645.5, "2024-01-02T03:04:05.500000Z"),
        (dt.datetime(2024, 1, 2, 3, 4, 5), "2024-01-02T03:04:05Z"),
        (dt.datetime(2024, 1, 2, 4, 4, 5, tzinfo=dt.timezone(dt.timedelta(hours=1))), "2024-01-02T03:04:05Z"),
        (dt.date(2024, 1, 2), "2024-01-02T00:00:00Z"),
    ]
    for i, (given, want) in enumerate(forms):
        store.import_text(c.id, f"10.0.0.{i}\n", valid_from=given)
        got = store.indicators(c.id, kind="ipv4", offset=i, limit=1)[0]
        assert got.valid_from == want, given


def test_threats(store: iocmatch.Store) -> None:
    t = store.add_threat("APT29", id=APT29, aliases=["APT-29", "Cozy Bear"])
    made = store.add_threat("FIN7", threat_type="intrusion-set")
    assert made.id.startswith("intrusion-set--")
    assert store.threat("cozy bear") == t and t.aliases == ["APT-29", "Cozy Bear"]
    assert {x.name for x in store.threats()} == {"APT29", "FIN7"}
    assert t.to_dict()["id"] == APT29
    with pytest.raises(iocmatch.ValidationError):
        c = store.create_collection("c")
        store.import_text(c.id, "1.2.3.4\n", x_ic_related_threat_refs=["unknown actor"])


def test_progress_callable_and_tqdm(store: iocmatch.Store) -> None:
    c = store.create_collection("c")
    seen: List[Tuple[str, int, int]] = []
    text = "".join(f"10.{i // 65536}.{i // 256 % 256}.{i % 256}\n" for i in range(70_000))
    store.import_text(c.id, text, progress=lambda *a: seen.append(a))
    stages = [s for s, _, _ in seen]
    assert stages[0] == "parse" and stages[-1] == "write"
    assert all(0 <= d <= t for _, d, t in seen)
    assert seen[-1][1] == seen[-1][2]
    pytest.importorskip("tqdm")
    report = store.import_text(c.id, "1.1.1.1\n", progress=True)
    assert report.imported == 1
    assert store.import_text(c.id, "1.1.1.2\n", progress=False).imported == 1


def test_compile_and_index_properties(store: iocmatch.Store, tmp_path: pathlib.Path) -> None:
    c = store.create_collection("c")
    store.import_text(c.id, "1.2.3.4\nevil.example\n")
    index = store.compile()
    assert len(index) == 2 and index.created.endswith("Z") and "Index(" in repr(index)
    index.save(str(tmp_path / "ix.bin"))
    assert len(iocmatch.load_index(tmp_path / "ix.bin")) == 2


def test_public_names_have_docstrings() -> None:
    assert iocmatch.__doc__
    for name in iocmatch.__all__:
        obj = getattr(iocmatch, name)
        if name == "__version__":
            assert isinstance(obj, str)
            continue
        assert obj.__doc__, name
        if isinstance(obj, type) and not issubclass(obj, BaseException):
            for attr in dir(obj):
                if not attr.startswith("_"):
                    assert getattr(obj, attr).__doc__, f"{name}.{attr}"


def test_package_docstring_example() -> None:
    import doctest

    result = doctest.testmod(iocmatch)
    assert result.attempted >= 5 and result.failed == 0
