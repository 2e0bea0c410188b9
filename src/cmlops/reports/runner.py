"""Run a report template into an audit package.

The order of events is the point of this module:

1. everything the user gave is validated (template, parameters, plan, output
   folder) and the parameter injection is proven to be data only — before any
   kernel starts or any record is written;
2. the plan is hashed and recorded in the audit log, then ``report.started``;
3. the notebook runs with Papermill in a real kernel, under a watchdog;
4. the package is assembled in a staging folder — executed notebook, offline
   HTML, results, lineage, audit extract — and the manifest is written last;
5. ``report.finished`` closes the run, the folder is renamed into place and
   zipped. A failed run still yields a package marked FAILED with its error.
"""

from __future__ import annotations

import getpass
import json
import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cmlops._version import __version__
from cmlops.errors import CmlopsError
from cmlops.reports import lineage as run_lineage
from cmlops.reports.audit_extract import write_audit_extract
from cmlops.reports.catalogue import Template, describe_template
from cmlops.reports.errors import PackageExistsError
from cmlops.reports.execute import ExecutionOutcome, execute_notebook
from cmlops.reports.injection import injected_source
from cmlops.reports.manifest import (
    MANIFEST,
    SCHEMA,
    dumps,
    environment_lock,
    file_entries,
    sha256_file,
)
from cmlops.reports.notebook import PLAN_FILE, RESULTS_FILE
from cmlops.reports.package import (
    check_destination,
    publish,
    staging,
    staging_dir,
    zip_package,
)
from cmlops.reports.parameters import validate_parameters
from cmlops.reports.plan import RecordedPlan, canonical, prepare_plan, record_plan
from cmlops.reports.render import notebook_to_html
from cmlops.store.model import Activity

NOTEBOOK = "notebook.ipynb"
HTML = "report.html"
TEMPLATE_COPY = "template.ipynb"


@dataclass
class ReportRun:
    """What ``run_report`` produced: the package, its zip, status and manifest."""

    package: Path
    zip: Path
    status: str
    manifest: dict[str, Any] = field(default_factory=dict)
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "EXECUTED"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _head(store: Any) -> dict[str, Any] | None:
    head = store.head()
    return None if head is None else {"seq": head.seq, "hash": head.hash}


def _default_out(template: Template, run_id: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path.cwd() / "reports" / f"{template.name}-{stamp}-{run_id[:8]}"


def _inputs(template: Template, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for spec in template.parameters:
        if spec.type == "path" and values.get(spec.name):
            path = Path(values[spec.name])
            digest = sha256_file(path)
            out.append(
                {
                    "parameter": spec.name,
                    "path": str(path),
                    "sha256": digest,
                    "size": path.stat().st_size,
                    "fingerprint": f"sha256:{digest}",
                }
            )
    return out


def prepare_run(
    template: str | Template,
    parameters: Mapping[str, Any] | None,
    *,
    plan: str | Path | None,
    out: str | Path | None,
    force: bool,
) -> tuple[Template, dict[str, Any], RecordedPlan, Path, str]:
    """Everything that can be refused before a run starts (no side effects)."""
    tpl = template if isinstance(template, Template) else describe_template(str(template))
    values = validate_parameters(tpl.parameters, dict(parameters or {}), template=tpl.name)
    run_id = str(uuid.uuid4())
    injected_source({**values, "cmlops_output_dir": ".", "cmlops_run_id": run_id})
    recorded = prepare_plan(plan, tpl.default_plan)
    target = Path(out).expanduser().resolve() if out else _default_out(tpl, run_id)
    check_destination(target, force=force)
    parent = next((p for p in (target.parent, *target.parent.parents) if p.exists()), None)
    if parent is None or not os.access(parent, os.W_OK | os.X_OK):
        raise PackageExistsError(f"cannot write the package: {parent} is not writable")
    return tpl, values, recorded, target, run_id


def run_report(
    template: str | Template,
    parameters: Mapping[str, Any] | None = None,
    *,
    plan: str | Path | None = None,
    out: str | Path | None = None,
    force: bool = False,
    store: Any = None,
    progress: bool = True,
    cell_timeout: float | None = 600,
    run_timeout: float | None = None,
    kernel_name: str | None = None,
    deviation_reason: str = "",
) -> ReportRun:
    """Execute a template with validated parameters and write its audit package.

    Raises :class:`~cmlops.errors.InvalidInputError` subclasses for bad input
    (nothing is executed or recorded then). A notebook that fails or a kernel
    that dies does not raise: the returned run has status ``FAILED`` and the
    package records the error.
    """
    tpl, values, recorded, target, run_id = prepare_run(
        template, parameters, plan=plan, out=out, force=force
    )
    if store is None:
        from cmlops.store import open_store

        store = open_store()
    user = store.actor
    head_before = _head(store)
    record_plan(store, recorded, run_id=run_id, reason=deviation_reason)
    inputs = _inputs(tpl, values)
    started = _now()
    store.append(
        "report.started",
        "report",
        run_id,
        {
            "template": tpl.name,
            "template_sha256": tpl.sha256,
            "plan_sha256": recorded.sha256,
            "parameters": values,
            "inputs": inputs,
            "package": str(target),
        },
    )
    staged: Path | None = None
    try:
        with staging(target) as tmp:
            staged = tmp
            shutil.copyfile(tpl.path, tmp / TEMPLATE_COPY)
            (tmp / PLAN_FILE).write_bytes(canonical(recorded.plan))
            outcome = execute_notebook(
                tmp / TEMPLATE_COPY,
                tmp / NOTEBOOK,
                {**values, "cmlops_output_dir": ".", "cmlops_run_id": run_id},
                cwd=tmp,
                kernel_name=kernel_name,
                cell_timeout=cell_timeout,
                run_timeout=run_timeout,
                progress=progress,
            )
            if outcome.abandoned:
                tmp = staged = _snapshot(tmp, target)
            ended = _now()
            if not (tmp / NOTEBOOK).is_file():  # the kernel never started
                shutil.copyfile(tmp / TEMPLATE_COPY, tmp / NOTEBOOK)
            manifest = _assemble(
                store,
                tmp,
                tpl,
                values,
                recorded,
                inputs,
                outcome,
                run_id=run_id,
                user=user,
                started=started,
                ended=ended,
                head_before=head_before,
                target=target,
            )
            (tmp / MANIFEST).write_bytes(dumps(manifest))
            publish(tmp, target, force=force)
    except (OSError, CmlopsError) as exc:
        # disk full, permission denied, ...: no package was published; say so in the trail
        if staged is not None:
            shutil.rmtree(staged, ignore_errors=True)
        store.append(
            "report.aborted",
            "report",
            run_id,
            {"error": f"{type(exc).__name__}: {exc}", "package": str(target)},
        )
        raise
    zipped = zip_package(target)
    store.append(
        "package.created",
        "package",
        run_id,
        {
            "path": str(target),
            "zip": str(zipped),
            "manifest_sha256": sha256_file(target / MANIFEST),
            "status": manifest["status"],
        },
    )
    return ReportRun(
        package=target,
        zip=zipped,
        status=manifest["status"],
        manifest=manifest,
        error=outcome.error,
    )


def _snapshot(work: Path, target: Path) -> Path:
    """Copy an abandoned run's folder to a fresh staging folder and drop the old one.

    The Papermill thread the watchdog gave up on may still write into ``work``;
    the package is assembled from a copy it cannot reach.
    """
    fresh = staging_dir(target)
    shutil.copytree(work, fresh, dirs_exist_ok=True)
    shutil.rmtree(work, ignore_errors=True)
    return fresh


def _results(tmp: Path, outcome: ExecutionOutcome) -> dict[str, Any]:
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


def _assemble(
    store: Any,
    tmp: Path,
    tpl: Template,
    values: dict[str, Any],
    recorded: RecordedPlan,
    inputs: list[dict[str, Any]],
    outcome: ExecutionOutcome,
    *,
    run_id: str,
    user: str,
    started: str,
    ended: str,
    head_before: dict[str, Any] | None,
    target: Path,
) -> dict[str, Any]:
    """Render, record lineage and audit, and return the manifest of the staged package."""
    results = _results(tmp, outcome)
    status = "EXECUTED" if outcome.ok else "FAILED"
    cover = [
        ("package id", run_id),
        ("status", status + ("" if outcome.ok else f": {outcome.error}")),
        ("acceptance verdict", results.get("verdict")),
        ("template", f"{tpl.name} (SHA-256 {tpl.sha256})"),
        (
            "plan",
            f"{recorded.plan.get('plan_id', '')} (SHA-256 {recorded.sha256}, "
            f"recorded {recorded.recorded_at}, audit seq {recorded.audit_seq})",
        ),
        ("plan deviations", len(recorded.deviations)),
        ("run by", user),
        ("started / ended (UTC)", f"{started} / {ended}"),
        ("cmlops", __version__),
    ]
    notebook_to_html(tmp / NOTEBOOK, tmp / HTML, title=f"{tpl.title} — {run_id}", cover=cover)
    error = (
        None
        if outcome.ok
        else {
            "type": outcome.error_type,
            "message": outcome.error,
            "cell_index": outcome.cell_index,
        }
    )
    env = environment_lock()
    env_id = "env:" + __import__("hashlib").sha256(canonical(env)).hexdigest()
    activity = Activity(
        id=f"report:{run_id}",
        kind="report",
        name=tpl.name,
        code_hash=f"sha256:{tpl.sha256}",
        notebook=str(target / NOTEBOOK),
        started=started,
        ended=ended,
        status="ok" if outcome.ok else "error",
        error=outcome.error,
        environment_id=env_id,
        attributes={"parameters": values, "plan_sha256": recorded.sha256},
    )
    used = [
        (run_lineage.file_entity("template", tpl.name, tpl.sha256, str(tpl.path)), "template"),
        (
            run_lineage.file_entity(
                "plan",
                recorded.plan.get("plan_id", "plan"),
                sha256_file(tmp / PLAN_FILE),
                recorded.source,
            ),
            "plan",
        ),
    ] + [
        (
            run_lineage.file_entity("dataset", Path(i["path"]).name, i["sha256"], i["path"]),
            i["parameter"],
        )
        for i in inputs
    ]
    generated = [
        (run_lineage.file_entity("report", name, sha256_file(tmp / name), str(target / name)), role)
        for name, role in (
            (NOTEBOOK, "executed-notebook"),
            (HTML, "html-report"),
            (RESULTS_FILE, "results"),
        )
        if (tmp / name).is_file()
    ]
    store.record_lineage(
        run_lineage.run_batch(
            activity,
            user=user,
            kit_version=__version__,
            used=used,
            generated=generated,
            environment_id=env_id,
            environment=env,
        )
    )
    store.append(
        "report.finished",
        "report",
        run_id,
        {
            "status": status,
            "error": error,
            "verdict": results.get("verdict"),
            "criteria": [
                {k: c.get(k) for k in ("id", "outcome", "value")}
                for c in results.get("criteria", [])
            ],
            "outputs": {
                name: sha256_file(tmp / name)
                for name, _r in ((NOTEBOOK, 0), (HTML, 0), (RESULTS_FILE, 0))
                if (tmp / name).is_file()
            },
        },
    )
    run_lineage.export_run_lineage(store, activity.id, tmp)
    head_after = _head(store)
    audit = write_audit_extract(store, tmp, head_before, head_after)
    return {
        "schema": SCHEMA,
        "package_id": run_id,
        "status": status,
        "error": error,
        "template": {
            "name": tpl.name,
            "title": tpl.title,
            "sha256": tpl.sha256,
            "file": TEMPLATE_COPY,
        },
        "plan": recorded.to_dict(),
        "parameters": values,
        "inputs": inputs,
        "frames": results.get("frames", []),
        "files": file_entries(tmp),
        "results": {k: results.get(k) for k in ("verdict", "criteria", "metrics")},
        "environment": env,
        "kit_version": __version__,
        "user": user,
        "os_user": getpass.getuser(),
        "run": {
            "activity_id": activity.id,
            "started": started,
            "ended": ended,
            "duration_s": round(outcome.duration_s, 3),
            "kernel": "python3",
        },
        "audit": audit,
    }
