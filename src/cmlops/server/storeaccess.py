"""One lazily opened store for the server, with errors turned into advice for the UI.

The server must start and JupyterLab must keep working when the store is
unreachable or damaged: opening is deferred to the first request, a failure is
reported as ``{"message", "fix"}`` and the next request tries again.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from cmlops.errors import (
    CmlopsError,
    SchemaVersionError,
    StoreCorruptError,
    StoreError,
    StoreNotWritableError,
    StoreUnreachableError,
)

_FIXES: list[tuple[type[BaseException], str]] = [
    (
        StoreUnreachableError,
        "Start the database server or correct CMLOPS_STORE_URL (or c.CmlopsServer.store_url), "
        "then reload the panel.",
    ),
    (
        StoreCorruptError,
        "The store database is damaged or is not a cmlops store: restore it from backup, or "
        "point CMLOPS_HOME at the right .cmlops folder, then restart JupyterLab.",
    ),
    (
        SchemaVersionError,
        "The store was written by another cmlops version: install the matching cmlops "
        "version or migrate the store with the cmlops CLI.",
    ),
    (
        StoreNotWritableError,
        "Give this user write access to the .cmlops folder, or set CMLOPS_HOME to a folder "
        "you can write.",
    ),
    (
        StoreError,
        "Check CMLOPS_HOME / CMLOPS_STORE_URL and that the store folder exists, then reload.",
    ),
]


def advice(error: BaseException) -> dict[str, str]:
    """A one-line message and the fix for the sidebar's error banner."""
    for kind, fix in _FIXES:
        if isinstance(error, kind):
            return {"kind": type(error).__name__, "message": _first_line(error), "fix": fix}
    return {
        "kind": type(error).__name__,
        "message": _first_line(error),
        "fix": "See the Jupyter server log for details.",
    }


def _first_line(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


class StoreUnavailable(CmlopsError):
    """The store could not be opened; carries the advice shown to the user."""

    def __init__(self, cause: BaseException) -> None:
        self.advice = advice(cause)
        super().__init__(self.advice["message"])


class StoreAccess:
    """Opens the store on first use and re-opens it after a failure."""

    def __init__(self, url: str | None, home: Path | None) -> None:
        self.url = url
        self.home = home
        self._store: Any = None
        self._lock = threading.Lock()

    def describe(self) -> str:
        if self.url:
            return "from c.CmlopsServer.store_url"
        if self.home:
            return str(self.home)
        return "from CMLOPS_STORE_URL / CMLOPS_HOME"

    def get(self) -> Any:
        """The open store; raises :class:`StoreUnavailable` with advice when it cannot open."""
        with self._lock:
            if self._store is None:
                from cmlops.store import open_store

                try:
                    self._store = open_store(self.url, home=self.home)
                except (CmlopsError, OSError) as error:
                    raise StoreUnavailable(error) from error
            return self._store

    def run(self, function: Any) -> Any:
        """Call ``function(store)``; a store failure closes the store so the next call retries."""
        store = self.get()
        try:
            return function(store)
        except StoreError as error:
            self.reset()
            raise StoreUnavailable(error) from error

    def reset(self) -> None:
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            try:
                store.close()
            except (CmlopsError, OSError):  # closing a broken store must not mask the error
                pass

    def close(self) -> None:
        self.reset()
