"""Fixtures for the model life cycle: kernels can import cmlops, results display static."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(autouse=True)
def _kernel_can_import_cmlops(monkeypatch: pytest.MonkeyPatch) -> None:
    current = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(SRC), current) if p))
    monkeypatch.setenv("CMLOPS_DISPLAY", "static")


def store_bytes(home: Path) -> bytes:
    """Every byte the store keeps (database, WAL, artifacts)."""
    return b"".join(p.read_bytes() for p in sorted(home.rglob("*")) if p.is_file())


def folder_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())
