"""The shipped templates run end to end; the main job (demo) and reproduction."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from cmlops.reports.errors import PlanError
from cmlops.reports.reproduce import reproduce_package
from cmlops.reports.runner import run_report
from cmlops.reports.verify import verify_package

pytestmark = pytest.mark.kernel
HOSTILE_COLUMN = "<img src=x onerror=alert(1)>"


def _frames(seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n = 400
    ref = pd.DataFrame(
        {
            "id": np.arange(n),
            "age": rng.normal(60, 10, n),
            "sex": rng.choice(["F", "M"], n),
            HOSTILE_COLUMN: rng.normal(0, 1, n),
        }
    )
    cur = ref.copy()
    cur["id"] = np.arange(n, 2 * n)
    cur["age"] = rng.normal(70, 10, n)  # drifted
    return ref, cur


@pytest.mark.req("REQ-PKG-001")
def test_drift_report(tmp_path: Path, store) -> None:
    ref, cur = _frames()
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    run = run_report(
        "drift_report",
        {
            "reference": str(tmp_path / "ref.csv"),
            "current": str(tmp_path / "cur.csv"),
            "columns": "age,sex," + HOSTILE_COLUMN,
        },
        out=tmp_path / "pkg",
        store=store,
        progress=False,
    )
    assert run.status == "EXECUTED", run.error
    metrics = run.manifest["results"]["metrics"]
    assert metrics["drift_drifted[age]"] == 1 and metrics["drift_drifted[sex]"] == 0
    assert run.manifest["results"]["verdict"] == "PASS"  # 1 of 3 columns < 0.5
    assert {f["name"] for f in run.manifest["frames"]} == {"reference", "current"}
    page = (run.package / "report.html").read_text()
    assert HOSTILE_COLUMN not in page
    assert "Question of interest" in page and "Model risk" in page and "Conclusion" in page
    assert verify_package(run.package).ok


@pytest.mark.req("REQ-PKG-001")
def test_data_validation_fails_on_bad_rows(tmp_path: Path, store) -> None:
    ref, cur = _frames()
    cur.loc[:4, "sex"] = "unknown"  # allowed values: a warn-severity check
    cur.loc[:2, "age"] = np.nan  # not null: a fail-severity check
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    run = run_report(
        "data_validation",
        {"data": str(tmp_path / "cur.csv"), "reference": str(tmp_path / "ref.csv")},
        out=tmp_path / "pkg",
        store=store,
        progress=False,
    )
    assert run.status == "EXECUTED", run.error
    results = run.manifest["results"]
    assert results["metrics"]["failed_checks"] >= 1
    assert results["metrics"]["warned_checks"] >= 1
    assert results["verdict"] == "FAIL"
    outcome = {c["id"]: c["outcome"] for c in results["criteria"]}
    assert outcome == {"no-failed-checks": "FAIL", "has-rows": "PASS"}


@pytest.mark.slow
@pytest.mark.req("REQ-PKG-008")
def test_main_job_demo_and_reproduce(tmp_path: Path, store) -> None:
    """The README's main job on real flchain data, then reproduction of its package."""
    from cmlops.reports.demo import run_demo

    result = run_demo(tmp_path / "demo", store=store, progress=False)
    assert result.status == "EXECUTED" and result.verified
    manifest = json.loads((result.package / "manifest.json").read_text())
    metrics = manifest["results"]["metrics"]
    assert 0.75 < metrics["auroc"] < 0.9
    assert "auroc[sex=F]" in metrics and "auroc[age_band=80+]" in metrics
    assert "drift_share_drifted" in metrics
    assert len(manifest["inputs"]) == 2 and manifest["plan"]["source"].endswith(".json")
    assert manifest["frames"][0]["schema"]
    assert manifest["environment"]["packages"]["scikit-learn"]
    html = (result.package / "report.html").read_text()
    assert "<script src=" not in html
    assert html.count("plotly.js v") == 1  # plotly embedded once, offline
    prov = json.loads((result.package / "lineage.prov.json").read_text())
    assert prov["activity"] and prov["used"]

    again = reproduce_package(result.package, out=tmp_path / "re", store=store)
    assert again.reproducible, again.differences
    assert again.compared > 50

    data = Path(manifest["inputs"][0]["path"])
    data.write_text(data.read_text() + "\n")
    changed = reproduce_package(result.package, store=store)
    assert not changed.reproducible
    assert "content changed" in changed.differences[0]


@pytest.mark.req("REQ-PLN-001")
def test_plan_change_is_a_recorded_deviation(tmp_path: Path, store) -> None:
    from tests.reports.conftest import ECHO_BODY, make_template

    template = make_template(tmp_path / "echo.ipynb", ECHO_BODY)
    plan = tmp_path / "plan.json"
    plan.write_text(
        json.dumps(
            {"plan_id": "p", "criteria": [{"id": "c", "metric": "n", "op": ">=", "threshold": 1}]}
        )
    )
    run_report(template, {}, plan=plan, out=tmp_path / "a", store=store, progress=False)
    plan.write_text(
        json.dumps(
            {"plan_id": "p", "criteria": [{"id": "c", "metric": "n", "op": ">=", "threshold": 0}]}
        )
    )
    head = store.head()
    with pytest.raises(PlanError, match="a deviation needs a reason") as refused:
        run_report(template, {}, plan=plan, out=tmp_path / "b", store=store, progress=False)
    assert "\n" not in str(refused.value)
    assert store.head() == head and not (tmp_path / "b").exists()  # refused before running
    second = run_report(
        template,
        {},
        plan=plan,
        out=tmp_path / "b",
        store=store,
        progress=False,
        deviation_reason="threshold lowered after review",
    )
    deviations = store.records(action="plan.deviation")
    assert len(deviations) == 1
    assert deviations[0].reason == "threshold lowered after review"
    assert second.manifest["plan"]["deviations"][0]["audit_seq"] == deviations[0].seq


@pytest.mark.browser
@pytest.mark.req("REQ-PKG-007")
def test_report_html_renders_offline_in_chromium(tmp_path: Path, store) -> None:
    """The package HTML draws its plotly figures with every network request refused."""
    from tests.chromium import chromium

    ref, cur = _frames()
    ref.to_csv(tmp_path / "ref.csv", index=False)
    cur.to_csv(tmp_path / "cur.csv", index=False)
    run = run_report(
        "drift_report",
        {
            "reference": str(tmp_path / "ref.csv"),
            "current": str(tmp_path / "cur.csv"),
            "columns": "age,sex",
        },
        out=tmp_path / "pkg",
        store=store,
        progress=False,
    )
    requested: list[str] = []
    errors: list[str] = []
    with chromium() as browser:
        page = browser.new_page()

        def route(request_route) -> None:
            url = request_route.request.url
            if url.startswith("file:"):
                request_route.continue_()
            else:
                requested.append(url)
                request_route.abort()

        page.route("**/*", route)
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto((run.package / "report.html").as_uri())
        page.wait_for_selector(".js-plotly-plot .main-svg", timeout=20_000)
        plots = page.locator(".js-plotly-plot").count()
        browser.close()
    assert requested == [] and errors == []
    assert plots >= 1


def test_main_job_can_run_again_on_the_same_data(store) -> None:
    """Training twice on identical data is two recorded events, not a clash of ids."""
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from cmlops.reports.demo import _record_training

    model = LogisticRegression().fit(np.arange(20.0).reshape(-1, 1), np.arange(20) % 2)
    _record_training(store, model, {})
    _record_training(store, model, {})
    trained = store.records(action="lineage.activity")
    assert len(trained) == 2 and trained[0].object_id != trained[1].object_id
    assert store.verify().ok
