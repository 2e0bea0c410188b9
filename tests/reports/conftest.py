"""Fixtures for report tests: a real store in tmp, and small template notebooks.

The kernel is ipykernel's built-in ``python3`` spec (it always exists where
ipykernel is installed, and jupyter_client runs it with this interpreter).
``cmlops`` must be importable inside the kernel: the source folder is put on
the kernel's PYTHONPATH so the tests also work from a plain checkout.
"""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest

SRC = Path(__file__).resolve().parents[2] / "src"


@pytest.fixture(autouse=True)
def _kernel_can_import_cmlops(monkeypatch: pytest.MonkeyPatch) -> None:
    current = os.environ.get("PYTHONPATH", "")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(SRC), current) if p))
    monkeypatch.setenv("CMLOPS_DISPLAY", "static")


@pytest.fixture
def store(tmp_path: Path):
    from cmlops.store import open_store

    opened = open_store(home=tmp_path / ".cmlops")
    yield opened
    opened.close()


def make_template(
    path: Path,
    body: list[str],
    *,
    parameters: list[dict] | None = None,
    defaults: str = "text = 'hello'\nn = 1",
    plan: dict | None = None,
    tagged: bool = True,
) -> Path:
    """Write a template notebook: a parameters cell, then ``body`` cells."""
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell(defaults + "\ncmlops_output_dir = '.'\ncmlops_run_id = ''")
    if tagged:
        cell.metadata["tags"] = ["parameters"]
    nb.cells = [nbformat.v4.new_markdown_cell("# Test template"), cell]
    nb.cells += [nbformat.v4.new_code_cell(src) for src in body]
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["cmlops"] = {
        "title": "Test template",
        "parameters": parameters
        if parameters is not None
        else [
            {"name": "text", "type": "str", "default": "hello", "description": "any text"},
            {"name": "n", "type": "int", "default": 1, "description": "a count"},
        ],
        "default_plan": plan
        or {
            "plan_id": "test-plan",
            "criteria": [{"id": "n-positive", "metric": "n", "op": ">=", "threshold": 1}],
        },
    }
    nbformat.write(nb, str(path))
    return path


ECHO_BODY = [
    "from cmlops.reports.notebook import ReportContext\n"
    "report = ReportContext.start(cmlops_output_dir)\n"
    "report.metrics['n'] = n\n"
    "report.details['text'] = text\n"
    "report.criteria_table()\n"
    "report.finish()"
]


@pytest.fixture
def echo_template(tmp_path: Path) -> Path:
    return make_template(tmp_path / "echo.ipynb", ECHO_BODY)
