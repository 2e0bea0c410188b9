"""A real kernel (nbclient) displays results: widget view + text/html fallback, or static only."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import pytest
from bs4 import BeautifulSoup
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from cmlops.widgets.display import RESULT_TYPES, WIDGET_MIMETYPE
from cmlops.widgets.static import BUNDLE_MARKER

SRC = Path(__file__).resolve().parents[2] / "src"

SETUP = """
import numpy as np, pandas as pd
import cmlops.widgets
from cmlops.widgets.display import register_formatters
from cmlops.stats.drift import drift
register_formatters(get_ipython())
rng = np.random.default_rng(0)
hostile = "<img src=x onerror=alert(1)>"
ref = pd.DataFrame({"age": rng.normal(50, 10, 300), hostile: rng.choice(["a", hostile], 300)})
cur = ref.assign(age=ref["age"] + 6)
result = drift(ref, cur)
"""


def _outputs_with(cell, mimetype):
    return [o for o in cell.outputs if mimetype in o.get("data", {})]


@pytest.mark.kernel
def test_real_kernel_widget_and_static_outputs(tmp_path):
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell("result"),
        nbformat.v4.new_code_cell("cmlops.widgets.set_display_mode('static')\nresult"),
        nbformat.v4.new_code_cell("from IPython.display import display\ndisplay(result)"),
    ]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("CMLOPS_DISPLAY", None)
    # a kernel spec of our own: this interpreter, whatever kernel specs are installed
    spec_dir = tmp_path / "kernels" / "cmlops-test"
    spec_dir.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec_dir / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "cmlops test", "language": "python"})
    )
    ksm = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    km = KernelManager(kernel_name="cmlops-test", kernel_spec_manager=ksm)
    client = NotebookClient(nb, km=km, timeout=180, kernel_name="cmlops-test")
    client.execute(env=env)

    live = nb.cells[1]
    widget_outputs = _outputs_with(live, WIDGET_MIMETYPE)
    assert len(widget_outputs) == 1
    data = widget_outputs[0]["data"]
    assert data[WIDGET_MIMETYPE]["model_id"]
    assert "text/html" in data and "text/plain" in data
    fallback = BeautifulSoup(data["text/html"], "html.parser")
    assert fallback.select_one(".cm-header") is not None
    assert fallback.find("img") is None
    # the fallback is light: verdict and tables, no plots and no plotly.js bundle
    assert fallback.select("table.cm-table")
    assert BUNDLE_MARKER not in data["text/html"]
    assert not fallback.select("div.cm-plot")
    # the widget models really reached the client: nbclient stored their state
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert data[WIDGET_MIMETYPE]["model_id"] in state
    assert any(m["model_name"] == "DropdownModel" for m in state.values())

    bundles = []
    for cell in nb.cells[2:]:
        html_outputs = _outputs_with(cell, "text/html")
        assert len(html_outputs) == 1
        assert WIDGET_MIMETYPE not in html_outputs[0]["data"]
        html_text = html_outputs[0]["data"]["text/html"]
        soup = BeautifulSoup(html_text, "html.parser")
        assert soup.select("div.cm-plot")  # static outputs carry their figures
        assert soup.find("img") is None
        bundles.append(len(soup.find_all("script", attrs={BUNDLE_MARKER: True})))
    # plotly.js goes into the first static output of the session only
    assert bundles == [1, 0]


def test_registered_type_names_match_the_real_classes():
    from cmlops.stats.drift import DriftResult
    from cmlops.stats.evaluation import EvaluationResult
    from cmlops.stats.independence import IndependenceResult
    from cmlops.stats.monitoring import MonitorResult
    from cmlops.stats.validation import ValidationResult

    classes = (DriftResult, EvaluationResult, ValidationResult, MonitorResult, IndependenceResult)
    assert {(c.__module__, c.__name__) for c in classes} == set(RESULT_TYPES)
