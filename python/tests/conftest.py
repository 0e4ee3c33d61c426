"""Shared fixtures of the iocmatch Python suite."""

from __future__ import annotations

import pathlib

import pytest

import iocmatch

ROOT = pathlib.Path(__file__).resolve().parents[2]
"""The repository root (testdata/, examples/)."""

APT29 = "intrusion-set--202fc7e0-1580-4ad1-83d8-5f98be4fe1a2"


@pytest.fixture
def store() -> iocmatch.Store:
    """A fresh in-memory store."""
    return iocmatch.Store()


@pytest.fixture
def file_store(tmp_path: pathlib.Path) -> iocmatch.Store:
    """A fresh file-backed store."""
    return iocmatch.Store(tmp_path / "iocmatch.db")
