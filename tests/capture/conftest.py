"""Real-kernel fixtures: a kernel spec for this interpreter, and a notebook runner.

The kernel spec lives in a temporary JUPYTER_PATH so the tests need nothing
installed on the machine beyond this virtual environment; the kernel gets
``src`` on its PYTHONPATH and inherits CMLOPS_HOME from the test.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest

SRC = str(Path(__file__).resolve().parents[2] / "src")
KERNEL = "cmlops-test-python"


@pytest.fixture(scope="session")
def kernel_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(
        json.dumps(
            {
                "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
                "display_name": "cmlops tests",
                "language": "python",
                "env": {"PYTHONPATH": SRC},
            }
        )
    )
    return root


@pytest.fixture
def run_notebook(
    kernel_dir: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Callable[..., nbformat.NotebookNode]:
    """Execute cells (strings; a leading ``#raises`` line allows an error) in a real kernel."""
    from nbclient import NotebookClient

    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))

    def run(cells: list[str], workdir: Path | None = None, **env: str) -> nbformat.NotebookNode:
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        nb = nbformat.v4.new_notebook()
        for source in cells:
            cell = nbformat.v4.new_code_cell(source.removeprefix("#raises\n"))
            if source.startswith("#raises\n"):
                cell.metadata["tags"] = ["raises-exception"]
            nb.cells.append(cell)
        nb.metadata["kernelspec"] = {
            "name": KERNEL,
            "display_name": "cmlops tests",
            "language": "python",
        }
        client = NotebookClient(
            nb,
            kernel_name=KERNEL,
            timeout=120,
            resources={"metadata": {"path": str(workdir or tmp_path)}},
        )
        client.execute()
        return nb

    return run


def outputs_text(cell: nbformat.NotebookNode) -> str:
    parts = []
    for out in cell.outputs:
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in {"execute_result", "display_data"}:
            parts.append(out.data.get("text/plain", ""))
        elif out.output_type == "error":
            parts.append(f"{out.ename}: {out.evalue}")
    return "".join(parts)
