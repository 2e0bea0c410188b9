"""Fixtures for the server-extension tests: a real Jupyter server (pytest-jupyter) with
cmlops enabled, pointed at a throw-away store filled with a small lineage."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytest_jupyter.jupyter_server import *  # noqa: F403 - registers jp_fetch & co.

from cmlops.store import (
    Activity,
    Agent,
    Associated,
    Entity,
    Generated,
    LineageBatch,
    Used,
    open_store,
)

NOTEBOOK = "analysis/model.ipynb"


def sample_batch(notebook: str = NOTEBOOK) -> LineageBatch:
    """A tracked cell that read a CSV and fitted a model."""
    dataset = Entity(
        id="ds-1",
        kind="dataset",
        name="patients.csv",
        fingerprint="blake3:" + "a" * 64,
        location="data/patients.csv",
        schema={
            "kind": "dataframe",
            "rows": 120,
            "columns": [
                {"name": "age", "dtype": "int64", "missing": 0},
                {"name": "<b>bold</b>", "dtype": "float64", "missing": 2},
            ],
        },
    )
    model = Entity(id="model-1", kind="model", name="clf", fingerprint="blake3:" + "b" * 64)
    cell = Activity(
        id="act-1",
        kind="cell",
        name="cell 3",
        code="df = pd.read_csv('data/patients.csv')\nclf.fit(X, y)",
        code_hash="c" * 64,
        notebook=notebook,
        started="2026-11-22T10:00:00+00:00",
        ended="2026-11-22T10:00:01+00:00",
        status="ok",
    )
    person = Agent(id="agent-ana", kind="person", name="ana")
    return LineageBatch(
        entities=[dataset, model],
        activities=[cell],
        agents=[person],
        used=[Used("act-1", "ds-1", "input")],
        generated=[Generated("model-1", "act-1", "model")],
        associated=[Associated("act-1", "agent-ana", "operator")],
    )


@pytest.fixture
def store_home(tmp_path: Path) -> Path:
    home = tmp_path / "store" / ".cmlops"
    with open_store(home=home) as store:
        store.record_lineage(sample_batch())
        store.append("note.added", "note", "n-1", {"text": "hello"}, reason="test")
    return home


@pytest.fixture
def packages_dir(jp_root_dir: Path) -> Path:
    folder = Path(jp_root_dir) / "cmlops-packages"
    folder.mkdir()
    return folder


@pytest.fixture
def jp_server_config(store_home: Path, packages_dir: Path) -> dict:
    return {
        "ServerApp": {"jpserver_extensions": {"cmlops": True}},
        "CmlopsServer": {"store_home": str(store_home), "packages_dir": str(packages_dir)},
    }
