"""Results display themselves, with no registration: plain calls, plain IPython, a real kernel,
nbconvert; ``plot``, ``save_html`` (atomic, one-line errors) and the renderer slot."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import nbformat
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from bs4 import BeautifulSoup
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from cmlops.errors import CmlopsError, InvalidInputError, OutputFileError
from cmlops.stats import rendering
from cmlops.stats.result import MAX_REPR
from cmlops.widgets.display import WIDGET_MIMETYPE
from cmlops.widgets.static import BUNDLE_MARKER
from tests.chromium import chromium
from tests.widgets.conftest import HOSTILE, SCRIPT_BREAK

SRC = Path(__file__).resolve().parents[2] / "src"
RESULTS = (
    "drift_result",
    "evaluation_result",
    "validation_result",
    "monitor_result",
    "comparison_result",
    "independence_result",
)
COMPARISON_FIGURES = [
    "ROC curves",
    "Calibration curves",
    "Decision curves",
    "Differences by subgroup",
]


@pytest.fixture(scope="module")
def comparison_result():
    from cmlops.stats.comparison import compare

    rng = np.random.default_rng(4)
    n = 500
    y = rng.integers(0, 2, n)
    a = np.clip(0.3 * y + rng.uniform(0, 0.7, n), 0, 1)
    b = np.clip(0.45 * y + rng.uniform(0, 0.55, n), 0, 1)
    groups = pd.Series(rng.choice(["F", HOSTILE], n), name=SCRIPT_BREAK)
    return compare(
        y,
        a,
        b,
        thresholds=[0.2, 0.4],
        groups=groups,
        names=(HOSTILE, SCRIPT_BREAK),
        criteria={"auroc_difference_ci_low": (">=", 0.0)},
    )


@pytest.fixture(scope="module")
def independence_result(drift_frames):
    from cmlops.stats.independence import independence

    ref, cur = drift_frames
    train = ref.assign(sid=[f"{HOSTILE}-{i}" for i in range(len(ref))])
    test = cur.assign(sid=[f"{HOSTILE}-{i + 390}" for i in range(len(cur))])
    return independence(train, test, id="sid", keys=["age"], tolerance={"age": 0.5})


@pytest.fixture(params=RESULTS)
def result(request):
    return request.getfixturevalue(request.param)


def _no_markup_injected(soup: BeautifulSoup) -> None:
    assert soup.find("img") is None
    for tag in soup.find_all(True):
        assert not [a for a in tag.attrs if a.lower().startswith("on")]


def test_repr_html_is_the_static_block_with_figures(result):
    text = result._repr_html_()
    soup = BeautifulSoup(text, "html.parser")
    assert soup.select_one("div.cmlops-result .cm-header") is not None
    _no_markup_injected(soup)
    if result._cmlops_result_kind != "validation" or result.verdict != "pass":
        assert soup.select("div.cm-plot"), "static HTML carries its figures"


def test_mimebundle_outside_a_kernel_is_static_and_honours_include_exclude(result):
    bundle = result._repr_mimebundle_()
    assert set(bundle) == {"text/html", "text/plain"}  # no widget without a kernel
    assert bundle["text/plain"] == repr(result) and len(bundle["text/plain"]) <= MAX_REPR
    assert BeautifulSoup(bundle["text/html"], "html.parser").select_one(".cm-header")
    assert set(result._repr_mimebundle_(include={"text/plain"})) == {"text/plain"}
    assert set(result._repr_mimebundle_(exclude={"text/html"})) == {"text/plain"}


def test_plain_ipython_formats_results_without_any_registration(result):
    from IPython.core.formatters import DisplayFormatter

    data, _ = DisplayFormatter().format(result)  # what a terminal IPython / Quarto asks
    assert data["text/plain"] == repr(result)
    assert BeautifulSoup(data["text/html"], "html.parser").select_one(".cm-header")


def test_plot_returns_the_views_figure_and_names_the_choices(drift_result, evaluation_result):
    fig = drift_result.plot()
    assert isinstance(fig, go.Figure)
    drifted = drift_result.drifted_columns[0]
    assert drift_result.plot(drifted).layout.title.text  # a column by name
    roc = evaluation_result.plot("ROC curve")
    assert any("AUROC" in (t.name or "") for t in roc.data)
    with pytest.raises(InvalidInputError) as exc:
        evaluation_result.plot("nope</script>")
    text = str(exc.value)
    assert "\n" not in text and "'ROC curve'" in text and "choose one of" in text


def test_comparison_view_header_tables_figures_and_escaped_names(comparison_result):
    from cmlops.widgets.interactive import build_view

    soup = BeautifulSoup(comparison_result._repr_html_(), "html.parser")
    _no_markup_injected(soup)
    header = soup.select_one(".cm-header").get_text(" ")
    assert "1 of 1 criteria failed" in header and "AUROC" in header
    facts = soup.select_one(".cm-facts").get_text(" ")
    assert HOSTILE in facts and SCRIPT_BREAK in facts  # the model names, as text
    assert soup.find("h4").get_text() == "Failed acceptance criteria"
    assert len(soup.select("div.cm-plot")) == len(COMPARISON_FIGURES)
    view = build_view(comparison_result)
    assert list(view.dropdown.options) == COMPARISON_FIGURES
    for item in COMPARISON_FIGURES:
        view.select(item)
        assert view.figure is not None and len(view.figure.data) >= 2, item
    roc = comparison_result.plot("ROC curves")
    names = [t.name for t in roc.data]
    assert any(n.startswith("&lt;img") for n in names)  # plotly text is entity-escaped
    forest = comparison_result.plot("Differences by subgroup")
    assert len(forest.data) == 5  # AUROC, Brier, intercept, slope, net benefit


@pytest.mark.browser
def test_comparison_page_draws_offline_in_chromium(tmp_path, comparison_result):
    target = comparison_result.save_html(tmp_path / "comparison.html")
    network, errors, dialogs = [], [], []
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1200, "height": 900})

        def route(r):
            if r.request.url.startswith("file:"):
                r.continue_()
            else:
                network.append(r.request.url)
                r.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.goto(target.as_uri())
        page.wait_for_function(
            "n => document.querySelectorAll('.cm-plot[data-drawn]').length === n",
            arg=len(COMPARISON_FIGURES),
            timeout=30_000,
        )
        svgs = page.locator(".cm-plot svg.main-svg").count()
        imgs = page.locator("img").count()
    assert svgs >= len(COMPARISON_FIGURES)
    assert (imgs, network, errors, dialogs) == (0, [], [], [])


def test_save_html_writes_a_complete_offline_page_atomically(tmp_path, drift_result):
    target = drift_result.save_html(tmp_path / "drift.html", title="Drift <b>report</b>")
    assert target == tmp_path / "drift.html"
    page = target.read_text(encoding="utf-8")
    soup = BeautifulSoup(page, "html.parser")
    assert soup.title.get_text() == "Drift <b>report</b>"  # escaped, shown as text
    assert len(soup.find_all("script", attrs={BUNDLE_MARKER: True})) == 1
    assert soup.select("div.cmlops-result div.cm-plot")
    assert [p.name for p in tmp_path.iterdir()] == ["drift.html"]  # no temporary left
    drift_result.save_html(str(target))  # replaces by default
    with pytest.raises(OutputFileError, match="exists: pass overwrite=True"):
        drift_result.save_html(target, overwrite=False)
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")


def test_save_html_to_an_unwritable_path_is_a_one_line_error(tmp_path, drift_result):
    a_file = tmp_path / "plain.txt"
    a_file.write_text("x")
    targets = [
        tmp_path / "no" / "such" / "folder" / "r.html",  # folder missing
        a_file / "r.html",  # parent is a file
        tmp_path,  # the name is a folder
        Path("/proc/cmlops-result.html"),  # a file system that refuses new files, even to root
    ]
    if os.geteuid() != 0:  # root ignores permission bits
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        targets.append(locked / "r.html")
    for target in targets:
        with pytest.raises(OutputFileError) as exc:
            drift_result.save_html(target)
        text = str(exc.value)
        assert "\n" not in text and "cannot write" in text, text
        assert isinstance(exc.value, OSError) and isinstance(exc.value, CmlopsError)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain.txt"]


def test_without_a_renderer_display_falls_back_to_text_and_plot_says_why(drift_result):
    class Exploding:
        def __getattr__(self, name):
            raise RuntimeError("renderer broke")

    try:
        rendering.set_renderer(None)
        assert drift_result._repr_mimebundle_() == {"text/plain": repr(drift_result)}
        with pytest.raises(CmlopsError, match="no result renderer is installed"):
            drift_result.plot()
        rendering.set_renderer(Exploding)
        assert drift_result._repr_mimebundle_() == {"text/plain": repr(drift_result)}
        html_text = drift_result._repr_html_()
        assert html_text.startswith("<pre>&lt;DriftResult ")
    finally:
        import cmlops

        cmlops._install_renderer()
    assert "text/html" in drift_result._repr_mimebundle_()


def test_a_result_read_back_from_its_dict_renders_the_same_view(evaluation_result):
    from cmlops.widgets.model import build_model

    back = type(evaluation_result).from_dict(json.loads(json.dumps(evaluation_result.to_dict())))
    a, b = build_model(evaluation_result), build_model(back)
    shown = (a.verdict, a.facts, a.table.rows, a.items)
    assert shown == (b.verdict, b.facts, b.table.rows, b.items)
    assert a.figure("ROC curve").to_plotly_json() == b.figure("ROC curve").to_plotly_json()


SETUP = """
import numpy as np, pandas as pd
from cmlops.stats.drift import drift
rng = np.random.default_rng(0)
hostile = "</script><img src=x onerror=alert(1)>"
ref = pd.DataFrame({"age": rng.normal(50, 10, 300), hostile: rng.choice(["a", hostile], 300)})
result = drift(ref, ref.assign(age=ref["age"] + 6))
from cmlops.stats.comparison import compare
y = rng.integers(0, 2, 300)
comparison = compare(y, rng.uniform(0, 1, 300), np.clip(0.3 * y + rng.uniform(0, 0.7, 300), 0, 1),
                     thresholds=[0.2], names=("old", hostile))
"""


def _execute(nb, tmp_path: Path, **env_extra: str) -> None:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("CMLOPS_DISPLAY", None)
    env.update(env_extra)
    spec_dir = tmp_path / "kernels" / "cmlops-test"
    spec_dir.mkdir(parents=True, exist_ok=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec_dir / "kernel.json").write_text(
        json.dumps({"argv": argv, "display_name": "cmlops test", "language": "python"})
    )
    ksm = KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")])
    km = KernelManager(kernel_name="cmlops-test", kernel_spec_manager=ksm)
    NotebookClient(nb, km=km, timeout=180, kernel_name="cmlops-test").execute(env=env)


EVERY_KIND = """
from cmlops.stats.evaluation import evaluate
from cmlops.stats.validation import infer_schema, validate
from cmlops.stats.monitoring import monitor
from cmlops.stats.independence import independence
p = np.clip(0.3 * y + rng.uniform(0, 0.7, 300), 0, 1)
kinds = {
    "EvaluationResult": evaluate(y, p, thresholds=[0.2]),
    "ValidationResult": validate(ref.assign(age=ref["age"] * 3), infer_schema(ref)),
    "MonitorResult": monitor(
        ref.assign(t=pd.date_range("2024-01-01", periods=300, freq="D"), y=y, p=p),
        time="t", window="60D", target="y", prediction="p",
    ),
    "IndependenceResult": independence(ref.assign(sid=range(300)), ref.assign(sid=range(250, 550)),
                                       id="sid"),
}
"""


@pytest.mark.kernel
def test_every_result_kind_shows_its_widget_in_a_real_kernel(tmp_path):
    """One kernel, one cell per kind: each output is a live view whose models reached the
    client, with its static fallback and its one-line text."""
    nb = nbformat.v4.new_notebook()
    names = ["EvaluationResult", "ValidationResult", "MonitorResult", "IndependenceResult"]
    nb.cells = [nbformat.v4.new_code_cell(SETUP + EVERY_KIND)]
    nb.cells += [nbformat.v4.new_code_cell(f"kinds[{name!r}]") for name in names]
    _execute(nb, tmp_path)
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    for name, cell in zip(names, nb.cells[1:], strict=True):
        views = [o for o in cell.outputs if WIDGET_MIMETYPE in o.get("data", {})]
        assert len(views) == 1, name
        data = views[0]["data"]
        assert data[WIDGET_MIMETYPE]["model_id"] in state, name
        assert data["text/plain"].startswith(f"<{name} ") and len(data["text/plain"]) <= MAX_REPR
        fallback = BeautifulSoup(data["text/html"], "html.parser")
        assert fallback.select_one(".cm-header") is not None, name
        _no_markup_injected(fallback)


@pytest.mark.kernel
def test_real_kernel_shows_the_widget_with_no_registration(tmp_path):
    """Nothing but the result's own _repr_mimebundle_: no %load_ext, no formatter set-up."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(SETUP),
        nbformat.v4.new_code_cell("result"),
        nbformat.v4.new_code_cell("comparison"),
        nbformat.v4.new_code_cell(
            "ip = get_ipython()\n"
            "print(sorted(ip.display_formatter.ipython_display_formatter.deferred_printers))"
        ),
    ]
    _execute(nb, tmp_path)
    outputs = [o for o in nb.cells[1].outputs if WIDGET_MIMETYPE in o.get("data", {})]
    assert len(outputs) == 1
    data = outputs[0]["data"]
    assert data["text/plain"].startswith("<DriftResult ") and len(data["text/plain"]) <= MAX_REPR
    fallback = BeautifulSoup(data["text/html"], "html.parser")
    assert fallback.select_one(".cm-header") and not fallback.select("div.cm-plot")
    _no_markup_injected(fallback)
    state = nb.metadata["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    assert data[WIDGET_MIMETYPE]["model_id"] in state
    compared = [o for o in nb.cells[2].outputs if WIDGET_MIMETYPE in o.get("data", {})]
    assert len(compared) == 1 and compared[0]["data"][WIDGET_MIMETYPE]["model_id"] in state
    assert compared[0]["data"]["text/plain"].startswith("<ComparisonResult not evaluable: ")
    options = [m["state"].get("_options_labels") for m in state.values()]
    assert COMPARISON_FIGURES in options
    assert nb.cells[3].outputs[0]["text"].strip() == "[]"  # really nothing was registered


@pytest.mark.kernel
def test_nbconvert_of_an_executed_static_notebook_shows_the_result_html(tmp_path):
    from nbconvert import HTMLExporter

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(SETUP), nbformat.v4.new_code_cell("result")]
    _execute(nb, tmp_path, CMLOPS_DISPLAY="static")
    output = nb.cells[1].outputs[0]
    assert WIDGET_MIMETYPE not in output["data"]
    body, _ = HTMLExporter().from_notebook_node(nb)
    soup = BeautifulSoup(body, "html.parser")
    block = soup.select_one("div.cmlops-result")
    assert block is not None and block.select_one(".cm-header")
    assert block.select("div.cm-plot")  # the figures travel with the notebook
    assert len(soup.find_all("script", attrs={BUNDLE_MARKER: True})) == 1
    _no_markup_injected(block)
    assert "</script><img src=x onerror=alert(1)>" in block.get_text()  # shown as text
