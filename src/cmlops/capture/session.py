"""A kernel's capture session: its store, variable memory, queued facts, warn-once flag.

One :class:`CaptureSession` belongs to one kernel (or one Python process using
the API) and outlives its cells: it opens the store once and notices when the
store vanished or was replaced (warning, then recording into the new one),
queues session facts (extension loaded, autotrack on or off) ahead of the next
record, and turns every failure to record into one warning per session. The
shell holds it (:func:`attach_session`); each cell is a
:class:`cmlops.capture.recorder.CellRecorder` over it.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cmlops.capture.background_writer import BackgroundWriter
from cmlops.capture.environment import kernel_session, notebook_path
from cmlops.capture.errors import TrackingError
from cmlops.capture.hooks import DigestCache
from cmlops.capture.namespace import NamespaceTracker
from cmlops.errors import CmlopsError, StoreReplacedError
from cmlops.fingerprinting import FingerprintOptions
from cmlops.store.model import AuditEvent


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class CaptureSession:
    """Per-kernel capture state: store, variable memory, warn-once flag, clock."""

    shell: Any = None
    store_factory: Callable[[], Any] | None = None
    clock: Callable[[], datetime] = utc_now
    options: FingerprintOptions = field(default_factory=FingerprintOptions.from_env)
    autotrack: bool = False
    background: bool = False  # magics write after the cell returns; the API writes at once
    warned: bool = False
    last_activity: str = ""
    activities: int = 0
    _store: Any = None
    _writable_checked: bool = False
    _pending: list[AuditEvent] = field(default_factory=list)
    tracker: NamespaceTracker = field(init=False)

    def __post_init__(self) -> None:
        self.tracker = NamespaceTracker(self.options)
        self.digests = DigestCache()
        self.writer = BackgroundWriter(self.warn_once)

    def flush(self) -> None:
        """Wait until every queued recording is in the store."""
        self.writer.flush()

    @property
    def store(self) -> Any:
        if self._store is None:
            if self.store_factory is not None:
                self._store = self.store_factory()
            else:
                from cmlops.store import open_store

                self._store = open_store()
        return self._store

    def check_writable(self) -> None:
        """Raise TrackingError unless the store opens and this actor can append to it now."""
        try:
            store = self.store
            check = getattr(store, "check_writable", None)
            if check is not None:
                check()
            else:  # a store-like object given by the caller
                store.head()
        except (CmlopsError, OSError) as exc:
            raise TrackingError(
                f"strict tracking: the cmlops store cannot be written ({exc}); "
                "fix the store (CMLOPS_HOME / CMLOPS_STORE_URL) before running this cell"
            ) from exc

    def live_store(self, strict: bool = False) -> Any:
        """The store, opened now if needed, and still the one that was opened.

        If its folder vanished or was replaced since, this says so here (in the
        cell that notices) and opens the new one — or raises when strict. The
        first time, it also checks that this actor may write (a team role
        without INSERT), so that the cell that could not be recorded says so.
        """
        store = self.store
        try:
            if not self._writable_checked and hasattr(store, "check_writable"):
                store.check_writable()
                self._writable_checked = True
            elif hasattr(store, "check_identity"):
                store.check_identity()
        except StoreReplacedError as error:
            if strict or self.store_factory is not None:
                raise
            return self.reopen_after(error)
        return store

    def note(self, action: str, *, write: bool = False) -> None:
        """Record a session fact (extension loaded, autotrack on/off) with its UTC time.

        Queued, and written ahead of the session's next record; ``write`` sends
        it (and anything queued) to the store now, through the writer thread.
        """
        payload = {"at": self.clock().isoformat(), "notebook": notebook_path(self._namespace())}
        self._pending.append(AuditEvent(action, "session", kernel_session(self.shell), payload))
        if write:
            self.writer.submit(lambda: self.write_pending(self.live_store()))

    def write_pending(self, store: Any) -> list[Any]:
        """Write the queued session facts (call before the session's other records)."""
        events, self._pending = self._pending, []
        if not events or not hasattr(store, "append_many"):
            return []
        try:
            return list(store.append_many(events))
        except BaseException:
            self._pending[:0] = events  # keep them for the next attempt
            raise

    def close_session(self, action: str) -> None:
        """The last fact of a session that recorded something; a silent one leaves none."""
        if self._store is None:
            self._pending.clear()
            return
        self.note(action)
        try:
            self.write_pending(self.live_store())
        except (CmlopsError, OSError) as exc:
            self.warn_once(f"could not record that tracking ended ({exc})")

    def _namespace(self) -> dict[str, Any]:
        return getattr(self.shell, "user_ns", None) or {}

    def reopen_after(self, error: StoreReplacedError) -> Any:
        """The store vanished or was replaced: say so (always) and record into the new one.

        A store given by the caller cannot be re-opened: the error stands.
        """
        if self.store_factory is not None:
            raise error
        warnings.warn(
            f"cmlops: {error} — this session now records into a new store in its place",
            stacklevel=2,
        )
        old, self._store = self._store, None
        self._writable_checked = False
        if old is not None:
            old.close()
        return self.live_store()

    def warn_once(self, message: str) -> None:
        if not self.warned:
            self.warned = True
            warnings.warn(f"cmlops: {message} (further tracking failures are silent)", stacklevel=3)


#: the attribute of an IPython shell that holds its capture session (set by ``%load_ext cmlops``)
_SHELL_ATTR = "_cmlops_capture_session"


def attach_session(shell: Any, session: CaptureSession | None) -> None:
    """Make ``session`` the shell's capture session (``None`` detaches it)."""
    setattr(shell, _SHELL_ATTR, session)


def shell_session(shell: Any) -> CaptureSession | None:
    """The capture session of a shell where the extension is loaded, else ``None``."""
    session = getattr(shell, _SHELL_ATTR, None)
    return session if isinstance(session, CaptureSession) else None


__all__ = ["CaptureSession", "attach_session", "shell_session"]
