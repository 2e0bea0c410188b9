"""The writer thread of a capture session: recorded cells reach the store after the cell.

A store commit (an fsync'd SQLite or a PostgreSQL round trip) costs
milliseconds; a scientist should not wait for it after every cell. Failures
on the thread are kept and reported on the caller's thread at the next
``flush``, where a warning reaches a cell.
"""

from __future__ import annotations

import atexit
import queue
import threading
from collections.abc import Callable

#: a queued job waits this long before it starts, unless someone waits for it (flush)
SETTLE_SECONDS = 0.005


class BackgroundWriter:
    """Writes finished batches on one daemon thread, in order.

    Why: the store's commit (an fsync'd SQLite or a PostgreSQL round trip)
    costs milliseconds, and a scientist should not wait for it after every
    cell. A job fingerprints what its cell produced (from a copy of the names
    the cell left) and writes the batch; the next cell's ``pre_run_cell``
    flushes first, so no code changes a variable before it is fingerprinted.
    ``flush`` waits for the queue (the next cell, status, lineage queries,
    export and interpreter exit call it).

    A job starts ``SETTLE_SECONDS`` after it is queued, or at once when ``flush``
    waits for it: the write is Python work that holds the GIL, and started at
    the end of a cell it delayed the kernel's own reply and idle message by up to
    one GIL switch interval (5 ms) each — the scientist waited for the write
    after all (``benchmarks/bench_tracking.py`` measures request-to-idle).
    """

    def __init__(self, on_error: Callable[[str], None]) -> None:
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._on_error = on_error
        self._errors: list[str] = []
        self._waited_for = threading.Event()

    def submit(self, job: Callable[[], None]) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="cmlops-writer", daemon=True)
            self._thread.start()
            atexit.register(self.flush)
        self._queue.put(job)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
            self._waited_for.wait(SETTLE_SECONDS)
            try:
                job()
            except Exception as exc:  # noqa: BLE001 - reported once, never raised into a cell
                self._errors.append(f"could not record a cell ({type(exc).__name__}: {exc})")
            finally:
                self._queue.task_done()

    def flush(self) -> None:
        """Wait for the queue, then report its failures on *this* (the caller's) thread.

        A warning raised on the writer thread reaches no cell in a kernel; the
        next cell's ``pre_run_cell`` flushes, so a failure is shown there.
        """
        if self._thread is not None:
            self._waited_for.set()
            try:
                self._queue.join()
            finally:
                self._waited_for.clear()
        errors, self._errors = self._errors, []
        for message in errors:
            self._on_error(message)
