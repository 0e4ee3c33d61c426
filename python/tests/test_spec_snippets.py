"""The Python snippets of the spec's "Use your own CTI" pages (003 and its newer version 004),
rewritten to call iocmatch in-process instead of the REST API, with the same payloads."""

from __future__ import annotations

from pathlib import Path

import pytest

import iocmatch

from conftest import APT29


def test_create_an_ioc_collection(store: iocmatch.Store, capsys: pytest.CaptureFixture[str]) -> None:
    # 003/004 "Create an IOC collection"
    payload = {"name": "My IOC Collection"}
    res = store.create_collection(**payload)
    print(f"Collection created with id {res.id}")

    assert res.id.startswith("ioc-collection--")
    assert res.name == "My IOC Collection"
    assert store.collection(res.id) == res
    assert capsys.readouterr().out == f"Collection created with id {res.id}\n"


def test_create_collection_tip_options(store: iocmatch.Store) -> None:
    # the tip: description, the sub-community to create it for, available_for_sub_communities
    parent = store.create_community("mssp")
    client = store.create_community("client-a", parent=parent.id)
    shared = store.create_collection(
        "Shared", description="for every client", community=parent.id, available_for_sub_communities=True
    )
    own = store.create_collection("Own", community=client.name)
    assert shared.description == "for every client"
    assert shared.available_for_sub_communities is True
    assert shared.community_id == parent.id
    assert own.community_id == client.id
    assert own.available_for_sub_communities is False


def test_import_indicators_batch(store: iocmatch.Store, capsys: pytest.CaptureFixture[str]) -> None:
    # 003 "Import indicators", usage example: the payload exactly as the spec has it
    store.add_threat("Example actor", id="threat-actor--xxx")
    collection_id = store.create_collection("My IOC Collection").id

    # 1. Build the indicators' payload
    payload = {
        "indicators": [
            {"value": "94.24.86.201"},
            {"value": "152.10.13.131"},
        ],
        "default_fields": {
            "valid_from": "2015-05-07T00:00:00Z",
            "valid_until": "2045-05-07T00:00:00Z",
            "kill_chain_phases": [
                {"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "reconnaissance"}
            ],
            "x_ic_related_threat_refs": ["threat-actor--xxx"],
        },
    }
    # 3. Send the upload request
    res = store.add_indicators(collection_id, payload)
    nb_uploaded_IOCs = res["total"]
    print(f"Imported {nb_uploaded_IOCs} successfully")

    assert capsys.readouterr().out == "Imported 2 successfully\n"
    # 4. Response example: the same shape and values, ids and times aside
    assert res["total"] == 2
    assert [i["name"] for i in res["items"]] == ["94.24.86.201", "152.10.13.131"]
    for item, value in zip(res["items"], ["94.24.86.201", "152.10.13.131"]):
        assert item["id"].startswith("indicator--")
        expected = {
            "type": "indicator",
            "revoked": False,
            "lang": "en",
            "spec_version": "2.1",
            "x_ic_is_in_flint": False,
            "x_ic_deprecated": False,
            "name": value,
            "pattern": f"[ipv4-addr:value = '{value}']",
            "valid_from": "2015-05-07T00:00:00Z",
            "valid_until": "2045-05-07T00:00:00Z",
            "kill_chain_phases": [
                {"kill_chain_name": "lockheed-martin-cyber-kill-chain", "phase_name": "reconnaissance"}
            ],
            "pattern_type": "stix",
            "x_ic_observable_types": ["ipv4-addr"],
            "x_ic_collection_ref": collection_id,
            "x_ic_related_threat_refs": ["threat-actor--xxx"],
        }
        assert {k: item[k] for k in expected} == expected
        assert item["created"] == item["modified"]
        assert item["created"].endswith("Z")


def test_import_indicators_batch_as_json_text(store: iocmatch.Store) -> None:
    collection_id = store.create_collection("c").id
    res = store.add_indicators(collection_id, '{"indicators": [{"value": "evil[.]example"}]}')
    assert res["total"] == 1
    assert res["items"][0]["pattern"] == "[domain-name:value = 'evil.example']"
    assert store.add_indicators(collection_id, b'{"indicators": [{"value": "evil.example"}]}')["duplicates"] == 1


def test_import_indicators_from_text(store: iocmatch.Store, capsys: pytest.CaptureFixture[str]) -> None:
    # 003/004 "Import indicators from text"
    store.add_threat("APT29", id=APT29, aliases=["APT-29", "Cozy Bear"])
    collection_id = store.create_collection("My IOC Collection").id

    observables_text = """
microsoftsvc.com
178.236.246.57
d30bb9df615a8d1661f843d426ff40eb,4344e695b5f65917dc68f241ecde4b99cf25d930
"""
    payload = {
        "indicators": observables_text,
        "x_ic_related_threat_refs": ["intrusion-set--202fc7e0-1580-4ad1-83d8-5f98be4fe1a2"],
    }
    seen = []
    report = store.import_text(
        collection_id,
        payload["indicators"],
        x_ic_related_threat_refs=payload["x_ic_related_threat_refs"],
        progress=lambda stage, done, total: seen.append((stage, done, total)),
    )
    imported = report.imported
    total = report.lines
    print(f"Imported {imported}/{total}")
    print("Import finished")

    assert capsys.readouterr().out == "Imported 3/3\nImport finished\n"
    assert report.rejected == []
    assert seen and seen[-1][1] == seen[-1][2]
    names = sorted(i.name for i in store.indicators(collection_id))
    assert names == [
        "178.236.246.57",
        "d30bb9df615a8d1661f843d426ff40eb,4344e695b5f65917dc68f241ecde4b99cf25d930",
        "microsoftsvc.com",
    ]
    for ind in store.indicators(collection_id):
        assert ind.threats == [APT29]
        assert ind.to_dict()["x_ic_related_threat_refs"] == [APT29]
    hashes = store.search(collection_id, "d30bb9df")
    assert [o for o, _ in hashes[0].observables] == ["md5", "sha1"]


def test_import_indicators_from_file(store: iocmatch.Store, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # 003/004 "Import indicators from file": preview (file handle, first lines, detected mapping,
    # whether the first line is ignored), then process with a mapping, one type per column
    store.add_threat("APT29", id=APT29, aliases=["APT-29", "Cozy Bear"])
    store.add_threat("Phishing")
    collection_id = store.create_collection("My IOC Collection").id
    path = tmp_path / "file.csv"
    path.write_text(
        "indicator,valid_from,valid_until,comment,kill_chain_phases,x_ic_related_threat_refs\n"
        "microsoftsvc.com,2024-01-01,2025-01-01,seen in a campaign,\"Delivery,Command and Control\",\"Phishing,APT-29\"\n"
        "178.236.246.57,2024-01-02,,,c2,APT-29\n"
    )

    # First we generate a preview of the file
    content = store.preview_file(collection_id, str(path))
    assert content["file_handle"] == "file.csv"
    assert content["preview"][1][0] == "microsoftsvc.com"
    assert content["ignore_first_line"] is True
    assert content["mapping"] == [
        "observable", "valid_from", "valid_until", "description", "kill_chain_phases", "x_ic_related_threat_refs"
    ]

    # Then we ask to process the file, with the mapping given by hand as in the snippet
    payload = {
        "file_handle": content["file_handle"],
        "mapping": [
            "observable",
            "valid_from",
            "valid_until",
            None,
            "kill_chain_phases",
            "x_ic_related_threat_refs",
        ],
        "ignore_first_line": True,
    }
    report = store.import_file(collection_id, str(path), payload["mapping"], payload["ignore_first_line"])
    imported = report.imported
    total = report.lines
    print(f"Imported {imported}/{total}")
    print("Import finished")

    assert capsys.readouterr().out == "Imported 2/2\nImport finished\n"
    ind = store.search(collection_id, "microsoftsvc.com")[0]
    assert ind.description is None  # the column was mapped to null
    assert sorted(p["phase_name"] for p in ind.to_dict()["kill_chain_phases"]) == ["command-and-control", "delivery"]
    assert len(ind.threats) == 2 and APT29 in ind.threats
