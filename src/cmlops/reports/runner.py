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

This module keeps that order; the parts live beside it: the run's facts
(:mod:`.run_state`), its input files (:mod:`.run_inputs`), the staged
package's report and manifest (:mod:`.package_assembly`) and what the run
records in the chain (:mod:`.run_records`).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cmlops.atomic_files import write_atomic
from cmlops.errors import CmlopsError
from cmlops.reports.catalogue import Template, describe_template
from cmlops.reports.errors import PackageExistsError
from cmlops.reports.execute import CellCallback, ExecutionOutcome, execute_notebook
from cmlops.reports.injection import injected_source
from cmlops.reports.interrupts import StopRequest, stop_on_signals
from cmlops.reports.manifest import MANIFEST, dumps, sha256_file
from cmlops.reports.notebook import PLAN_FILE
from cmlops.reports.package import (
    check_destination,
    make_read_only,
    publish,
    remove_tree,
    staging,
    staging_dir,
    zip_package,
)
from cmlops.reports.package_assembly import assemble_package, read_results
from cmlops.reports.parameters import validate_parameters
from cmlops.reports.plan import RecordedPlan, prepare_plan, record_plan
from cmlops.reports.run_inputs import changed_inputs, hashed_inputs
from cmlops.reports.run_records import audit_head
from cmlops.reports.run_state import NOTEBOOK, TEMPLATE_COPY, RunEnd, RunStart, utc_now
from cmlops.store.chain import canonical_json


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


def _default_out(template: Template, run_id: str) -> Path:
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path.cwd() / "reports" / f"{template.name}-{stamp}-{run_id[:8]}"


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


def _start(
    store: Any,
    tpl: Template,
    values: dict[str, Any],
    recorded: RecordedPlan,
    target: Path,
    run_id: str,
    deviation_reason: str,
) -> RunStart:
    """Record the plan, hash the inputs and append ``report.started``."""
    head_before = audit_head(store)
    record_plan(store, recorded, run_id=run_id, reason=deviation_reason)
    run = RunStart(
        template=tpl,
        values=values,
        plan=recorded,
        inputs=hashed_inputs(tpl, values),
        run_id=run_id,
        user=store.actor,
        started=utc_now(),
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
    store: Any, run: RunStart, limits: dict[str, Any], *, force: bool, pdf: bool = False
) -> tuple[dict[str, Any], RunEnd, str]:
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
            end = RunEnd(
                outcome=outcome,
                ended=utc_now(),
                results=read_results(tmp, outcome),
                changed_inputs=changed_inputs(run.inputs),
            )
            if outcome.stopped_by:
                _record_stop(store, run, end)
            if not (tmp / NOTEBOOK).is_file():  # the kernel never started
                shutil.copyfile(tmp / TEMPLATE_COPY, tmp / NOTEBOOK)
            manifest = assemble_package(store, tmp, run, end)
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


def _record_stop(store: Any, run: RunStart, end: RunEnd) -> None:
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


def _execute(tmp: Path, run: RunStart, limits: dict[str, Any]) -> ExecutionOutcome:
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


def _finish(store: Any, run: RunStart, manifest: dict[str, Any], end: RunEnd) -> ReportRun:
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
