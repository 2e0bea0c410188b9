"""Report runs started from the sidebar: one background worker, status and progress in memory.

Reports run one at a time on a worker thread (each starts its own kernel; two
at once would halve the speed of both on a small machine). The run itself, its
package and its audit records are the report runner's business
(:func:`cmlops.reports.run_report`); this module only keeps what the UI polls:
status, progress, the package id, the error.
"""

from __future__ import annotations

import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cmlops.errors import CmlopsError
from cmlops.server.run_form import CheckedRun


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


@dataclass
class Run:
    """What the sidebar shows of one report run."""

    id: str
    template: str
    parameters: dict[str, Any]
    status: str = "queued"  # queued, running, succeeded, failed
    progress: float = 0.0
    message: str = "waiting for the report worker"
    started: str = field(default_factory=_now)
    ended: str = ""
    package_id: str = ""
    error: str = ""
    verified: bool | None = None
    #: the acceptance plan's id (or "template default")
    plan: str = ""
    #: the plan's verdict: PASS, FAIL or NOT EVALUATED ('' until the package exists)
    verdict: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def cell_executed(self, done: int, total: int) -> None:
        """The runner's cell hook: share of code cells executed (packaging is the last 5 %)."""
        share = done / total if total else 0.0
        self.progress = max(self.progress, min(share, 0.95))
        self.message = f"executing cells ({done} of {total})"


#: the verdicts a package can state (anything else is shown as no verdict)
VERDICTS = ("PASS", "FAIL", "NOT EVALUATED")


def plan_verdict_of(manifest: Any) -> str:
    """The plan's verdict a package's manifest states ('' when it states none)."""
    results = manifest.get("results") if isinstance(manifest, dict) else None
    verdict = results.get("verdict") if isinstance(results, dict) else None
    return verdict if verdict in VERDICTS else ""


def result_to_dict(result: Any) -> dict[str, Any]:
    """A runner/verifier result as plain JSON, whatever dataclass shape it has."""
    if hasattr(result, "to_dict"):
        return result.to_dict()
    if hasattr(result, "__dataclass_fields__"):
        return asdict(result)
    if isinstance(result, dict):
        return result
    return {"value": str(result)}


class RunManager:
    """Starts report runs in the background and remembers their state for this server."""

    def __init__(self, packages_dir: Path, store_access: Any, root_dir: Path) -> None:
        self.packages_dir = packages_dir
        self.root_dir = root_dir
        self.store_access = store_access
        self._runs: dict[str, Run] = {}
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cmlops-report")

    def start(self, checked: CheckedRun) -> Run:
        """Queue a run of a submission :func:`~cmlops.server.run_form.check_submission` passed."""
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        run = Run(
            id=f"{stamp}-{next(self._ids)}",
            template=checked.template,
            parameters=checked.parameters,
            plan=checked.plan_label,
        )
        with self._lock:
            self._runs[run.id] = run
        self._pool.submit(self._execute, run, checked.plan)
        return run

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            return self._runs.get(run_id)

    def list(self) -> list[Run]:
        with self._lock:
            return sorted(self._runs.values(), key=lambda r: r.started, reverse=True)

    def _execute(self, run: Run, plan: Path | None) -> None:
        from cmlops.reports.runner import run_report
        from cmlops.reports.verify import verify_package

        run.status = "running"
        run.message = "starting the kernel"
        target = self.packages_dir / f"{run.template}-{run.id}"
        try:
            self.packages_dir.mkdir(parents=True, exist_ok=True)
            store = self.store_access.get()
            result = run_report(
                run.template,
                run.parameters,
                plan=plan,
                out=target,
                store=store,
                progress=False,
                on_cell=run.cell_executed,
            )
            run.package_id = Path(result.package).name
            run.verdict = plan_verdict_of(result.manifest)
            run.progress = 1.0
            run.message = "verifying the package"
            run.verified = bool(verify_package(result.package).ok)
            run.status = "succeeded" if result.ok else "failed"
            run.error = "" if result.ok else (result.error or result.status)
            run.message = "done" if result.ok else "report failed (package kept)"
        except (CmlopsError, OSError, RuntimeError, ValueError) as error:
            run.status = "failed"
            run.error = str(error).splitlines()[0] if str(error) else type(error).__name__
            run.message = "report failed"
        finally:
            run.ended = _now()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
