"""Acceptance plans: hostile files are one-line errors; not-evaluable criteria never pass."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

from cmlops.reports.errors import PlanError
from cmlops.reports.plan import judge, load_plan, plan_verdict

GOOD = "plan_id: p\ncriteria:\n  - {id: a, metric: auroc, op: '>=', threshold: 0.7}\n"


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        ("nan.yaml", GOOD.replace("0.7", ".nan"), "finite number"),
        (
            "inf.json",
            '{"criteria":[{"id":"a","metric":"m","op":">=","threshold":1e400}]}',
            "finite number",
        ),
        (
            "nan.json",
            '{"criteria":[{"id":"a","metric":"m","op":">=","threshold":NaN}]}',
            "not a number a plan may use",
        ),
        (
            "big.json",
            '{"criteria":[{"id":"a","metric":"m","op":">=","threshold":' + "9" * 30 + "}]}",
            "2**53",
        ),
        (
            "huge.json",
            '{"criteria":[{"id":"a","metric":"m","op":">=","threshold":' + "9" * 5000 + "}]}",
            "not valid YAML/JSON",
        ),
        ("str.yaml", GOOD.replace("0.7", "'0.7'"), "numeric threshold"),
        ("bool.yaml", GOOD.replace("0.7", "true"), "numeric threshold"),
        ("op.yaml", GOOD.replace("'>='", "[1]"), "unknown op"),
        ("id.yaml", GOOD.replace("id: a", "id: [1, 2]"), "criterion id must be"),
        ("metric.yaml", GOOD.replace("metric: auroc", "metric: 3"), "metric must be"),
        (
            "tag.yaml",
            GOOD + "title: !!python/object/apply:os.system ['touch pwned']\n",
            "not valid YAML",
        ),
        ("binary.yaml", "plan_id: !!binary aGVsbG8=\n" + GOOD.split("\n", 1)[1], "plan_id"),
        ("date.yaml", "plan_id: 2024-01-01\n" + GOOD.split("\n", 1)[1], "plan_id"),
        (
            "cr.json",
            '{"plan_id":"a\\rb","criteria":[{"id":"a","metric":"m","op":">=","threshold":1}]}',
            "line break",
        ),
        ("typo.yaml", GOOD.replace("threshold", "treshold"), "lacks 'threshold'"),
        ("extra.yaml", GOOD + "critera: []\n", "unknown key 'critera'"),
        ("list.yaml", "- 1\n- 2\n", "a plan is a mapping"),
        ("deep.json", "[" * 100_000 + "]" * 100_000, "not valid YAML/JSON"),
        ("policy.yaml", GOOD + "if_not_evaluable: pass\n", "if_not_evaluable"),
        ("utf.yaml", b"plan_id: \xff\xfe\n", "not valid YAML/JSON"),
    ],
)
@pytest.mark.req("REQ-PLN-003")
def test_hostile_plans_are_one_line_errors(tmp_path: Path, name, text, message) -> None:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text)
    with pytest.raises(PlanError) as caught:
        load_plan(path)
    assert message in str(caught.value)
    assert "\n" not in str(caught.value)
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()


@pytest.mark.req("REQ-PLN-003")
def test_plan_naming_a_fifo_is_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.yaml"
    os.mkfifo(fifo)
    box: dict[str, BaseException] = {}
    worker = threading.Thread(target=lambda: _catch(box, fifo), daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # unblock the reader so the test process can exit
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        pytest.fail("reading a FIFO plan blocked")
    assert isinstance(box["error"], PlanError) and "not a regular file" in str(box["error"])


def _catch(box: dict, path: Path) -> None:
    try:
        load_plan(path)
    except BaseException as exc:
        box["error"] = exc


@pytest.mark.req("REQ-PLN-003")
def test_plan_naming_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlanError, match="is a folder"):
        load_plan(tmp_path)


@pytest.mark.req("REQ-PLN-003")
def test_cli_plan_fifo_and_nan_exit_2_without_traceback(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    nan = tmp_path / "nan.json"
    nan.write_text('{"criteria":[{"id":"a","metric":"m","op":">=","threshold":NaN}]}')
    data = tmp_path / "d.csv"
    data.write_text("outcome,score\n1,0.5\n")
    for plan in (fifo, nan):
        proc = subprocess.run(
            [sys.executable, "-c", "from cmlops.cli import main; main()", "report", "run",
             "model_validation",
             "-p", f"data={data}", "--plan", str(plan), "--out", str(tmp_path / "pkg")],
            capture_output=True, text=True, timeout=60, cwd=tmp_path,
        )  # fmt: skip
        assert proc.returncode == 2, proc.stderr
        assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


@pytest.mark.req("REQ-PLN-002")
def test_not_evaluable_value_is_not_evaluated_with_its_reason() -> None:
    plan = {"criteria": [{"id": "a", "metric": "auroc", "op": ">=", "threshold": 0.9}]}
    rows = judge({"auroc": 1.0}, plan, {"auroc": "degenerate confidence interval"})
    assert rows[0]["outcome"] == "NOT EVALUATED" and rows[0]["passed"] is None
    assert rows[0]["value"] == 1.0 and rows[0]["reason"] == "degenerate confidence interval"
    assert plan_verdict(rows, plan) == "NOT EVALUATED"
    assert plan_verdict(rows, {**plan, "if_not_evaluable": "fail"}) == "FAIL"
    missing = judge({}, plan)
    assert missing[0]["outcome"] == "NOT EVALUATED" and missing[0]["reason"] == "not computed"


@pytest.mark.req("REQ-PLN-002")
def test_fail_wins_over_not_evaluated() -> None:
    plan = {
        "criteria": [
            {"id": "a", "metric": "x", "op": ">=", "threshold": 1},
            {"id": "b", "metric": "y", "op": ">=", "threshold": 1},
        ]
    }
    rows = judge({"x": 0, "y": 5}, plan, {"y": "too few events"})
    assert [r["outcome"] for r in rows] == ["FAIL", "NOT EVALUATED"]
    assert plan_verdict(rows, plan) == "FAIL"
    assert plan_verdict(judge({"x": 2, "y": 2}, plan), plan) == "PASS"


@pytest.mark.req("REQ-PLN-002")
def test_perfect_auroc_on_twenty_subjects_is_not_evaluable() -> None:
    """AUROC = 1 has DeLong se = 0: a zero-width interval cannot pass auroc_ci_low >= 0.95."""
    import cmlops
    from cmlops.reports.notebook import ReportContext

    y = np.array([0] * 10 + [1] * 10)
    p = np.r_[np.linspace(0.05, 0.4, 10), np.linspace(0.6, 0.95, 10)]
    result = cmlops.evaluate(y, p, criteria={"auroc_ci_low": (">=", 0.95)})
    assert result.metric("auroc").ci_low == pytest.approx(1.0)
    assert result.passed is None
    assert "zero width" in result.metric("auroc").not_evaluable
    report = ReportContext(
        output_dir=Path("."),
        plan={"criteria": [{"id": "lb", "metric": "auroc_ci_low", "op": ">=", "threshold": 0.95}]},
    )
    report.add_evaluation(result)
    assert report.criteria()[0]["outcome"] == "NOT EVALUATED"
    assert report.verdict() == "NOT EVALUATED"


@pytest.mark.req("REQ-PLN-002")
def test_one_positive_case_is_not_evaluable() -> None:
    import cmlops

    y = np.array([0] * 40 + [1])
    p = np.r_[np.linspace(0.05, 0.6, 40), [0.5]]
    auroc = cmlops.evaluate(y, p).metric("auroc")
    assert auroc.ci_low is not None  # DeLong gives a finite interval ...
    assert "fewer than 10 events" in auroc.not_evaluable  # ... that supports nothing


def test_subgroup_interval_keys_match_plan_lookup() -> None:
    import cmlops
    from cmlops.reports.notebook import ReportContext

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    p = np.clip(0.3 * y + rng.random(400) * 0.7, 0, 1)
    sex = np.where(rng.random(400) < 0.5, "F", "M")
    report = ReportContext(
        output_dir=Path("."),
        plan={
            "criteria": [
                {
                    "id": "lb",
                    "metric": "auroc_ci_low",
                    "subgroup": "sex=F",
                    "op": ">=",
                    "threshold": 0.1,
                }
            ]
        },
    )
    report.add_evaluation(cmlops.evaluate(y, p, groups={"sex": sex}))
    row = report.criteria()[0]
    assert row["outcome"] == "PASS" and row["value"] == report.metrics["auroc_ci_low[sex=F]"]


def test_scores_of_exactly_zero_or_one_are_reported_not_clipped_silently() -> None:
    import cmlops

    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    p = rng.random(300)
    p[:15] = 0.0
    p[15:30] = 1.0
    result = cmlops.evaluate(y, p)
    assert any("30 of 300 probabilities are exactly 0 or 1" in w for w in result.warnings)
    assert "exactly 0 or 1" in result.metric("calibration_slope").not_evaluable
    assert not result.metric("auroc").not_evaluable  # ranking metrics are unaffected


@pytest.mark.req("REQ-PLN-002")
def test_drift_with_no_column_tested_is_not_evaluated() -> None:
    import pandas as pd

    import cmlops
    from cmlops.reports.notebook import ReportContext

    ref = pd.DataFrame({"a": np.arange(50.0)})
    cur = pd.DataFrame({"a": [np.nan] * 50})
    shift = cmlops.drift(ref, cur)
    assert shift.n_tested == 0
    report = ReportContext(
        output_dir=Path("."),
        plan={
            "criteria": [{"id": "d", "metric": "drift_share_drifted", "op": "<", "threshold": 0.5}]
        },
    )
    report.add_drift(shift)
    assert report.criteria()[0]["reason"] == "no columns tested"
    assert report.verdict() == "NOT EVALUATED"
