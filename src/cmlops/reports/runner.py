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

Nothing that ran is lost: Ctrl-C or SIGTERM stop the kernel and yield a package
marked ABORTED (``report.aborted`` names the signal and the cell), and every
input file is hashed again after the run — a file that changed while the run
read it makes the run FAILED, naming the file and both digests, because the
manifest could otherwise name data the results do not come from.
"""

from __future__ import annotations

import getpass
import hashlib
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
from cmlops.atomic_files import write_atomic
from cmlops.errors import CmlopsError
from cmlops.reports import lineage as run_lineage
from cmlops.reports.audit_extract import write_audit_extract
from cmlops.reports.catalogue import Template, describe_template
from cmlops.reports.data_inputs import current_digest, dataset_entry, table_name
from cmlops.reports.errors import PackageExistsError
from cmlops.reports.execute import CellCallback, ExecutionOutcome, execute_notebook
from cmlops.reports.injection import injected_source
from cmlops.reports.interrupts import StopRequest, stop_on_signals
from cmlops.reports.manifest import (
    MANIFEST,
    SCHEMA,
    dumps,
    environment_lock,
    file_entries,
    sha256_file,
)
from cmlops.reports.notebook import PLAN_FILE, RESULTS_FILE
from cmlops.reports.offline_html import RemoteReference
from cmlops.reports.package import (
    check_destination,
    make_read_only,
    publish,
    remove_tree,
    staging,
    staging_dir,
    zip_package,
)
from cmlops.reports.parameters import validate_parameters
from cmlops.reports.plan import RecordedPlan, prepare_plan, record_plan
from cmlops.reports.render import Cover, notebook_to_html
from cmlops.store.chain import canonical_json
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
    #: the signal (``SIGINT``, ``SIGTERM``) or other reason that stopped an ABORTED run
    stopped_by: str = ""
    #: why the archival PDF asked for could not be made ('' when made or not asked for)
    pdf_error: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "EXECUTED"

    @property
    def aborted(self) -> bool:
        return self.status == "ABORTED"


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="microseconds")


def _head(store: Any) -> dict[str, Any] | None:
    head = store.head()
    return None if head is None else {"seq": head.seq, "hash": head.hash}


def _default_out(template: Template, run_id: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path.cwd() / "reports" / f"{template.name}-{stamp}-{run_id[:8]}"


def _changed_inputs(inputs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Inputs whose file is no longer what was hashed before the run (digest or size)."""
    changed = []
    for item in inputs:
        after = current_digest(item)
        if after != item["sha256"]:
            changed.append(
                {
                    "parameter": item["parameter"],
                    "path": item["path"],
                    "sha256_before": item["sha256"],
                    "sha256_after": after,
                }
            )
    return changed


def _inputs(template: Template, values: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for spec in template.parameters:
        value = values.get(spec.name)
        if spec.type == "dataset" and value and (table_name(value) or Path(value).is_dir()):
            entry = dataset_entry(spec.name, value)  # a Spark folder (a table: see frames)
            out.extend([entry] if entry else [])
        elif spec.type in ("path", "dataset") and value:
            path = Path(value)
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
    on_cell: CellCallback | None = None,
    stop: StopRequest | None = None,
    pdf: bool = False,
) -> ReportRun:
    """Execute a template with validated parameters and write its audit package.

    Raises :class:`~cmlops.errors.InvalidInputError` subclasses for bad input
    (nothing is executed or recorded then). A notebook that fails or a kernel
    that dies does not raise: the returned run has status ``FAILED`` and the
    package records the error. ``on_cell(done, total)`` is called after each
    executed code cell (from the run's worker thread), for progress displays.
    ``stop``: a request that ends the run as ABORTED (in the main thread,
    SIGINT and SIGTERM set it while the run lasts; another thread may too).
    ``pdf``: also write the archival PDF/A-3b (``report.pdf``, listed in the
    manifest); if it cannot be made the package is written without it and
    ``pdf_error`` says why.
    """
    tpl, values, recorded, target, run_id = prepare_run(
        template, parameters, plan=plan, out=out, force=force
    )
    if store is None:
        from cmlops.store import open_store

        store = open_store()
    check_destination(target, force=force, store=store)  # --force: only this store's packages
    stop = stop or StopRequest()
    limits = {
        "kernel_name": kernel_name,
        "cell_timeout": cell_timeout,
        "run_timeout": run_timeout,
        "progress": progress,
        "on_cell": on_cell,
        "stop": stop,
    }
    with stop_on_signals(stop):
        run = _start(store, tpl, values, recorded, target, run_id, deviation_reason)
        manifest, end, pdf_error = _build_package(store, run, limits, force=force, pdf=pdf)
        done = _finish(store, run, manifest, end)
        done.pdf_error = pdf_error
        return done


@dataclass(frozen=True)
class _RunStart:
    """What is fixed before the kernel starts: the run's identity, inputs and audit head."""

    template: Template
    values: dict[str, Any]
    plan: RecordedPlan
    inputs: list[dict[str, Any]]
    run_id: str
    user: str
    started: str
    target: Path
    head_before: dict[str, Any] | None

    @property
    def activity_id(self) -> str:
        return f"report:{self.run_id}"


@dataclass(frozen=True)
class _RunEnd:
    """How the notebook run ended, the results it left, and inputs that changed meanwhile."""

    outcome: ExecutionOutcome
    ended: str
    results: dict[str, Any]
    changed_inputs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def status(self) -> str:
        if self.outcome.stopped_by:
            return "ABORTED"
        return "EXECUTED" if self.outcome.ok and not self.changed_inputs else "FAILED"

    @property
    def message(self) -> str:
        """One line: why the run did not simply execute ('' when it did)."""
        if not self.changed_inputs:
            return self.outcome.error
        names = ", ".join(f"{i['parameter']} ({i['path']})" for i in self.changed_inputs)
        text = (
            f"input file changed during the run: {names}; its SHA-256 after the run is not the "
            "one recorded before it, so the results may not come from the recorded data: "
            "keep inputs unchanged while a report runs and run it again"
        )
        return f"{self.outcome.error}; {text}" if self.outcome.error else text

    @property
    def error(self) -> dict[str, Any] | None:
        if self.status == "EXECUTED":
            return None
        error: dict[str, Any] = {
            "type": self.outcome.error_type,
            "message": self.message,
            "cell_index": self.outcome.cell_index,
        }
        if self.changed_inputs:
            error["type"] = self.outcome.error_type if self.outcome.stopped_by else "InputChanged"
            error["inputs"] = self.changed_inputs
        return error


def _start(
    store: Any,
    tpl: Template,
    values: dict[str, Any],
    recorded: RecordedPlan,
    target: Path,
    run_id: str,
    deviation_reason: str,
) -> _RunStart:
    """Record the plan, hash the inputs and append ``report.started``."""
    head_before = _head(store)
    record_plan(store, recorded, run_id=run_id, reason=deviation_reason)
    run = _RunStart(
        template=tpl,
        values=values,
        plan=recorded,
        inputs=_inputs(tpl, values),
        run_id=run_id,
        user=store.actor,
        started=_now(),
        target=target,
        head_before=head_before,
    )
    store.append(
        "report.started",
        "report",
        run_id,
        {
            "template": tpl.name,
            "template_sha256": tpl.sha256,
            "plan_sha256": recorded.sha256,
            "parameters": values,
            "inputs": run.inputs,
            "package": str(target),
        },
    )
    return run


def _build_package(
    store: Any, run: _RunStart, limits: dict[str, Any], *, force: bool, pdf: bool = False
) -> tuple[dict[str, Any], _RunEnd, str]:
    """Execute in a staging folder, assemble the package there and publish it.

    Disk full, permission denied, a store failure: no package is published, the
    staging folder is removed and ``report.aborted`` says why in the trail.
    """
    staged: Path | None = None
    try:
        with staging(run.target) as tmp:
            staged = tmp
            outcome = _execute(tmp, run, limits)
            if outcome.abandoned:
                tmp = staged = _snapshot(tmp, run.target)
            end = _RunEnd(
                outcome=outcome,
                ended=_now(),
                results=_results(tmp, outcome),
                changed_inputs=_changed_inputs(run.inputs),
            )
            if outcome.stopped_by:
                _record_stop(store, run, end)
            if not (tmp / NOTEBOOK).is_file():  # the kernel never started
                shutil.copyfile(tmp / TEMPLATE_COPY, tmp / NOTEBOOK)
            manifest = _assemble(store, tmp, run, end)
            manifest, pdf_error = _archival(tmp, manifest) if pdf else (manifest, "")
            write_atomic(tmp / MANIFEST, dumps(manifest), replace=False, read_only=True)
            make_read_only(tmp)  # evidence: no file or folder of a package stays writable
            publish(tmp, run.target, force=force, store=store)
    except (OSError, CmlopsError) as exc:
        if staged is not None:
            remove_tree(staged)
        store.append(
            "report.aborted",
            "report",
            run.run_id,
            {"error": f"{type(exc).__name__}: {exc}", "package": str(run.target)},
        )
        raise
    return manifest, end, pdf_error


def _archival(tmp: Path, manifest: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The manifest listing the archival PDF, or the manifest as it was and why not."""
    from cmlops.reports.archival import with_archival
    from cmlops.reports.errors import PackageError

    try:
        return with_archival(tmp, manifest), ""
    except (PackageError, OSError) as error:
        return manifest, str(error)


def _record_stop(store: Any, run: _RunStart, end: _RunEnd) -> None:
    """``report.aborted`` for a run stopped by a signal: which one, where, and that a
    package marked ABORTED follows (``report.finished`` then closes the run)."""
    store.append(
        "report.aborted",
        "report",
        run.run_id,
        {
            "error": end.message,
            "signal": end.outcome.stopped_by,
            "cell_index": end.outcome.cell_index,
            "package": str(run.target),
            "package_follows": True,
        },
        reason=f"stopped by {end.outcome.stopped_by}",
    )


def _execute(tmp: Path, run: _RunStart, limits: dict[str, Any]) -> ExecutionOutcome:
    """Copy the template and the plan into ``tmp`` and run the notebook there."""
    shutil.copyfile(run.template.path, tmp / TEMPLATE_COPY)
    (tmp / PLAN_FILE).write_bytes(canonical_json(run.plan.plan))
    return execute_notebook(
        tmp / TEMPLATE_COPY,
        tmp / NOTEBOOK,
        {**run.values, "cmlops_output_dir": ".", "cmlops_run_id": run.run_id},
        cwd=tmp,
        # cells the template tracks record the package's notebook: the run's extract finds them
        env={"CMLOPS_NOTEBOOK": str(run.target / NOTEBOOK)},
        **limits,
    )


def _finish(store: Any, run: _RunStart, manifest: dict[str, Any], end: _RunEnd) -> ReportRun:
    """Zip the published package and append ``package.created``."""
    zipped = zip_package(run.target)
    store.append(
        "package.created",
        "package",
        run.run_id,
        {
            "path": str(run.target),
            "zip": str(zipped),
            "manifest_sha256": sha256_file(run.target / MANIFEST),
            "status": manifest["status"],
        },
    )
    return ReportRun(
        package=run.target,
        zip=zipped,
        status=manifest["status"],
        manifest=manifest,
        error=end.message,
        stopped_by=end.outcome.stopped_by,
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


def _assemble(store: Any, tmp: Path, run: _RunStart, end: _RunEnd) -> dict[str, Any]:
    """Render, record lineage and audit, and return the manifest of the staged package."""
    blocked = _render(tmp, run, end)
    env = environment_lock()
    _record(store, tmp, run, end, env)
    audit = write_audit_extract(
        store,
        tmp,
        run.head_before,
        _head(store),
        run_id=run.run_id,
        notebook=str(run.target / NOTEBOOK),
    )
    manifest = _manifest(tmp, run, end, env, audit)
    if blocked:  # neutralised in report.html, flagged here and on its first page
        manifest["remote_resources"] = [ref.to_dict() for ref in blocked]
    return manifest


def _render(tmp: Path, run: _RunStart, end: _RunEnd) -> list[RemoteReference]:
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


def _outputs(tmp: Path) -> list[tuple[str, str]]:
    """The package files a run generates (name, lineage role), those that exist."""
    roles = ((NOTEBOOK, "executed-notebook"), (HTML, "html-report"), (RESULTS_FILE, "results"))
    return [(name, role) for name, role in roles if (tmp / name).is_file()]


def _record(store: Any, tmp: Path, run: _RunStart, end: _RunEnd, env: dict[str, Any]) -> None:
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
    store.record_lineage(
        run_lineage.run_batch(
            activity,
            user=run.user,
            kit_version=__version__,
            used=_used(tmp, run, _tables(run, end.results)),
            generated=[
                (
                    run_lineage.file_entity(
                        "report", name, sha256_file(tmp / name), str(run.target / name)
                    ),
                    role,
                )
                for name, role in _outputs(tmp)
            ],
            environment_id=env_id,
            environment=env,
        )
    )
    store.append("report.finished", "report", run.run_id, _finished_payload(tmp, run, end))
    run_lineage.export_run_lineage(store, activity.id, tmp)


def _used(tmp: Path, run: _RunStart, tables: list[dict[str, Any]]) -> list[tuple[Any, str]]:
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


def _finished_payload(tmp: Path, run: _RunStart, end: _RunEnd) -> dict[str, Any]:
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
        "outputs": {name: sha256_file(tmp / name) for name, _role in _outputs(tmp)},
    }


def _spark_section(run: _RunStart, results: dict[str, Any]) -> dict[str, Any]:
    """``{"spark": ...}`` when the run used Spark (see :class:`ReportContext`), else ``{}``.

    Spark tables are listed with the content fingerprint the kernel computed (the
    runner has no Spark to hash them before the run)."""
    spark = results.get("spark")
    tables = _tables(run, results)
    if not isinstance(spark, dict) and not tables:
        return {}
    section = dict(spark) if isinstance(spark, dict) else {}
    if tables:
        section["tables"] = tables
    return {"spark": section}


def _tables(run: _RunStart, results: dict[str, Any]) -> list[dict[str, Any]]:
    """Each ``table:NAME`` parameter with the fingerprint of the frame of the same name."""
    prints = {f.get("name"): f.get("fingerprint") for f in results.get("frames") or []}
    return [
        {"parameter": spec.name, "table": name, "fingerprint": prints.get(spec.name)}
        for spec in run.template.parameters
        if spec.type == "dataset" and (name := table_name(run.values.get(spec.name)))
    ]


def _manifest(
    tmp: Path, run: _RunStart, end: _RunEnd, env: dict[str, Any], audit: dict[str, Any]
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
