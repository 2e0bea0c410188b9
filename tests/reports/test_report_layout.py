"""The report a reviewer reads: top-down cover, hidden code, whole tables, plot text apart.

One model_validation run (shared by the module: a kernel run is the expensive
part) on synthetic data built to stress the layout: integer ages, many subgroups
with long labels, a drift check, and a plan with a criterion on a subgroup too
small to evaluate. The page is then opened in real Chromium, on screen and in
print media at A4 width: no two plot texts may overlap, no table may be cut by
a scroll box or run off the page. A screenshot is kept in ``test-artifacts/``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from bs4 import BeautifulSoup

from tests.layout_checks import clipped_tables, overlapping_text, wait_for_figures

SRC = Path(__file__).resolve().parents[2] / "src"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
#: about the printable width of A4 at 96 dpi with 12 mm margins
A4_WIDTH = 720

PLAN = {
    "plan_id": "layout-plan",
    "criteria": [
        {"id": "discrimination", "metric": "auroc", "op": ">=", "threshold": 0.6},
        {"id": "auroc-lower-bound", "metric": "auroc_ci_low", "op": ">=", "threshold": 0.55},
        {
            "id": "small-site",
            "metric": "auroc",
            "subgroup": "site=tiny",
            "op": ">=",
            "threshold": 0.6,
        },
    ],
}


def _data(seed: int = 3) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 900
    age = rng.integers(40, 90, n)
    sex = rng.choice(["F", "M"], n)
    site = rng.choice(
        ["north-east regional hospital", "south clinic", "tiny"], n, p=[0.55, 0.43, 0.02]
    )
    logit = -2.2 + 0.04 * (age - 60) + 0.3 * (sex == "M")
    p = 1 / (1 + np.exp(-logit))
    y = rng.binomial(1, p)
    score = np.clip(p + rng.normal(0, 0.05, n), 0.001, 0.999)
    band = pd.cut(age, [0, 60, 70, 80, 120], labels=["<60", "60-69", "70-79", "80+"])
    cur = pd.DataFrame(
        {
            "age": age,
            "sex": sex,
            "site": site,
            "age_band": band.astype(str),
            "outcome": y,
            "score": score,
        }
    )
    ref = cur.sample(frac=1.0, random_state=1).assign(age=lambda d: d["age"] - 3)
    return ref, cur


@pytest.fixture(scope="module")
def layout_run(tmp_path_factory: pytest.TempPathFactory):
    from cmlops.reports.runner import run_report
    from cmlops.store import open_store

    root = tmp_path_factory.mktemp("layout")
    ref, cur = _data()
    ref.to_csv(root / "development.csv", index=False)
    cur.to_csv(root / "validation.csv", index=False)
    (root / "plan.json").write_text(json.dumps(PLAN))
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "CMLOPS_DISPLAY")}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(SRC), saved["PYTHONPATH"]) if p)
    os.environ["CMLOPS_DISPLAY"] = "static"
    store = open_store(home=root / ".cmlops")
    try:
        run = run_report(
            "model_validation",
            {
                "data": str(root / "validation.csv"),
                "reference": str(root / "development.csv"),
                "features": "age,sex,site",
                "subgroups": "sex,age_band,site",
                "threshold": "0.2",
            },
            plan=root / "plan.json",
            out=root / "pkg",
            store=store,
            progress=False,
        )
    finally:
        store.close()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    assert run.status == "EXECUTED", run.error
    return run


pytestmark = pytest.mark.kernel


@pytest.mark.req("REQ-PKG-007")
def test_cover_reads_top_down(layout_run) -> None:
    page = (layout_run.package / "report.html").read_text("utf-8")
    soup = BeautifulSoup(page, "html.parser")
    text = " ".join(soup.get_text(" ").split())
    order = [
        "question Does the model discriminate",
        "context of use",
        "Verdict: NOT EVALUATED",
        "Acceptance criteria",
        "Data",
        "Parameters of this run",
        "Audit package",
        "Details",
        "Methods",
    ]
    positions = [text.find(word) for word in order]
    assert all(p >= 0 for p in positions), dict(zip(order, positions, strict=True))
    assert positions == sorted(positions), dict(zip(order, positions, strict=True))
    # the data identity on the first page: file name, SHA-256 and rows
    sha = layout_run.manifest["inputs"][0]["sha256"]
    assert sha in text and "validation.csv" in text and "900" in text
    # no code is shown: one parameters view, with the value the run used
    assert not soup.select(".jp-CodeCell .jp-InputArea, .jp-InputPrompt")
    assert "report = ReportContext.start" not in text and "cmlops_run_id" not in text
    params = soup.select("table.cmlops-keyvalue")[1].get_text(" ")
    assert "threshold 0.2" in " ".join(params.split()) and "0.5" not in params


@pytest.mark.req("REQ-PLN-002")
def test_not_evaluable_criterion_is_flagged_beside_its_value(layout_run) -> None:
    results = layout_run.manifest["results"]
    small = next(c for c in results["criteria"] if c["id"] == "small-site")
    assert small["outcome"] == "NOT EVALUATED" and small["passed"] is None
    assert "fewer than 10 events" in small["reason"] or "undefined" in small["reason"]
    assert results["verdict"] == "NOT EVALUATED"
    soup = BeautifulSoup((layout_run.package / "report.html").read_text("utf-8"), "html.parser")
    row = next(tr for tr in soup.select("table.cmlops-criteria tr") if "small-site" in tr.text)
    assert "NOT EVALUATED" in row.text and "⚠" in row.text and small["reason"] in row.text


def test_integer_ages_are_binned_on_integers(layout_run) -> None:
    from cmlops.stats._drift_numeric import shared_histogram

    hist = shared_histogram(np.arange(40.0, 90.0), np.arange(43.0, 93.0))
    edges = np.asarray(hist["edges"])
    assert hist["integers"] and np.allclose(edges % 1, 0.5)
    widths = np.diff(edges)
    assert np.allclose(widths, widths[0]) and widths[0] == round(widths[0])
    assert sum(hist["reference"]) == 50 and sum(hist["current"]) == 50


@pytest.mark.browser
@pytest.mark.req("REQ-PKG-007")
def test_report_layout_in_chromium(layout_run) -> None:
    from tests.chromium import chromium

    ARTIFACTS.mkdir(exist_ok=True)
    url = (layout_run.package / "report.html").as_uri()
    findings: list[str] = []
    with chromium() as browser:
        for media, width in (("screen", 1200), ("print", A4_WIDTH)):
            page = browser.new_page(viewport={"width": width, "height": 1000})
            page.emulate_media(media=media)
            page.goto(url)
            assert wait_for_figures(page) >= 5
            page.wait_for_timeout(300)  # responsive figures settle after the first draw
            findings += [f"{media}: {f}" for f in overlapping_text(page)]
            findings += [f"{media}: {f}" for f in clipped_tables(page)]
            rows = page.locator("table.cm-table").nth(0).locator("tbody tr").count()
            page.screenshot(path=str(ARTIFACTS / f"report-layout-{media}.png"), full_page=True)
            page.close()
    assert not findings, "\n".join(findings)
    import cmlops

    _ref, cur = _data()
    evaluation = cmlops.evaluate(
        cur["outcome"], cur["score"], threshold=0.2, groups=cur[["sex", "age_band", "site"]]
    )
    assert rows == len(evaluation.metrics)  # every row of the evaluation table is in the page


@pytest.mark.browser
def test_overlap_check_catches_a_legend_on_the_axis_title(tmp_path: Path) -> None:
    """The check itself can fail: the old layout (legend below the plot) is caught."""
    import plotly.graph_objects as go

    from cmlops.widgets.static import _DRAW, figure_block, plotlyjs_script
    from tests.chromium import chromium

    fig = go.Figure([go.Scatter(x=[0, 1], y=[0, 1], name=f"series {i}") for i in range(6)])
    fig.update_layout(
        height=320,
        xaxis={"title": {"text": "threshold probability"}},
        legend={"orientation": "h", "y": -0.12, "x": 0},
    )
    block, fid = figure_block(fig)
    page_file = tmp_path / "bad.html"
    page_file.write_text(
        f"<html><head>{plotlyjs_script()}</head><body><div style='width:600px'>{block}</div>"
        + _DRAW % json.dumps([fid])
        + "</body></html>"
    )
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 800, "height": 600})
        page.goto(page_file.as_uri())
        wait_for_figures(page)
        found = overlapping_text(page)
    assert any("threshold probability" in f for f in found), found
