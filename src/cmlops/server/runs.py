"""Report runs started from the sidebar: one background worker, status and progress in memory.

Reports run one at a time on a worker thread (each starts its own kernel; two
at once would halve the speed of both on a small machine). The run itself, its
package and its audit records are the report runner's business
(:func:`cmlops.reports.run_report`); this module only keeps what the UI polls:
status, progress, the package id, the error.
"""

from __future__ import annotations

import inspect
import itertools
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cmlops.errors import CmlopsError
from cmlops.server.paths import inside_root


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

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


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

    def start(self, template: str, parameters: dict[str, Any]) -> Run:
        """Check template and parameters now (errors reach the form), then queue the run."""
        from cmlops.reports.catalogue import describe_template
        from cmlops.reports.parameters import validate_parameters

        described = describe_template(template)
        for spec in described.parameters:
            if spec.type == "path" and parameters.get(spec.name) not in (None, ""):
                inside_root(self.root_dir, str(parameters[spec.name]), spec.name)
        parameters = validate_parameters(
            described.parameters, parameters, template=template, base=self.root_dir
        )
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
        run = Run(id=f"{stamp}-{next(self._ids)}", template=template, parameters=parameters)
        with self._lock:
            self._runs[run.id] = run
        self._pool.submit(self._execute, run)
        return run

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            return self._runs.get(run_id)

    def list(self) -> list[Run]:
        with self._lock:
            return sorted(self._runs.values(), key=lambda r: r.started, reverse=True)

    def _progress(self, run: Run) -> Any:
        def update(*args: Any, **kwargs: Any) -> None:
            done = kwargs.get("done", args[0] if args else None)
            total = kwargs.get("total", args[1] if len(args) > 1 else None)
            message = kwargs.get("message", args[2] if len(args) > 2 else "")
            if isinstance(done, (int, float)) and isinstance(total, (int, float)) and total:
                run.progress = max(0.0, min(1.0, float(done) / float(total)))
            if message:
                run.message = str(message)

        return update

    def _execute(self, run: Run) -> None:
        from cmlops.reports.runner import run_report
        from cmlops.reports.verify import verify_package

        run.status = "running"
        run.message = "starting the kernel"
        try:
            self.packages_dir.mkdir(parents=True, exist_ok=True)
            kwargs = _accepted(
                run_report,
                {
                    "out_dir": self.packages_dir,
                    "output_dir": self.packages_dir,
                    "packages_dir": self.packages_dir,
                    "progress": self._progress(run),
                    "store": self.store_access.get(),
                },
            )
            result = run_report(run.template, run.parameters, **kwargs)
            package = _package_path(result)
            run.package_id = package.name if package else ""
            run.progress = 1.0
            outcome = str(getattr(result, "status", "") or "").lower()
            failed = outcome in {"failed", "error"} or getattr(result, "ok", True) is False
            if package is not None:
                verdict = result_to_dict(verify_package(package))
                run.verified = bool(verdict.get("ok", verdict.get("valid", False)))
            run.status = "failed" if failed else "succeeded"
            run.error = str(getattr(result, "error", "") or "") if failed else ""
            run.message = "report failed" if failed else "done"
        except (CmlopsError, OSError, RuntimeError, ValueError) as error:
            run.status = "failed"
            run.error = str(error).splitlines()[0] if str(error) else type(error).__name__
            run.message = "report failed"
        finally:
            run.ended = _now()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)


def _accepted(function: Any, offered: dict[str, Any]) -> dict[str, Any]:
    """The keyword arguments of ``offered`` that ``function`` declares."""
    names = inspect.signature(function).parameters
    return {k: v for k, v in offered.items() if k in names}


def _package_path(result: Any) -> Path | None:
    for name in ("package", "package_dir", "path", "out_dir"):
        value = getattr(result, name, None)
        if isinstance(value, (str, Path)) and str(value):
            return Path(value)
    return None
