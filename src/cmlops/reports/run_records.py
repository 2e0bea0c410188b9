"""What a finished run puts in the audit chain: its lineage and ``report.finished``.

``report.finished`` holds what ``package verify`` later holds the package to
(status, verdict, criteria, and the digests of the results, plan, template and
every output file), so a package edited after its run no longer matches its
own chain record. The lineage says what the run used and generated.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from cmlops._version import __version__
from cmlops.reports import lineage as run_lineage
from cmlops.reports.manifest import sha256_file
from cmlops.reports.notebook import PLAN_FILE, RESULTS_FILE
from cmlops.reports.run_inputs import spark_tables
from cmlops.reports.run_state import HTML, NOTEBOOK, RunEnd, RunStart
from cmlops.store.chain import canonical_json
from cmlops.store.model import Activity


def audit_head(store: Any) -> dict[str, Any] | None:
    """The chain's head as ``{"seq", "hash"}`` (None for an empty chain)."""
    head = store.head()
    return None if head is None else {"seq": head.seq, "hash": head.hash}


def run_outputs(tmp: Path) -> list[tuple[str, str]]:
    """The package files a run generates (name, lineage role), those that exist."""
    roles = ((NOTEBOOK, "executed-notebook"), (HTML, "html-report"), (RESULTS_FILE, "results"))
    return [(name, role) for name, role in roles if (tmp / name).is_file()]


def record_run(store: Any, tmp: Path, run: RunStart, end: RunEnd, env: dict[str, Any]) -> None:
    """Record the run's lineage, append ``report.finished`` and export the lineage files."""
    env_id = "env:" + hashlib.sha256(canonical_json(env)).hexdigest()
    activity = Activity(
        id=run.activity_id,
        kind="report",
        name=run.template.name,
        code_hash=f"sha256:{run.template.sha256}",
        notebook=str(run.target / NOTEBOOK),
        started=run.started,
        ended=end.ended,
        status={"EXECUTED": "ok", "ABORTED": "aborted"}.get(end.status, "error"),
        error=end.message,
        environment_id=env_id,
        attributes={"parameters": run.values, "plan_sha256": run.plan.sha256},
    )
    tables = spark_tables(run.template, run.values, end.results)
    store.record_lineage(
        run_lineage.run_batch(
            activity,
            user=run.user,
            kit_version=__version__,
            used=_used(tmp, run, tables),
            generated=[
                (
                    run_lineage.file_entity(
                        "report", name, sha256_file(tmp / name), str(run.target / name)
                    ),
                    role,
                )
                for name, role in run_outputs(tmp)
            ],
            environment_id=env_id,
            environment=env,
        )
    )
    store.append("report.finished", "report", run.run_id, _finished_payload(tmp, run, end))
    run_lineage.export_run_lineage(store, activity.id, tmp)


def _used(tmp: Path, run: RunStart, tables: list[dict[str, Any]]) -> list[tuple[Any, str]]:
    """What the run used, with its role: the template, the plan, every input file and
    Spark folder, and every Spark table (by the content fingerprint the run computed)."""
    tpl, recorded = run.template, run.plan
    plan_entity = run_lineage.file_entity(
        "plan", recorded.plan.get("plan_id", "plan"), sha256_file(tmp / PLAN_FILE), recorded.source
    )
    return (
        [
            (run_lineage.file_entity("template", tpl.name, tpl.sha256, str(tpl.path)), "template"),
            (plan_entity, "plan"),
        ]
        + [
            (
                run_lineage.file_entity("dataset", Path(i["path"]).name, i["sha256"], i["path"]),
                i["parameter"],
            )
            for i in run.inputs
        ]
        + [
            (
                run_lineage.file_entity("dataset", t["table"], digest, "table:" + t["table"]),
                t["parameter"],
            )
            for t in tables
            if isinstance(t["fingerprint"], str)
            and (digest := t["fingerprint"].removeprefix("sha256:"))
        ]
    )


def _finished_payload(tmp: Path, run: RunStart, end: RunEnd) -> dict[str, Any]:
    """The ``report.finished`` record: what ``package verify`` holds the package to.

    Package id, status, error, verdict, criteria, the digests of the results,
    plan and template, and of every output file: a package whose results or
    manifest were edited after the run no longer matches its own chain record.
    """
    results = tmp / RESULTS_FILE
    return {
        "package_id": run.run_id,
        "results_sha256": sha256_file(results) if results.is_file() else None,
        "plan_sha256": run.plan.sha256,
        "template_sha256": run.template.sha256,
        "status": end.status,
        "error": end.error,
        "verdict": end.results.get("verdict"),
        "criteria": [
            {k: c.get(k) for k in ("id", "outcome", "value")}
            for c in end.results.get("criteria", [])
        ],
        "outputs": {name: sha256_file(tmp / name) for name, _role in run_outputs(tmp)},
    }
