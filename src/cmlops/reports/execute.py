"""Run one notebook with Papermill in a real kernel, guarded by a watchdog.

Papermill (through nbclient) normally notices a dead kernel, but there are
known paths where it waits forever on a reply that will never come. The run
therefore happens in a worker thread; the calling thread watches it, checks
the kernel process's liveness through the kernel manager, and gives up with a
clean error when the kernel has been dead for ``dead_grace`` seconds or the
whole run exceeds ``run_timeout``. A per-cell limit is Papermill's own
``execution_timeout``; a cell that exceeds it is named (position, code cell
number, first line) with the limit, since nbclient's own message names neither.
A :class:`~cmlops.reports.interrupts.StopRequest` (Ctrl-C, SIGTERM) interrupts
the running cell, keeps any further cell from starting and, if the kernel does
not react, kills it. The output notebook is saved after every cell, so what
ran before a failure or a stop is kept for the FAILED or ABORTED package.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cmlops.reports.interrupts import StopRequest

#: seconds a stopped kernel gets to turn SIGINT into an error before it is killed
INTERRUPT_GRACE = 5.0


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
    #: why the run was stopped on request (``SIGINT``, ``SIGTERM``): the package is ABORTED
    stopped_by: str = ""


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


@dataclass
class CellTracker:
    """Which code cell runs now, and how many there are (from nbclient's hooks)."""

    index: int | None = None
    cell_id: str = ""
    number: int = 0
    first_line: str = ""
    done: int = 0
    total: int = 0

    def where(self) -> str:
        """``code cell 3 (`time.sleep(60)`)``, or '' before any cell.

        Code cells are counted in the executed notebook (Papermill's injected
        parameters cell included), as JupyterLab shows them."""
        if self.index is None:
            return ""
        line = f" (`{self.first_line}`)" if self.first_line else ""
        return f"code cell {self.number}{line}"

    def index_in(self, notebook: Path) -> int | None:
        """The running cell's position in the saved notebook (Papermill inserts error
        cells, so nbclient's index can point at another cell there)."""
        try:
            cells = json.loads(notebook.read_text("utf-8"))["cells"]
            return next(i for i, c in enumerate(cells) if c.get("id") == self.cell_id)
        except (OSError, ValueError, KeyError, TypeError, StopIteration):
            return self.index


def _describe(
    exc: BaseException, cells: CellTracker, cell_timeout: float | None
) -> ExecutionOutcome:
    from nbclient.exceptions import CellTimeoutError
    from papermill.exceptions import PapermillExecutionError

    if isinstance(exc, PapermillExecutionError):
        return ExecutionOutcome(
            ok=False,
            error_type=exc.ename,
            error=f"cell {exc.exec_count}: {exc.ename}: {_last_line(exc.evalue)}",
            cell_index=exc.cell_index,
        )
    if isinstance(exc, CellTimeoutError):
        limit = f"{cell_timeout:g} s" if cell_timeout else "its time limit"
        where = cells.where() or "a cell"
        return ExecutionOutcome(
            ok=False,
            error_type="CellTimeoutError",
            error=f"{where} ran longer than the cell time limit of {limit} and was stopped "
            "(raise --cell-timeout if it needs longer)",
            cell_index=cells.index,
        )
    name = type(exc).__name__
    return ExecutionOutcome(ok=False, error_type=name, error=f"{name}: {_last_line(str(exc))}")


def _stopped(stop: StopRequest, cells: CellTracker, **extra: Any) -> ExecutionOutcome:
    """The outcome of a run stopped on request: what ran is kept, the rest never started."""
    where = cells.where()
    at = f" during {where}" if where else " before any cell ran"
    return ExecutionOutcome(
        ok=False,
        error_type="Aborted",
        error=f"the run was stopped by {stop.reason}{at}: the cells before it ran, "
        "later cells did not",
        cell_index=cells.index,
        stopped_by=stop.reason,
        **extra,
    )


#: ``on_cell(done, total)``: called after each executed code cell (from the run's thread)
CellCallback = Callable[[int, int], None]


def cell_hooks(
    on_cell: CellCallback | None,
    cells: CellTracker | None = None,
    stop: StopRequest | None = None,
) -> dict[str, Any]:
    """nbclient hooks: progress ``(code cells executed, code cells to execute)``, the
    running cell in ``cells``, and no new cell once ``stop`` is set.

    The count comes from the notebook nbclient actually runs (with Papermill's
    injected parameters cell), so the share is exact; a failing progress hook
    never stops the run.
    """
    cells = cells if cells is not None else CellTracker()

    def started(notebook: Any, **_: Any) -> None:
        cells.total = sum(
            1 for cell in notebook.cells if cell.cell_type == "code" and cell.source.strip()
        )

    def executing(cell: Any, cell_index: int, **_: Any) -> None:
        if stop is not None and stop.is_set():
            _not_run(cell, stop.reason)
        lines = [line.strip() for line in str(cell.source).splitlines() if line.strip()]
        cells.index, cells.number = cell_index, cells.number + 1
        cells.cell_id = str(cell.get("id", ""))
        cells.first_line = lines[0][:80] if lines else ""

    def executed(**_: Any) -> None:
        cells.done += 1
        if on_cell is None:
            return
        try:
            on_cell(cells.done, max(cells.total, cells.done))
        except Exception:  # noqa: BLE001, S110 - progress is a courtesy, never the run's failure
            pass

    return {
        "on_notebook_start": started,
        "on_cell_execute": executing,
        "on_cell_executed": executed,
    }


def _not_run(cell: Any, reason: str) -> None:
    """Keep a stopped run's next cell from starting, and say so in the cell's metadata.

    Raised as nbclient's ``CellExecutionError``, Papermill marks the cell failed
    and the notebook as not run through, and saves it: the executed notebook
    shows where the run ended.
    """
    from nbclient.exceptions import CellExecutionError

    cell.metadata.setdefault("cmlops", {})["not_run"] = (
        f"the run was stopped by {reason} before this cell started"
    )
    raise CellExecutionError("", "RunStopped", f"the run was stopped by {reason}")


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
    stop: StopRequest | None = None,
) -> ExecutionOutcome:
    """Execute ``source`` into ``target`` with the given parameters; never hangs.

    ``env``: variables added to the kernel's environment. ``stop``: a request
    that, once set, ends the run as ``stopped_by`` (see the module docstring).
    """
    import papermill

    cells = CellTracker()
    if stop is not None and stop.is_set():
        return _stopped(stop, cells)
    hooks = cell_hooks(on_cell, cells, stop)
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
    limits = {"run_timeout": run_timeout, "dead_grace": dead_grace, "stop": stop, "cells": cells}
    outcome = _watch(worker, holder, started, **limits)
    if outcome is None:
        outcome = _ended(box.get("error"), cells, cell_timeout, stop)
        outcome.duration_s = time.monotonic() - started
    if outcome.cell_index is not None and cells.cell_id:
        outcome.cell_index = cells.index_in(target)
    outcome.kernel = _kernel_identity(holder, target)
    return outcome


def _ended(
    error: BaseException | None,
    cells: CellTracker,
    cell_timeout: float | None,
    stop: StopRequest | None,
) -> ExecutionOutcome:
    """The outcome of a Papermill thread that ended by itself."""
    if error is None:
        return ExecutionOutcome(ok=True)  # every cell ran, even if a stop came at the end
    if stop is not None and stop.is_set():
        return _stopped(stop, cells)  # the interrupted cell's error is the stop, not a failure
    return _describe(error, cells, cell_timeout)


def _watch(
    worker: threading.Thread,
    holder: list[Any],
    started: float,
    *,
    run_timeout: float | None,
    dead_grace: float,
    stop: StopRequest | None,
    cells: CellTracker,
) -> ExecutionOutcome | None:
    """Wait for the Papermill thread; the outcome of giving up on it, or None when it ended."""
    dead_since: float | None = None
    while worker.is_alive():
        worker.join(0.2)
        now = time.monotonic()
        if stop is not None and stop.is_set():
            _wind_down(worker, holder)
            if worker.is_alive():
                return _stopped(stop, cells, abandoned=True, duration_s=now - started)
            return None
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


def _wind_down(worker: threading.Thread, holder: list[Any]) -> None:
    """Interrupt the running cell (SIGINT to the kernel); kill the kernel if it does not stop.

    A kernel still starting is interrupted as soon as its process exists; a
    kernel between cells ignores the interrupt, and the stop hook keeps the next
    cell from starting. Papermill saves the notebook with the interrupted cell.
    """
    deadline = time.monotonic() + INTERRUPT_GRACE
    interrupted = False
    while worker.is_alive() and time.monotonic() < deadline:
        interrupted = interrupted or _interrupt(holder)
        worker.join(0.2)
    if worker.is_alive():
        _stop(holder)
        worker.join(INTERRUPT_GRACE)  # papermill notices the dead kernel and saves what ran


def _process(holder: list[Any]) -> Any:
    """The kernel's ``Popen`` (None before it started)."""
    if not holder:
        return None
    return getattr(getattr(holder[0], "provisioner", None), "process", None)


def _interrupt(holder: list[Any]) -> bool:
    """Send SIGINT to a running kernel process; True when one was sent."""
    process = _process(holder)
    if process is None or process.poll() is not None:
        return False
    try:
        process.send_signal(signal.SIGINT)
    except OSError:
        return False
    return True


def _stop(holder: list[Any]) -> None:
    """Kill the kernel process of a run that is being abandoned (best effort)."""
    process = _process(holder)
    if process is not None and process.poll() is None:
        process.kill()
