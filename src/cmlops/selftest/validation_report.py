"""What the validation template shows and files: check tables, the matrix, per-requirement metrics.

The ``cmlops selftest`` validation package is an ordinary audit package of the
shipped template ``validation.ipynb``: its kernel reads the evidence the
selftest gathered (a JSON input, hashed in the manifest) and calls these
helpers, so the package's manifest, audit extract, verification and signatures
are those of every other report.
"""

from __future__ import annotations

import html
import json
import shutil
from pathlib import Path
from typing import Any

from cmlops.atomic_files import write_atomic
from cmlops.selftest.checks import Check
from cmlops.selftest.traceability import FAIL, NOT_RUN, PASS

EVIDENCE_SCHEMA = "cmlops.selftest-evidence/1"
FOLDER = "validation"
METRIC = "requirement"


def read_evidence(path: str | Path) -> dict[str, Any]:
    document = json.loads(Path(path).read_text("utf-8"))
    if document.get("schema") != EVIDENCE_SCHEMA:
        raise ValueError(f"{path} is not selftest evidence ({EVIDENCE_SCHEMA})")
    return document


def checks_table_html(checks: list[dict[str, Any]]) -> str:
    """The checks of one stage as an escaped table: id, what, expected, observed, outcome."""
    esc = html.escape
    rows = []
    for item in checks:
        check = Check.from_dict(item)
        outcome = "PASS" if check.passed else "FAIL"
        observed = esc(check.observed)
        if check.deviations:
            observed += "<ul>" + "".join(f"<li>{esc(d)}</li>" for d in check.deviations) + "</ul>"
        rows.append(
            f"<tr><td>{esc(check.id)}</td><td>{esc(check.title)}<br><small>"
            f"{esc(', '.join(check.requirements))}</small></td><td>{esc(check.expected)}</td>"
            f"<td>{observed}</td><td class='cmlops-outcome cmlops-{outcome.lower()}'>"
            f"{outcome}</td></tr>"
        )
    return (
        "<table class='cmlops-criteria'><thead><tr><th>check</th><th>what (requirements)</th>"
        "<th>expected</th><th>observed</th><th>outcome</th></tr></thead>"
        f"<tbody>{''.join(rows) or '<tr><td colspan=5>not run</td></tr>'}</tbody></table>"
    )


def _why_not_run(row: dict[str, Any]) -> str:
    if not row["tests"] and not row["checks"]:
        return "its stage was not run in this selftest"
    missing = [t["test"] for t in row["tests"] if t["outcome"] != "passed"]
    return f"{len(missing)} of {len(row['tests'])} tests without a result in the shipped test run"


def requirement_metrics(matrix: list[dict[str, Any]]) -> tuple[dict[str, int], dict[str, str]]:
    """``requirement[REQ-…]`` = 1 (PASS) or 0 (FAIL); NOT RUN rows are not evaluable."""
    metrics: dict[str, int] = {}
    not_evaluable: dict[str, str] = {}
    for row in matrix:
        key = f"{METRIC}[{row['id']}]"
        if row["status"] == NOT_RUN:
            not_evaluable[key] = _why_not_run(row)
            metrics[key] = 0
        else:
            metrics[key] = 1 if row["status"] == PASS else 0
    return metrics, not_evaluable


def selftest_plan(requirements: list[Any], plan_id: str) -> dict[str, Any]:
    """The acceptance plan of a selftest: every requirement PASS."""
    return {
        "plan_id": plan_id,
        "title": "cmlops selftest: every requirement passes",
        "criteria": [
            {
                "id": req.id,
                "metric": METRIC,
                "subgroup": req.id,
                "op": "==",
                "threshold": 1,
                "description": req.title,
            }
            for req in requirements
        ],
    }


def file_evidence(evidence_path: str | Path, output_dir: str | Path, pq_zip: str | None) -> Path:
    """Put the evidence, matrix, catalogue, tested set and PQ zip into the package folder."""
    from cmlops.selftest.requirements import catalogue_path, load_requirements
    from cmlops.selftest.traceability import Row, to_html, to_markdown

    folder = Path(output_dir) / FOLDER
    folder.mkdir(exist_ok=True)
    evidence = read_evidence(evidence_path)
    shutil.copyfile(evidence_path, folder / "evidence.json")
    shutil.copyfile(catalogue_path(), folder / "requirements.yaml")
    write_atomic(folder / "tested_set.json", json.dumps(evidence["tested_set"], indent=1))
    requirements = {r.id: r for r in load_requirements(catalogue_path())}
    rows = [
        Row(
            requirement=requirements[row["id"]],
            tests=tuple((t["test"], t["outcome"]) for t in row["tests"]),
            checks=tuple((c["check"], c["passed"]) for c in row["checks"]),
        )
        for row in evidence["matrix"]
    ]
    facts = [tuple(f) for f in evidence["facts"]]
    write_atomic(folder / "traceability.md", to_markdown(rows, facts))
    write_atomic(folder / "traceability.html", to_html(rows, facts))
    if pq_zip:
        shutil.copyfile(pq_zip, folder / "pq-package.zip")
    return folder


def matrix_html(matrix: list[dict[str, Any]]) -> str:
    """The matrix summary for the notebook: requirement, clauses, evidence, status."""
    esc = html.escape
    rows = []
    for row in matrix:
        status = row["status"]
        cls = {PASS: "pass", FAIL: "fail"}.get(status, "not-evaluated")
        tests = sum(1 for t in row["tests"] if t["outcome"] == "passed")
        checks = ", ".join(f"{c['check']} {'✓' if c['passed'] else '✗'}" for c in row["checks"])
        rows.append(
            f"<tr><td>{esc(row['id'])}</td><td>{esc(row['title'])}</td>"
            f"<td>{esc('; '.join(row['clauses']))}</td>"
            f"<td>{tests}/{len(row['tests'])} tests passed"
            f"{'; ' + esc(checks) if checks else ''}</td>"
            f"<td class='cmlops-outcome cmlops-{cls}'>{esc(status)}</td></tr>"
        )
    return (
        "<table class='cmlops-criteria'><thead><tr><th>requirement</th><th>title</th>"
        "<th>clauses</th><th>evidence</th><th>status</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>"
    )


def facts_html(facts: dict[str, Any]) -> str:
    """A small escaped two-column table of facts (the PQ package's identity)."""
    esc = html.escape
    rows = "".join(
        f"<tr><th style='text-align:left'>{esc(str(k))}</th><td>{esc(str(v))}</td></tr>"
        for k, v in facts.items()
    )
    return f"<table class='cmlops-context'>{rows}</table>"
