"""Assembling a run's staged package: the offline report, the records, the manifest.

After the notebook ran, the staging folder gets the offline HTML report (a
first page from the run's own records, then the executed notebook), the run's
lineage and ``report.finished`` in the chain, the audit extract of the run's
records with their proofs, and last the manifest that lists every file. The
runner (:mod:`cmlops.reports.runner`) publishes the folder only after this.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any

from cmlops._version import __version__
from cmlops.reports.audit_extract import write_audit_extract
from cmlops.reports.execute import ExecutionOutcome
from cmlops.reports.manifest import SCHEMA, environment_lock, file_entries
from cmlops.reports.notebook import RESULTS_FILE
from cmlops.reports.offline_html import RemoteReference
from cmlops.reports.render import Cover, notebook_to_html
from cmlops.reports.run_inputs import spark_tables
from cmlops.reports.run_records import audit_head, record_run
from cmlops.reports.run_state import HTML, NOTEBOOK, TEMPLATE_COPY, RunEnd, RunStart


def read_results(tmp: Path, outcome: ExecutionOutcome) -> dict[str, Any]:
    """The results the notebook left (``results.json``), or empty ones saying why not."""
    path = tmp / RESULTS_FILE
    if path.is_file():
        try:
            return json.loads(path.read_text("utf-8"))
        except json.JSONDecodeError:
            pass
    return {
        "metrics": {},
        "criteria": [],
        "verdict": "NONE" if outcome.ok else "NOT EVALUATED",
        "frames": [],
    }


def assemble_package(store: Any, tmp: Path, run: RunStart, end: RunEnd) -> dict[str, Any]:
    """Render, record lineage and audit, and return the manifest of the staged package."""
    blocked = _render(tmp, run, end)
    env = environment_lock()
    record_run(store, tmp, run, end, env)
    audit = write_audit_extract(
        store,
        tmp,
        run.head_before,
        audit_head(store),
        run_id=run.run_id,
        notebook=str(run.target / NOTEBOOK),
    )
    manifest = _manifest(tmp, run, end, env, audit)
    if blocked:  # neutralised in report.html, flagged here and on its first page
        manifest["remote_resources"] = [ref.to_dict() for ref in blocked]
    return manifest


def _render(tmp: Path, run: RunStart, end: RunEnd) -> list[RemoteReference]:
    """The offline HTML report: a first page from the run's records, then the details.

    Returns the network references its outputs made, neutralised in the page."""
    recorded = run.plan
    facts = [
        ("package id", run.run_id),
        ("status", end.status + (f": {end.message}" if end.message else "")),
        ("template", f"{run.template.name} (SHA-256 {run.template.sha256})"),
        (
            "plan",
            f"{recorded.plan.get('plan_id', '')} (SHA-256 {recorded.sha256}, "
            f"recorded {recorded.recorded_at}, audit seq {recorded.audit_seq})",
        ),
        ("plan deviations", len(recorded.deviations)),
        ("run by", run.user),
        ("started (UTC)", run.started),
        ("ended (UTC)", end.ended),
        ("cmlops", __version__),
    ]
    results = end.results
    cover = Cover(
        title=run.template.title,
        verdict=str(results.get("verdict")),
        criteria=list(results.get("criteria") or []),
        metrics=results.get("metrics") or {},
        context=(results.get("details") or {}).get("context") or {},
        inputs=run.inputs,
        frames=results.get("frames") or [],
        parameters=run.values,
        facts=facts,
        status=end.status,
        error=end.message,
    )
    title = f"{run.template.title} — {run.run_id}"
    return notebook_to_html(tmp / NOTEBOOK, tmp / HTML, title=title, cover=cover)


def _spark_section(run: RunStart, results: dict[str, Any]) -> dict[str, Any]:
    """``{"spark": ...}`` when the run used Spark (see :class:`ReportContext`), else ``{}``.

    Spark tables are listed with the content fingerprint the kernel computed (the
    runner has no Spark to hash them before the run)."""
    spark = results.get("spark")
    tables = spark_tables(run.template, run.values, results)
    if not isinstance(spark, dict) and not tables:
        return {}
    section = dict(spark) if isinstance(spark, dict) else {}
    if tables:
        section["tables"] = tables
    return {"spark": section}


def _manifest(
    tmp: Path, run: RunStart, end: RunEnd, env: dict[str, Any], audit: dict[str, Any]
) -> dict[str, Any]:
    """The manifest of the staged package (written last, after every other file)."""
    tpl, results = run.template, end.results
    return {
        "schema": SCHEMA,
        "package_id": run.run_id,
        "status": end.status,
        "error": end.error,
        "template": {
            "name": tpl.name,
            "title": tpl.title,
            "sha256": tpl.sha256,
            "file": TEMPLATE_COPY,
        },
        "plan": run.plan.to_dict(),
        "parameters": run.values,
        "inputs": run.inputs,
        "frames": results.get("frames", []),
        "files": file_entries(tmp),
        "results": {k: results.get(k) for k in ("verdict", "criteria", "metrics")},
        **_spark_section(run, results),
        "environment": env,
        "kit_version": __version__,
        "user": run.user,
        "os_user": getpass.getuser(),
        "run": {
            "activity_id": run.activity_id,
            "started": run.started,
            "ended": end.ended,
            "duration_s": round(end.outcome.duration_s, 3),
            "kernel": (end.outcome.kernel or {}).get("name"),
            "kernel_spec": end.outcome.kernel,
        },
        "audit": audit,
    }
