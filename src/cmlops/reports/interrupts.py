"""Ctrl-C and SIGTERM during a report run: stop the kernel, keep what exists.

Python's default reaction to SIGINT is a ``KeyboardInterrupt`` raised wherever
the main thread happens to be — in the middle of hashing a file, writing the
manifest or appending an audit record — and SIGTERM kills the process outright.
Either would lose the run. While a report runs, :func:`stop_on_signals` turns
both signals into a :class:`StopRequest` instead: the runner's watchdog
interrupts the kernel, no further cell starts, and the package is written with
status ``ABORTED`` and the cells that ran. A signal that arrives while the
package is being written is noted and changes nothing (the package is written
either way, in seconds). Handlers are installed only in the main thread (the
only place Python delivers signals) and the previous ones are restored after.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

#: the signals that stop a run (SIGTERM: a scheduler or a shutdown; SIGINT: Ctrl-C)
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopRequest:
    """A request to stop a run, set from a signal handler or another thread.

    ``notify(signal_name)`` is called once, at the first request (the CLI says
    on stderr that the run is stopping and what will be kept).
    """

    def __init__(self, notify: Callable[[str], None] | None = None) -> None:
        self._event = threading.Event()
        self._notify = notify
        self.reason = ""

    def request(self, reason: str) -> None:
        """Ask the run to stop; only the first reason is kept."""
        if self._event.is_set():
            return
        self.reason = reason
        self._event.set()
        if self._notify is not None:
            try:
                self._notify(reason)
            except Exception:  # noqa: BLE001, S110 - a message is a courtesy, never the run's failure
                pass

    def is_set(self) -> bool:
        return self._event.is_set()


@contextmanager
def stop_on_signals(stop: StopRequest) -> Iterator[StopRequest]:
    """While the block runs, SIGINT and SIGTERM set ``stop`` instead of raising or killing."""
    if threading.current_thread() is not threading.main_thread():
        yield stop  # signals are delivered to the main thread only; nothing to install
        return

    def handler(signum: int, _frame: object) -> None:
        stop.request(signal.Signals(signum).name)

    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    for sig in STOP_SIGNALS:
        signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old if old is not None else signal.SIG_DFL)
