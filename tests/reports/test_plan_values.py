"""Numbers outside I-JSON in a report: the run keeps its package, and all of it re-verifies.

Plans are read strictly (reports/plan.py): a threshold above 2**53 is refused in one
line before anything runs. 2**53 itself is allowed, and is already beyond I-JSON's
exact range (its ECMAScript form reads back as an integer RFC 8785 refuses).
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from cmlops.reports.errors import PlanError
from cmlops.reports.runner import run_report
from cmlops.reports.verify import verify_package
from tests.reports.conftest import ECHO_BODY, make_template
from tests.store.independent import verify_export, verify_extract


def test_a_plan_threshold_of_2_53_is_judged_packaged_and_reverified(tmp_path: Path, store) -> None:
    template = make_template(tmp_path / "echo.ipynb", ECHO_BODY)
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "plan_id: big-numbers\ncriteria:\n"
        "  - {id: below-1e16, metric: n, op: '<=', threshold: 1.0e+16}\n"
    )
    head = store.head()
    with pytest.raises(PlanError, match="threshold 1e"):
        run_report(str(template), {"n": 3}, plan=str(plan), out=tmp_path / "x", store=store)
    assert store.head() == head and not (tmp_path / "x").exists()  # refused, nothing ran
    plan.write_text(
        "plan_id: big-numbers\ncriteria:\n"
        "  - {id: below-2-53, metric: n, op: '<=', threshold: 9.007199254740992e+15}\n"
    )
    run = run_report(
        str(template), {"n": 3}, plan=str(plan), out=tmp_path / "pkg", store=store, progress=False
    )
    assert run.status == "EXECUTED", run.error
    package = Path(run.package)
    (criterion,) = json.loads((package / "results.json").read_text())["criteria"]
    assert criterion["outcome"] == "PASS" and criterion["threshold"] == 2.0**53
    assert json.loads((package / "plan.json").read_text())["criteria"][0]["threshold"] == (
        "cmlops:num:9007199254740992.0"  # plan.json is canonical JSON: the tagged form
    )
    verified = verify_package(package)
    assert verified.ok, verified.problems
    (recorded,) = store.records(action="plan.recorded")
    assert recorded.payload_values()["plan"]["criteria"][0]["threshold"] == 2.0**53
    buffer = io.StringIO()
    count = store.export_jsonl(buffer)
    assert verify_export(buffer.getvalue()) == count


BIG_NUMBERS_BODY = [
    "from cmlops.reports.notebook import ReportContext\n"
    "report = ReportContext.start(cmlops_output_dir)\n"
    "report.metrics['n'] = n\n"
    "report.metrics['events'] = 2**60\n"
    "report.metrics['C'] = 1e16\n"
    "report.metrics['auc'] = float('nan')\n"
    "report.metrics['shift'] = -0.0\n"
    "report.criteria_table()\n"
    "report.finish()"
]


def test_parameters_and_metrics_beyond_i_json_keep_their_package_which_reverifies(
    tmp_path: Path, store
) -> None:
    """An int parameter of 2**60 and metrics 2**60, 1e16, NaN, -0.0 under a plan.

    Before, the chain recorded the parameter tagged and the manifest plain, and
    package verify called the package edited: the run's package was lost.
    """
    template = make_template(tmp_path / "big.ipynb", BIG_NUMBERS_BODY)
    plan = tmp_path / "plan.yaml"
    plan.write_text(
        "plan_id: beyond-i-json\ncriteria:\n"
        "  - {id: many-events, metric: events, op: '>=', threshold: 9.007199254740992e+15}\n"
        "  - {id: large-C, metric: C, op: '>', threshold: 9.0e+15}\n"
    )
    run = run_report(
        str(template),
        {"n": 2**60},
        plan=str(plan),
        out=tmp_path / "pkg",
        store=store,
        progress=False,
    )
    assert run.status == "EXECUTED", run.error
    package = Path(run.package)
    results = json.loads((package / "results.json").read_text())
    assert results["verdict"] == "PASS" and results["metrics"]["n"] == 2**60
    assert [c["outcome"] for c in results["criteria"]] == ["PASS", "PASS"]
    assert json.loads((package / "manifest.json").read_text())["parameters"]["n"] == 2**60
    verified = verify_package(package)
    assert verified.ok, verified.problems
    (started,) = store.records(action="report.started")
    assert started.payload_dict()["parameters"]["n"] == "cmlops:num:1152921504606846976"
    extract = (package / "audit" / "trail.jsonl").read_text("utf-8")
    assert "cmlops:num:1152921504606846976" in extract
    assert verify_extract(extract) >= 3  # each record re-hashes with rfc8785 alone
    buffer = io.StringIO()
    count = store.export_jsonl(buffer)
    assert verify_export(buffer.getvalue()) == count
