"""The observable vectors shared with the Rust (and C) suites: testdata/observables.json."""

from __future__ import annotations

import json
from typing import Any, Dict, List

import pytest

import iocmatch

from conftest import ROOT

DOC = json.loads((ROOT / "testdata" / "observables.json").read_text())
VECTORS: List[Dict[str, Any]] = DOC["vectors"]


def text_of(v: Dict[str, Any]) -> str:
    if "input_repeat" in v:
        text, count = v["input_repeat"]
        return str(text) * int(count)
    return str(v["input"])


@pytest.mark.parametrize("v", VECTORS, ids=[f"{i}:{str(v.get('input', 'repeat'))[:40]}" for i, v in enumerate(VECTORS)])
def test_vector(v: Dict[str, Any]) -> None:
    value, kind = text_of(v), v["kind"]
    if "expect" in v:
        got = iocmatch.normalize(value, kind)
        assert (got.kind, got.value) == (v["expect"]["kind"], v["expect"]["value"])
        if kind is None:
            assert iocmatch.classify(value) == v["expect"]["kind"]
    elif "expect_indicator" in v:
        got_ind = iocmatch.parse_indicator(value, kind)
        assert got_ind["observables"] == v["expect_indicator"]["observables"]
        assert got_ind["port"] == v["expect_indicator"].get("port")
    else:
        assert v["error"] is True
        fn = iocmatch.parse_indicator if v.get("indicator") else iocmatch.normalize
        with pytest.raises(iocmatch.ValidationError) as e:
            fn(value, kind)
        assert isinstance(e.value, ValueError)
        if "error_contains" in v:
            assert v["error_contains"] in str(e.value)


def test_vectors_are_many() -> None:
    assert len(VECTORS) > 300


def test_observable_object_and_refang() -> None:
    o = iocmatch.normalize("hxxps://Evil[.]Example:443/a#frag")
    assert (o.kind, o.value) == ("url", "https://evil.example/a")
    assert o.to_dict() == {"kind": "url", "value": "https://evil.example/a"}
    assert o == iocmatch.normalize("https://evil.example/a") and hash(o) == hash(iocmatch.normalize("https://evil.example/a"))
    assert "Observable(" in repr(o)
    assert iocmatch.refang("evil[.]example") == "evil.example"
    with pytest.raises(iocmatch.ValidationError):
        iocmatch.normalize("1.2.3.4", "no-such-kind")
