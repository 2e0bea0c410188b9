"""Run one notebook with Papermill in a real kernel, guarded by a watchdog.

Papermill (through nbclient) normally notices a dead kernel, but there are
known paths where it waits forever on a reply that will never come. The run
therefore happens in a worker thread; the calling thread watches it, checks
the kernel process's liveness through the kernel manager, and gives up with a
clean error when the kernel has been dead for ``dead_grace`` seconds or the
whole run exceeds ``run_timeout``. A per-cell limit is Papermill's own
``execution_timeout``. The output notebook is saved after every cell, so what
ran before a failure is kept for the FAILED package.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass
class ExecutionOutcome:
    """How the execution ended: ``ok`` or an error with its type, message and cell."""

    ok: bool
    error_type: str = ""
    error: str = ""
    cell_index: int | None = None
    duration_s: float = 0.0
    #: the Papermill thread was still running when the watchdog gave up: it may
    #: still write into the working folder, which must then not become the package
    abandoned: bool = False
    #: the kernel that actually ran (``None`` when none started): its name, its
    #: kernelspec's display name, language and executable, and the language
    #: version the kernel itself reported into the executed notebook
    kernel: dict[str, Any] | None = None


def _watched_manager_class(holder: list[Any], env: dict[str, str] | None = None) -> type:
    """A kernel manager class that hands its instance to this run's watchdog.

    ``env`` is added to the kernel's environment (this run's kernel only: the
    runner's own environment is never changed, so concurrent runs cannot mix).
    """
    from jupyter_client.manager import AsyncKernelManager

    class WatchedKernelManager(AsyncKernelManager):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            # IPC (Unix sockets, owner-only files) rather than plain-text TCP on loopback:
            # a validation run's data and outputs never cross a network socket.
            if os.name == "posix":
                kwargs.setdefault("transport", "ipc")
            super().__init__(*args, **kwargs)
            holder.append(self)

        async def _async_pre_start_kernel(self, **kw: Any) -> Any:
            if env:
                kw["env"] = {**(kw.get("env") or os.environ), **env}
            return await super()._async_pre_start_kernel(**kw)

    return WatchedKernelManager


def _kernel_dead(holder: list[Any]) -> bool:
    if not holder:
        return False
    provisioner = getattr(holder[0], "provisioner", None)
    process = getattr(provisioner, "process", None)
    return process is not None and process.poll() is not None


def _last_line(text: str) -> str:
    """The last non-blank line of an error text (Python puts the message there), cut at 500."""
    lines = [line for line in str(text).strip().splitlines() if line.strip()]
    return lines[-1][:500] if lines else ""


def _kernel_identity(holder: list[Any], notebook: Path) -> dict[str, Any] | None:
    """Which kernel ran: the manager's kernelspec and the notebook's ``language_info``."""
    if not holder:
        return None
    manager = holder[0]
    identity: dict[str, Any] = {"name": getattr(manager, "kernel_name", None)}
    try:
        spec = manager.kernel_spec
    except Exception:  # noqa: BLE001 - a spec removed mid-run leaves the name only
        spec = None
    if spec is not None:
        identity["display_name"] = spec.display_name
        identity["language"] = spec.language
        identity["executable"] = spec.argv[0] if spec.argv else None
    try:
        info = json.loads(notebook.read_text("utf-8"))["metadata"]["language_info"]
        identity["language_version"] = str(info["version"])
    except (OSError, ValueError, KeyError, TypeError):
        identity["language_version"] = None  # the kernel never reported (died first)
    return identity


def _describe(exc: BaseException) -> ExecutionOutcome:
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return ExecutionOutcome(
            ok=False,
            error_type=exc.ename,
            error=f"cell {exc.exec_count}: {exc.ename}: {_last_line(exc.evalue)}",
            cell_index=exc.cell_index,
        )
    name = type(exc).__name__
    return ExecutionOutcome(ok=False, error_type=name, error=f"{name}: {_last_line(str(exc))}")


#: ``on_cell(done, total)``: called after each executed code cell (from the run's thread)
CellCallback = Callable[[int, int], None]


def cell_hooks(on_cell: CellCallback | None) -> dict[str, Any]:
    """nbclient hooks that report ``(code cells executed, code cells to execute)``.

    The count comes from the notebook nbclient actually runs (with Papermill's
    injected parameters cell), so the share is exact; a failing hook never
    stops the run.
    """
    if on_cell is None:
        return {}
    count = {"done": 0, "total": 0}

    def started(notebook: Any, **_: Any) -> None:
        count["total"] = sum(
            1 for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()
        )

    def executed(**_: Any) -> None:
        count["done"] += 1
        try:
            on_cell(count["done"], max(count["total"], count["done"]))
        except Exception:  # noqa: BLE001, S110 - progress is a courtesy, never the run's failure
            pass

    return {"on_notebook_start": started, "on_cell_executed": executed}


def execute_notebook(
    source: Path,
    target: Path,
    parameters: dict[str, Any],
    *,
    cwd: Path,
    kernel_name: str | None = None,
    cell_timeout: float | None = 600,
    run_timeout: float | None = None,
    dead_grace: float = 10.0,
    progress: bool = True,
    on_cell: CellCallback | None = None,
    env: dict[str, str] | None = None,
) -> ExecutionOutcome:
    """Execute ``source`` into ``target`` with the given parameters; never hangs.

    ``env``: variables added to the kernel's environment.
    """
    import papermill

    hooks = cell_hooks(on_cell)

    holder: list[Any] = []
    box: dict[str, BaseException] = {}

    def work() -> None:
        try:
            papermill.execute_notebook(
                str(source),
                str(target),
                parameters=parameters,
                kernel_name=kernel_name,
                progress_bar=progress,
                cwd=str(cwd),
                execution_timeout=cell_timeout,
                kernel_manager_class=_watched_manager_class(holder, env),
                **hooks,
            )
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            box["error"] = exc

    started = time.monotonic()
    worker = threading.Thread(target=work, name="cmlops-report-kernel", daemon=True)
    worker.start()
    outcome = _watch(worker, holder, started, run_timeout=run_timeout, dead_grace=dead_grace)
    if outcome is None:
        outcome = _describe(box["error"]) if "error" in box else ExecutionOutcome(ok=True)
        outcome.duration_s = time.monotonic() - started
    outcome.kernel = _kernel_identity(holder, target)
    return outcome


def _watch(
    worker: threading.Thread,
    holder: list[Any],
    started: float,
    *,
    run_timeout: float | None,
    dead_grace: float,
) -> ExecutionOutcome | None:
    """Wait for the Papermill thread; the outcome of giving up on it, or None when it ended."""
    dead_since: float | None = None
    while worker.is_alive():
        worker.join(0.2)
        now = time.monotonic()
        if run_timeout is not None and now - started > run_timeout:
            _stop(holder)
            worker.join(5.0)  # let papermill notice the killed kernel and save what ran
            return ExecutionOutcome(
                ok=False,
                error_type="RunTimeout",
                error=f"the run exceeded its time limit of {run_timeout:g} s",
                duration_s=now - started,
                abandoned=worker.is_alive(),
            )
        if worker.is_alive() and _kernel_dead(holder):
            dead_since = dead_since or now
            if now - dead_since > dead_grace:
                return ExecutionOutcome(
                    ok=False,
                    error_type="DeadKernelError",
                    error="the kernel died and did not report back: the run was stopped",
                    duration_s=now - started,
                    abandoned=True,
                )
    return None


def _stop(holder: list[Any]) -> None:
    """Kill the kernel process of a run that is being abandoned (best effort)."""
    if not holder:
        return
    process = getattr(getattr(holder[0], "provisioner", None), "process", None)
    if process is not None and process.poll() is None:
        process.kill()
