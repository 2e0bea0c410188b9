"""One tracked execution: collect what it used and generated, write one batch.

A :class:`CaptureSession` belongs to one kernel (or one Python process using
the API): it holds the store, the variable memory and the warn-once flag.
A :class:`CellRecorder` covers one cell: ``start`` before the code runs,
``finish`` after, which writes *one* ``LineageBatch`` (one transaction).

Never break the notebook: every failure to record is turned into one warning
per session, unless the execution is strict, where the store is checked
*before* the code runs and a failure to record raises :class:`TrackingError`.
"""

from __future__ import annotations

import atexit
import hashlib
import os
import queue
import sys
import threading
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from cmlops._version import __version__
from cmlops.capture.alerts import alert_events, write_alert_events
from cmlops.capture.environment import environment_snapshot, kernel_session, notebook_path
from cmlops.capture.hooks import DigestCache, Hooks, IOLog
from cmlops.capture.namespace import NamespaceTracker, describe, referenced_names
from cmlops.errors import CmlopsError, StoreReplacedError
from cmlops.fingerprinting import FingerprintOptions
from cmlops.store import (
    Activity,
    Agent,
    Associated,
    AuditEvent,
    Derived,
    Entity,
    Generated,
    LineageBatch,
    Used,
)


class TrackingError(CmlopsError):
    """Strict tracking could not record the execution (raised instead of a warning)."""


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class BackgroundWriter:
    """Writes finished batches on one daemon thread, in order.

    Why: the store's commit (an fsync'd SQLite or a PostgreSQL round trip)
    costs milliseconds, and a scientist should not wait for it after every
    cell. Everything that depends on the namespace (fingerprints) is computed
    *before* the batch is queued; only the write is deferred. ``flush`` waits
    for the queue (status, lineage queries, export and interpreter exit call it).
    """

    def __init__(self, on_error: Callable[[str], None]) -> None:
        self._queue: queue.Queue[Callable[[], None]] = queue.Queue()
        self._thread: threading.Thread | None = None
        self._on_error = on_error
        self._errors: list[str] = []

    def submit(self, job: Callable[[], None]) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="cmlops-writer", daemon=True)
            self._thread.start()
            atexit.register(self.flush)
        self._queue.put(job)

    def _run(self) -> None:
        while True:
            job = self._queue.get()
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
            self._queue.join()
        errors, self._errors = self._errors, []
        for message in errors:
            self._on_error(message)


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

    def recorder(self, code: str, **kwargs: Any) -> CellRecorder:
        return CellRecorder(self, code, **kwargs)


class CellRecorder:
    """Records one execution of ``code`` in ``namespace``."""

    def __init__(
        self,
        session: CaptureSession,
        code: str,
        *,
        name: str = "",
        reason: str = "",
        tags: dict[str, str] | None = None,
        strict: bool = False,
        namespace: dict[str, Any] | None = None,
        kind: str = "cell",
        trust_cache: bool = False,
        io_hooks: bool = True,
    ) -> None:
        self.session = session
        self.code = code
        self.name = name
        self.reason = reason
        self.tags = tags or {}
        self.strict = strict
        self.kind = kind
        self.trust_cache = trust_cache
        self.io_hooks = io_hooks
        shell = session.shell
        self.ns = namespace if namespace is not None else getattr(shell, "user_ns", {})
        self.activity_id = f"activity:{uuid.uuid4()}"
        self.notes: list[str] = []
        self.io = IOLog(cache=session.digests)
        self.hooks = Hooks(self.io)
        self.logged: list[tuple[Entity, str]] = []  # (entity, "input"|"output") from log_* calls
        self.started = ""
        self.execution_count: int | None = None
        self._snapshot: Any = None
        self._names: set[str] = set()

    # -- lifecycle
    def start(self) -> None:
        self.session.flush()  # the previous cell's fingerprints first: same namespace state
        if self.strict:
            self.session.check_writable()
        self.started = self.session.clock().isoformat()
        self.execution_count = getattr(self.session.shell, "execution_count", None)
        try:
            source = self.code
            shell = self.session.shell
            if shell is not None and hasattr(shell, "transform_cell"):
                source = shell.transform_cell(source)
            self._names = referenced_names(source)
            self._snapshot = self.session.tracker.before(
                self.ns, self._names, self.notes, self.trust_cache
            )
        except Exception as exc:  # noqa: BLE001 - tracking never stops the cell
            self._fail(exc, before=True)
        if self.io_hooks:
            self.hooks.install()

    def log(self, name: str, obj: Any, role: str) -> Entity | None:
        """Attach an object explicitly (``log_dataset`` / ``log_model``)."""
        observed = describe(name, obj, self.session.options, self.notes)
        if observed is None:
            return None
        self.logged.append((observed.entity, role))
        return observed.entity

    def finish(self, error: BaseException | None = None) -> list[Any]:
        """Restore the hooks and record; returns the audit records written (now).

        In a kernel (``session.background``) the fingerprinting of what the
        cell produced and the store write run on the writer thread after the
        cell's reply: the scientist sees the output at once, and the next cell
        (``pre_run_cell``) waits for them, so no code can change a variable
        before it is fingerprinted. Strict executions record before returning.
        """
        self.hooks.restore()
        ended = self.session.clock().isoformat()
        try:
            store = self.session.live_store(self.strict)  # a broken store warns in this cell
            self.session.last_activity = self.activity_id
            self.session.activities += 1
            if self.session.background and not self.strict:
                # the names as the cell left them (one atomic dict copy): code that runs
                # between cells (widget callbacks) cannot re-bind them under the build
                self.ns = dict(self.ns)
                self.session.writer.submit(lambda: self._write(store, *self._build(error, ended)))
                return []
            return self._write(store, *self._build(error, ended))
        except Exception as exc:  # noqa: BLE001 - turned into a warning or TrackingError
            self._fail(exc, before=False)
            return []

    def _write(self, store: Any, batch: LineageBatch, alerts: list[AuditEvent]) -> list:
        try:
            return self._write_to(store, batch, alerts)
        except StoreReplacedError as exc:
            if self.strict:
                raise
            store = self.session.reopen_after(exc)
            return self._write_to(store, batch, alerts)

    def _write_to(self, store: Any, batch: LineageBatch, alerts: list[AuditEvent]) -> list:
        records = self.session.write_pending(store)  # the session's own facts come first
        records += store.record_lineage(batch)
        return records + write_alert_events(store, alerts)

    def _fail(self, exc: Exception, before: bool) -> None:
        message = f"could not record the {self.kind} ({type(exc).__name__}: {exc})"
        if self.strict:
            self.hooks.restore()
            raise TrackingError(f"strict tracking: {message}") from exc
        self.session.warn_once(message)

    # -- building the batch
    def _build(
        self, error: BaseException | None, ended: str
    ) -> tuple[LineageBatch, list[AuditEvent]]:
        """The cell's lineage batch (one transaction) and its monitor alerts."""
        relations = self._relations()
        env_id, env = environment_snapshot()
        store = self.session.store
        person = Agent(
            id=f"person:{store.actor}",
            kind="person",
            name=store.actor,
            attributes={"actor_source": getattr(store, "actor_source", "")},
        )
        software = Agent(
            id=f"software:cmlops/{__version__}",
            kind="software",
            name="cmlops",
            attributes={"version": __version__, "python": sys.version.split()[0]},
        )
        activity = self._activity(error, ended, env_id)
        alerts = [
            event
            for entity in relations.entities.values()
            if entity.kind == "result" and entity.attributes.get("result_kind") == "monitor"
            for event in alert_events(entity.id, entity.attributes.get("result") or {})
        ]
        batch = LineageBatch(
            entities=list(relations.entities.values()),
            activities=[activity],
            agents=[person, software],
            environments={env_id: env},
            used=relations.used,
            generated=relations.generated,
            derived=relations.derived,
            associated=[
                Associated(activity.id, person.id, "operator"),
                Associated(activity.id, software.id, "tool"),
            ],
            reason=self.reason,
        )
        return batch, alerts

    def _relations(self) -> _Relations:
        """What the cell used and generated: files, variables and explicitly logged objects."""
        self.io.finish()
        relations = _Relations(self.activity_id)
        for event in self.io.events:
            if event.digest:
                relations.add(_file_entity(event), event.role == "input", "input", "output")
        if self._snapshot is not None:
            used_vars, generated_vars = self.session.tracker.after(
                self.ns, self._names, self._snapshot, self.notes
            )
            for observed in used_vars:
                relations.add(observed.entity, True, f"variable:{observed.name}")
            for observed in generated_vars:
                relations.add(observed.entity, False, f"variable:{observed.name}")
        for entity, role in self.logged:
            relations.add(entity, role == "input", "logged")
        return relations.close()

    def _activity(self, error: BaseException | None, ended: str, env_id: str) -> Activity:
        """The activity record of this execution: code, notebook, session, times, status."""
        session = self.session
        code_hash = "sha256:" + hashlib.sha256(self.code.encode("utf-8", "replace")).hexdigest()
        attributes: dict[str, Any] = {"tags": self.tags, "notes": self.notes + self.io.notes}
        if self.reason:
            attributes["reason"] = self.reason
        if session.shell is not None:
            attributes["execution_count"] = self.execution_count
        return Activity(
            id=self.activity_id,
            kind=self.kind,
            name=self.name,
            code=self.code,
            code_hash=code_hash,
            notebook=notebook_path(self.ns),
            session=kernel_session(session.shell),
            started=self.started,
            ended=ended,
            status="ok" if error is None else "error",
            error="" if error is None else f"{type(error).__name__}: {error}".splitlines()[0],
            environment_id=env_id,
            attributes=attributes,
        )


@dataclass
class _Relations:
    """The entities of one execution and how the activity used or generated them."""

    activity_id: str
    entities: dict[str, Entity] = field(default_factory=dict)
    used: list[Used] = field(default_factory=list)
    generated: list[Generated] = field(default_factory=list)
    derived: list[Derived] = field(default_factory=list)

    def add(self, entity: Entity, used: bool, role: str, output_role: str = "") -> None:
        self.entities.setdefault(entity.id, entity)
        if used:
            self.used.append(Used(self.activity_id, entity.id, role))
        else:
            self.generated.append(Generated(entity.id, self.activity_id, output_role or role))

    def close(self) -> _Relations:
        """Duplicates dropped; what was used is not also generated; each output derives from
        each input (cell-level lineage)."""
        self.used = _unique(self.used)
        inputs = {u.entity_id for u in self.used}
        self.generated = _unique([g for g in self.generated if g.entity_id not in inputs])
        self.derived = _unique(
            [
                Derived(g.entity_id, u.entity_id, self.activity_id)
                for g in self.generated
                for u in self.used
            ]
        )
        return self


def _file_entity(event: Any) -> Entity:
    """The entity of a file (or Spark dataset) a hook noted, identified by its digest."""
    attributes = {"via": event.via, **event.attributes}
    if event.kind == "file":
        attributes["size"] = _size(event.path)
    return Entity(
        id=event.digest,
        kind=event.kind,
        name=os.path.basename(event.path.rstrip("/")) or event.path,
        fingerprint=event.digest,
        location=event.path,
        attributes=attributes,
    )


def _unique(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(items))


def _size(path: str) -> int | None:
    try:
        return os.path.getsize(path)
    except OSError:
        return None


#: the attribute of an IPython shell that holds its capture session (set by ``%load_ext cmlops``)
_SHELL_ATTR = "_cmlops_capture_session"


def attach_session(shell: Any, session: CaptureSession | None) -> None:
    """Make ``session`` the shell's capture session (``None`` detaches it)."""
    setattr(shell, _SHELL_ATTR, session)


def shell_session(shell: Any) -> CaptureSession | None:
    """The capture session of a shell where the extension is loaded, else ``None``."""
    session = getattr(shell, _SHELL_ATTR, None)
    return session if isinstance(session, CaptureSession) else None


__all__ = [
    "BackgroundWriter",
    "CaptureSession",
    "CellRecorder",
    "TrackingError",
    "attach_session",
    "shell_session",
]
